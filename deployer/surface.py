"""The configuration surface as one table: input -> API member -> how Lambda compares it -> how it is shown (pure).

Contract: each ``Row`` names an action input, the member of UpdateFunctionConfiguration's
request it sets (a path: ``("VpcConfig", "SubnetIds")``), its form, what Lambda reports when
nobody set it, and whether ``none`` removes it. Everything else reads the rows:
``parse`` validates a given value against botocore's model for that member (pattern,
length, range, allowed values, list size) before any call; ``changes`` compares the given
values with a function's configuration as Lambda reports it and returns the request members
to send and the changes to show; ``create_members`` gives CreateFunction's; the deploy-file
schema, the CLI flags and ``init`` take their names and forms from here too.

How Lambda compares: subnets and security groups are sets (another order is no change);
what Lambda fills in itself (``VpcId``, the default ``LoggingConfig`` with log group
``/aws/lambda/NAME``, ``EphemeralStorage`` 512, ``TracingConfig`` PassThrough) is the
``default`` of a row, so reading it back is no difference. A setting that is not given is
left alone; a structure that changes is sent whole, the function's current members kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .limits import api_field, service_model

REMOVE = "none"
LIST_FORMS = frozenset({"list", "set", "mounts"})


@dataclass(frozen=True)
class Row:
    input: str
    path: tuple[str, ...]  # the member of UpdateFunctionConfiguration's (and CreateFunction's) request
    form: str  # text | integer | boolean | list (ordered) | set (order does not matter) | mounts (ARN=/mnt/path lines)
    default: Any  # what Lambda reports when nothing was set; "{name}" is the function's name
    removable: bool = False  # "none" removes it (sends the default)
    read: tuple[str, ...] = ()  # where GetFunctionConfiguration reports it, when not at ``path``

    @property
    def reported_at(self) -> tuple[str, ...]:
        return self.read or self.path


_IMAGE = ("ImageConfigResponse", "ImageConfig")
ROWS: tuple[Row, ...] = (
    Row("subnet-ids", ("VpcConfig", "SubnetIds"), "set", [], removable=True),
    Row("security-group-ids", ("VpcConfig", "SecurityGroupIds"), "set", [], removable=True),
    Row("ipv6-dual-stack", ("VpcConfig", "Ipv6AllowedForDualStack"), "boolean", False),
    Row("dead-letter-target", ("DeadLetterConfig", "TargetArn"), "text", "", removable=True),
    Row("tracing", ("TracingConfig", "Mode"), "text", "PassThrough"),
    Row("kms-key-arn", ("KMSKeyArn",), "text", "", removable=True),
    Row("ephemeral-storage", ("EphemeralStorage", "Size"), "integer", 512),
    Row("file-systems", ("FileSystemConfigs",), "mounts", [], removable=True),
    Row("log-format", ("LoggingConfig", "LogFormat"), "text", "Text"),
    Row("application-log-level", ("LoggingConfig", "ApplicationLogLevel"), "text", "", removable=True),
    Row("system-log-level", ("LoggingConfig", "SystemLogLevel"), "text", "", removable=True),
    Row("log-group", ("LoggingConfig", "LogGroup"), "text", "/aws/lambda/{name}"),
    Row("image-entrypoint", ("ImageConfig", "EntryPoint"), "list", [], removable=True, read=(*_IMAGE, "EntryPoint")),
    Row("image-command", ("ImageConfig", "Command"), "list", [], removable=True, read=(*_IMAGE, "Command")),
    Row("image-working-directory", ("ImageConfig", "WorkingDirectory"), "text", "", removable=True, read=(*_IMAGE, "WorkingDirectory")),
)
BY_INPUT: Mapping[str, Row] = {row.input: row for row in ROWS}
# Log levels apply to JSON logs only: Lambda refuses them with the Text format.
JSON_ONLY = ("ApplicationLogLevel", "SystemLogLevel")
# Either list set to none detaches the function from its VPC: Lambda takes both empty, or neither.
DETACH = ("SubnetIds", "SecurityGroupIds")


def member_shape(path: tuple[str, ...], operation: str = "UpdateFunctionConfiguration") -> Any:
    shape = service_model("lambda").operation_model(operation).input_shape
    for name in path:
        shape = shape.members[name]
    return shape


# --- parsing (settings) --------------------------------------------------------------


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip() and not line.strip().startswith("#")]


def _check(shape: Any, value: str) -> str | int:
    return api_field("lambda", shape.name).check(value)


def parse(row: Row, raw: str) -> Any:
    """The value to send for ``raw``; ValueError says what is wrong and what is allowed."""
    if raw.strip().lower() == REMOVE:
        if not row.removable:
            raise ValueError(f"'{REMOVE}' cannot remove this setting; give a value")
        return [] if row.form in LIST_FORMS else row.default
    shape = member_shape(row.path)
    if row.form == "boolean":
        if raw.lower() not in ("true", "false"):
            raise ValueError(f"'{raw}' is not a boolean; use true or false")
        return raw.lower() == "true"
    if row.form in ("text", "integer"):
        return _check(shape, raw.strip())
    items = _lines(raw)
    limit = shape.metadata.get("max")
    if limit is not None and len(items) > limit:
        raise ValueError(f"{len(items)} given; Lambda takes at most {limit}")
    if row.form == "mounts":
        return [_mount(shape.member, line) for line in items]
    return [str(_check(shape.member, item)) for item in items]


def _mount(shape: Any, line: str) -> dict[str, str]:
    arn, equals, path = line.partition("=")
    if not equals:
        raise ValueError(f"'{line}' is not ACCESS_POINT_ARN=/mnt/path")
    return {
        "Arn": str(_check(shape.members["Arn"], arn.strip())),
        "LocalMountPath": str(_check(shape.members["LocalMountPath"], path.strip())),
    }


# --- comparing (planner) -------------------------------------------------------------


def reported(row: Row, configuration: Mapping[str, Any], function_name: str) -> Any:
    """What the function has for ``row``, as Lambda reports it, with Lambda's own default."""
    value: Any = configuration
    for name in row.reported_at:
        value = value.get(name) if isinstance(value, Mapping) else None
        if value is None:
            break
    if value is None or value == "":
        default = row.default
        return default.format(name=function_name) if isinstance(default, str) else default
    return value


