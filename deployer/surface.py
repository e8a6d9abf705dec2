"""Every configuration setting of a function as one table: input -> API member -> how Lambda compares it -> how it is shown (pure).

Contract: each ``Row`` names an action input (also the deploy file's key and the CLI's
``--flag``), the member of CreateFunction's and UpdateFunctionConfiguration's request it
sets (a path: ``("VpcConfig", "SubnetIds")``), its form, what Lambda reports when nobody set
it, whether ``none`` removes it, and whether it is part of what a published version holds
(``versioned``: the description is the function's own, a version's is its audit note).
Everything else reads the rows: ``parse`` validates a given value against botocore's model
for that member (pattern, length, range, allowed values, list size) before any call;
``differences`` compares wanted values with a configuration as Lambda reports it;
``request`` gives the UpdateFunctionConfiguration members that make a configuration hold
the wanted values; ``create_members`` gives CreateFunction's; the deploy-file schema, the
CLI flags and ``init`` take their names and forms from here too. The environment is the one
setting with a form of its own (merged with what the function has, values never shown); it
is compared by the planner, beside these rows.

How Lambda compares: subnets and security groups are sets (another order is no change);
what Lambda fills in itself (``VpcId``, the default ``LoggingConfig`` with log group
``/aws/lambda/NAME``, ``EphemeralStorage`` 512, ``TracingConfig`` PassThrough, memory 128,
timeout 3) is the ``default`` of a row, so reading it back is no difference. A setting that
is not given is left alone; a structure that changes is sent whole, the function's current
members kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .limits import DOCUMENTED_MAX_TIMEOUT, api_field, service_model

REMOVE = "none"
LIST_FORMS = frozenset({"list", "set", "mounts"})


@dataclass(frozen=True)
class Row:
    input: str
    path: tuple[str, ...]  # the member of UpdateFunctionConfiguration's (and CreateFunction's) request
    # text | integer | number | boolean | switch (a boolean input that sends ``on`` or the default)
    # | list (ordered) | set (order does not matter) | mounts (ARN=/mnt/path lines) | one (a one-item list in the API)
    form: str
    default: Any  # what Lambda reports when nothing was set; "{name}" is the function's name
    removable: bool = False  # "none" removes it (sends the default)
    read: tuple[str, ...] = ()  # where GetFunctionConfiguration reports it, when not at ``path``
    versioned: bool = True  # part of what PublishVersion snapshots
    unit: str = ""  # for messages: "MB", "seconds"
    item_key: str = ""  # a list Lambda reports as objects (Layers: [{"Arn": ...}]): the key that holds the value
    on: str = ""  # switch: the value ``true`` sends
    documented_max: float | None = None  # where a botocore release leaves the maximum out of its model
    create_only: bool = False  # Lambda takes it on CreateFunction only
    with_code: bool = False  # sent with the code (UpdateFunctionCode), not the configuration
    example: str = ""
    templated: bool = False  # may hold {region} and {account}: each target of a wave fills them in

    @property
    def reported_at(self) -> tuple[str, ...]:
        return self.read or self.path


_IMAGE = ("ImageConfigResponse", "ImageConfig")
_MANAGED = ("CapacityProviderConfig", "LambdaManagedInstancesCapacityProviderConfig")
ROWS: tuple[Row, ...] = (
    Row("handler", ("Handler",), "text", "", example="app.handler"),
    Row("runtime", ("Runtime",), "text", ""),
    Row("role", ("Role",), "text", "", example="arn:aws:iam::123456789012:role/my-role", templated=True),
    Row("architecture", ("Architectures",), "one", "x86_64", with_code=True),
    Row("memory", ("MemorySize",), "integer", 128, unit="MB"),
    Row("timeout", ("Timeout",), "integer", 3, unit="seconds", documented_max=DOCUMENTED_MAX_TIMEOUT),
    Row("description", ("Description",), "text", "", versioned=False),
    Row(
        "layers",
        ("Layers",),
        "list",
        [],
        removable=True,
        item_key="Arn",
        documented_max=5,  # Lambda's quota: five layers a function (the model sets no maximum)
        example="arn:aws:lambda:eu-west-1:123456789012:layer:NAME:VERSION",
    ),
    Row("snapstart", ("SnapStart", "ApplyOn"), "switch", "None", on="PublishedVersions"),
    Row("subnet-ids", ("VpcConfig", "SubnetIds"), "set", [], removable=True),
    Row("security-group-ids", ("VpcConfig", "SecurityGroupIds"), "set", [], removable=True),
    Row("ipv6-dual-stack", ("VpcConfig", "Ipv6AllowedForDualStack"), "boolean", False),
    Row("dead-letter-target", ("DeadLetterConfig", "TargetArn"), "text", "", removable=True),
    Row("tracing", ("TracingConfig", "Mode"), "text", "PassThrough"),
    Row("kms-key-arn", ("KMSKeyArn",), "text", "", removable=True),
    Row("ephemeral-storage", ("EphemeralStorage", "Size"), "integer", 512, unit="MB"),
    Row("file-systems", ("FileSystemConfigs",), "mounts", [], removable=True),
    Row("log-format", ("LoggingConfig", "LogFormat"), "text", "Text"),
    Row("application-log-level", ("LoggingConfig", "ApplicationLogLevel"), "text", "", removable=True),
    Row("system-log-level", ("LoggingConfig", "SystemLogLevel"), "text", "", removable=True),
    Row("log-group", ("LoggingConfig", "LogGroup"), "text", "/aws/lambda/{name}"),
    Row("image-entrypoint", ("ImageConfig", "EntryPoint"), "list", [], removable=True, read=(*_IMAGE, "EntryPoint")),
    Row("image-command", ("ImageConfig", "Command"), "list", [], removable=True, read=(*_IMAGE, "Command")),
    Row("image-working-directory", ("ImageConfig", "WorkingDirectory"), "text", "", removable=True, read=(*_IMAGE, "WorkingDirectory")),
    Row(
        "capacity-provider-arn",
        (*_MANAGED, "CapacityProviderArn"),
        "text",
        "",
        example="arn:aws:lambda:eu-west-1:123456789012:capacity-provider:orders",
    ),
    Row("capacity-provider-concurrency", (*_MANAGED, "PerExecutionEnvironmentMaxConcurrency"), "integer", None, unit="requests"),
    Row("capacity-provider-memory-per-vcpu", (*_MANAGED, "ExecutionEnvironmentMemoryGiBPerVCpu"), "number", None, unit="GiB"),
    Row("durable-retention-days", ("DurableConfig", "RetentionPeriodInDays"), "integer", None, unit="days"),
    Row("durable-execution-timeout", ("DurableConfig", "ExecutionTimeout"), "integer", None, unit="seconds"),
    Row("tenant-isolation-mode", ("TenancyConfig", "TenantIsolationMode"), "text", "", create_only=True),
)
BY_INPUT: Mapping[str, Row] = {row.input: row for row in ROWS}
# Log levels apply to JSON logs only: Lambda refuses them with the Text format.
JSON_ONLY = ("ApplicationLogLevel", "SystemLogLevel")
# Either list set to none detaches the function from its VPC: Lambda takes both empty, or neither.
DETACH = ("SubnetIds", "SecurityGroupIds")


def member_shape(path: tuple[str, ...], operation: str = "CreateFunction") -> Any:
    shape = service_model("lambda").operation_model(operation).input_shape
    for name in path:
        shape = shape.members[name]
    return shape


# --- parsing (settings) --------------------------------------------------------------


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip() and not line.strip().startswith("#")]


def _check(row: Row, shape: Any, value: str) -> str | int | float:
    if shape.type_name in ("double", "float"):
        return _number(shape, value, row.unit)
    documented = row.documented_max if shape.type_name != "list" and row.form in ("text", "integer") else None
    return api_field("lambda", shape.name, documented).check(value, row.unit)


def _number(shape: Any, value: str, unit: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"'{value[:80]}' is not a number" + (f" of {unit}" if unit else "")) from None
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if (low is not None and number < low) or (high is not None and number > high):
        raise ValueError(f"{number:g} is outside the allowed range {low:g}..{high:g}" + (f" {unit}" if unit else ""))
    return number


# What a template's placeholders stand for while it is checked (each target sends its own).
TEMPLATE_SAMPLE = {"region": "us-east-1", "account": "123456789012"}


def fill(template: str, values: Mapping[str, str]) -> str:
    """``{region}`` and ``{account}`` filled in; ValueError for any other placeholder."""
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        raise ValueError(f"'{template}' may hold only {{region}} and {{account}} as placeholders") from None


def parse(row: Row, raw: str) -> Any:
    """The value to send for ``raw``; ValueError says what is wrong and what is allowed."""
    if raw.strip().lower() == REMOVE:
        if not row.removable:
            raise ValueError(f"'{REMOVE}' cannot remove this setting; give a value")
        return [] if row.form in LIST_FORMS else row.default
    shape = member_shape(row.path)
    if row.templated:  # checked as a target will send it; the template is kept for the target to fill in
        _check(row, shape, fill(raw.strip(), TEMPLATE_SAMPLE))
        return raw.strip()
    if row.form in ("boolean", "switch"):
        if raw.lower() not in ("true", "false"):
            raise ValueError(f"'{raw}' is not a boolean; use true or false")
        if row.form == "switch":
            return row.on if raw.lower() == "true" else row.default
        return raw.lower() == "true"
    if row.form in ("text", "integer", "number"):
        return _check(row, shape, raw.strip())
    if row.form == "one":
        return str(_check(row, shape.member, raw.strip()))
    items = _lines(raw)
    limit = shape.metadata.get("max", row.documented_max)
    if limit is not None and len(items) > limit:
        named = f" {row.input}" if row.item_key else ""  # "6 layers given"
        raise ValueError(f"{len(items)}{named} given; Lambda allows at most {limit:g}")
    if row.form == "mounts":
        return [_mount(row, shape.member, line) for line in items]
    return [str(_check(row, shape.member, item)) for item in items]


def _mount(row: Row, shape: Any, line: str) -> dict[str, str]:
    arn, equals, path = line.partition("=")
    if not equals:
        raise ValueError(f"'{line}' is not ACCESS_POINT_ARN=/mnt/path")
    return {
        "Arn": str(_check(row, shape.members["Arn"], arn.strip())),
        "LocalMountPath": str(_check(row, shape.members["LocalMountPath"], path.strip())),
    }


# --- comparing (planner) -------------------------------------------------------------


def reported(row: Row, configuration: Mapping[str, Any], function_name: str) -> Any:
    """What the function has for ``row``, as Lambda reports it, with Lambda's own default."""
    value: Any = configuration
    for name in row.reported_at:
        value = value.get(name) if isinstance(value, Mapping) else None
        if value is None:
            break
    if row.form == "one" and isinstance(value, list):
        value = value[0] if value else None
    if row.item_key and isinstance(value, list):
        value = [item[row.item_key] if isinstance(item, Mapping) else item for item in value]
    if value is None or value == "":
        default = row.default
        return default.format(name=function_name) if isinstance(default, str) else default
    return value