def normal(row: Row, value: Any) -> Any:
    """``value`` as Lambda compares it."""
    if row.form == "set":
        return sorted(value)
    if row.form == "mounts":
        return sorted((item["Arn"], item["LocalMountPath"]) for item in value)
    if row.form == "list":
        return list(value)
    if row.form == "boolean":
        return bool(value)
    return value


def show(row: Row, value: Any) -> str:
    if row.form == "mounts":
        return ", ".join(f"{item['Arn']}={item['LocalMountPath']}" for item in value) or "(none)"
    if row.form in LIST_FORMS:
        return ", ".join(str(item) for item in normal(row, value)) or "(none)"
    if row.form == "boolean":
        return "true" if value else "false"
    return str(value) if value not in ("", None) else "(none)"


def changes(
    given: Mapping[str, Any], configuration: Mapping[str, Any], function_name: str
) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    """The request members to send and the (input, before, after) changes, for the given inputs
    that differ from ``configuration``. A structure is sent whole: what the function has, with
    every given value over it."""
    differing = [
        (row, show(row, reported(row, configuration, function_name)), show(row, given[row.input]))
        for row in ROWS
        if row.input in given and normal(row, given[row.input]) != normal(row, reported(row, configuration, function_name))
    ]
    members = {row.path[0] for row, _, _ in differing}
    params = {member: _member(member, given, configuration, function_name) for member in sorted(members)}
    return params, [(row.input, before, after) for row, before, after in differing]


def create_members(given: Mapping[str, Any], function_name: str) -> dict[str, Any]:
    """CreateFunction's members for the given inputs (removals are simply not sent)."""
    wanted = {name: value for name, value in given.items() if name in BY_INPUT and value not in ("", [])}
    return {member: _member(member, wanted, {}, function_name) for member in sorted({BY_INPUT[name].path[0] for name in wanted})}


def _member(member: str, given: Mapping[str, Any], configuration: Mapping[str, Any], function_name: str) -> Any:
    rows = [row for row in ROWS if row.path[0] == member]
    if len(rows) == 1 and len(rows[0].path) == 1:
        (row,) = rows
        return given[row.input] if row.input in given else reported(row, configuration, function_name)
    sent: dict[str, Any] = {}
    for row in rows:
        value = given[row.input] if row.input in given else reported(row, configuration, function_name)
        if value not in ("", None):
            sent[row.path[1]] = value
    if member == "LoggingConfig" and sent.get("LogFormat") == "Text":
        for level in JSON_ONLY:
            sent.pop(level, None)
    if member == "VpcConfig" and any(given.get(name) == [] for name in ("subnet-ids", "security-group-ids")):
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