def normal(row: Row, value: Any) -> Any:
    """``value`` as Lambda compares it."""
    if value is None:
        return None
    if row.form == "set":
        return sorted(value)
    if row.form == "mounts":
        return sorted((item["Arn"], item["LocalMountPath"]) for item in value)
    if row.form == "list":
        return list(value)
    if row.form == "boolean":
        return bool(value)
    if row.form == "number":
        return float(value)
    return value


def show(row: Row, value: Any) -> str:
    if row.form == "mounts":
        return ", ".join(f"{item['Arn']}={item['LocalMountPath']}" for item in value) or "(none)"
    if row.form in LIST_FORMS:
        return ", ".join(str(item) for item in normal(row, value)) or "(none)"
    if row.form == "boolean":
        return "true" if value else "false"
    if row.form == "switch":
        return "on" if value == row.on else "off"
    if row.form == "number" and value is not None:
        return f"{float(value):g}"
    return str(value) if value not in ("", None) else "(none)"


def differences(
    wanted: Mapping[str, Any], configuration: Mapping[str, Any], function_name: str, rows: Iterable[Row] = ROWS
) -> list[tuple[Row, str, str]]:
    """(row, before, after) for each row in ``wanted`` whose value ``configuration`` does not hold."""
    return [
        (row, show(row, reported(row, configuration, function_name)), show(row, wanted[row.input]))
        for row in rows
        if row.input in wanted and normal(row, wanted[row.input]) != normal(row, reported(row, configuration, function_name))
    ]


def request(wanted: Mapping[str, Any], configuration: Mapping[str, Any], function_name: str, rows: Iterable[Row]) -> dict[str, Any]:
    """UpdateFunctionConfiguration's members that give ``configuration`` the wanted values of
    ``rows``. A structure is sent whole: what the function has, with every wanted value over it."""
    members = {row.path[0] for row in rows if not row.with_code}
    return {member: _member(member, wanted, configuration, function_name) for member in sorted(members)}


def create_members(given: Mapping[str, Any], function_name: str) -> dict[str, Any]:
    """CreateFunction's members for the given inputs (removals are simply not sent)."""
    wanted = {name: value for name, value in given.items() if name in BY_INPUT and value not in ("", [], None)}
    members = {BY_INPUT[name].path[0] for name in wanted if not BY_INPUT[name].with_code}
    return {member: _member(member, wanted, {}, function_name) for member in sorted(members)}


def _member(member: str, wanted: Mapping[str, Any], configuration: Mapping[str, Any], function_name: str) -> Any:
    rows = [row for row in ROWS if row.path[0] == member]
    if len(rows) == 1 and len(rows[0].path) == 1:
        (row,) = rows
        return wanted[row.input] if row.input in wanted else reported(row, configuration, function_name)
    sent: dict[str, Any] = {}
    for row in rows:
        value = wanted[row.input] if row.input in wanted else reported(row, configuration, function_name)
        if value not in ("", None):
            place = sent
            for name in row.path[1:-1]:
                place = place.setdefault(name, {})
            place[row.path[-1]] = value
    if member == "LoggingConfig" and sent.get("LogFormat") == "Text":
        for level in JSON_ONLY:
            sent.pop(level, None)
    if member == "VpcConfig" and any(wanted.get(name) == [] for name in ("subnet-ids", "security-group-ids")):
        sent.update({key: [] for key in DETACH})
        sent.pop("Ipv6AllowedForDualStack", None)
    return sent


def logging_problem(given: Mapping[str, Any], configuration: Mapping[str, Any], function_name: str) -> str:
    """A log level with Text logs, which Lambda refuses; "" when none."""
    levels = [name for name in ("application-log-level", "system-log-level") if given.get(name)]
    log_format = given.get("log-format") or reported(BY_INPUT["log-format"], configuration, function_name)
    if levels and log_format != "JSON":
        return f"{' and '.join(levels)} apply to JSON logs only; the log format is {log_format}: set log-format: JSON"
    return ""
