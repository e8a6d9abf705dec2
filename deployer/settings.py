"""Inputs -> one frozen, validated ``Settings`` (the pipeline's first stage).

Contract: ``load_settings(inputs, env)`` takes the action's inputs by id (the same ids
as action.yml and the CLI's ``--flags``; empty means "not given") and the process
environment, and either returns a ``Settings`` or raises ``DeployError`` listing
*every* problem found. Nothing here talks to AWS, so every user error surfaces before
the first mutating call. Environment values never appear in a problem's text.
"""

from __future__ import annotations

import contextlib
import json
import re
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from .bounded import load_json, load_yaml
from .errors import DeployError, Problem
from .limits import (
    DOCUMENTED_MAX_TIMEOUT,
    ENV_TOTAL_BYTES,
    RESERVED_ENV_KEYS,
    RESERVED_ENV_PREFIX,
    ApiField,
    api_field,
    full_match,
    snapstart_problem,
)
from .masking import values_to_mask
from .naming import alias_from_ref, alias_problem, ref_from_env, session_name
from .ownership import Owner
from .schedule import ALL_AT_ONCE, Strategy, parse_canary_weight, parse_duration, parse_strategy, parse_weight

T = TypeVar("T")

ENVIRONMENT_MODES = ("merge", "replace")
ALWAYS_EXCLUDED = (".git/", "__pycache__/", "*.pyc")
DEFAULT_WAIT_TIMEOUT = 300
DEFAULT_PRUNE_GRACE = 3600.0
MAX_LAYERS = 5
PLAIN_NAME_MAX = 64
REMOVE = "none"  # reserved-concurrency: none removes it
S3_PREFIX_MAX = 900  # S3Key allows 1024; the prefix leaves room for the hash and ".zip"
MAX_PARALLEL = 32
MAX_DEPLOYMENT_ALARMS = 10  # CodeDeploy's limit on the alarms of a deployment (overrideAlarmConfiguration)
MAX_PROVISIONED = 100_000  # above any account's concurrency; Lambda itself refuses what the account lacks
_REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+\Z")
_KEY_VALUE_LINE = re.compile(r"^\s*([^=\s][^=]*?)\s*=(.*)$")

# Defaults as action.yml declares them; a test keeps the two in step.
DEFAULTS: Mapping[str, str] = {
    "source": ".",
    "environment-mode": "merge",
    "dry-run": "false",
    "wait-timeout": str(DEFAULT_WAIT_TIMEOUT),
    "strategy": "all-at-once",
    "command": "deploy",
    "min-invocations": "20",
    "health-interval": "10",
    "engine": "native",
    "function-url": "none",
    "keep-versions": "0",
    "audience": "sts.amazonaws.com",
    "comment": "false",
    "s3-key-prefix": "lambda-deploy/",
    "max-parallel": "4",
    "fail-fast": "false",
    "prune-grace": "1h",
}
COMMANDS = ("deploy", "promote", "rollback", "cleanup", "list")
FUNCTION_URLS = ("none", "aws-iam", "public")
DEFAULT_ROLE_DURATION = 3600
PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")
ENGINES = ("native", "codedeploy")

# Every input id the action accepts, in the order the README documents them.
INPUT_IDS = (
    "function-name",
    "source",
    "exclude",
    "requirements",
    "handler",
    "runtime",
    "role",
    "architecture",
    "memory",
    "timeout",
    "description",
    "layers",
    "environment",
    "environment-mode",
    "tags",
    "alias",
    "dry-run",
    "aws-region",
    "wait-timeout",
    "strategy",
    "canary-weight",
    "command",
    "to-version",
    "alarms",
    "max-error-rate",
    "min-invocations",
    "health-interval",
    "smoke-payload",
    "smoke-expect",
    "engine",
    "codedeploy-application",
    "codedeploy-group",
    "before-traffic-hook",
    "after-traffic-hook",
    "function-url",
    "keep-versions",
    "prune-grace",
    "role-to-assume",
    "role-session-name",
    "role-duration-seconds",
    "audience",
    "github-token",
    "comment",
    "provisioned-concurrency",
    "reserved-concurrency",
    "snapstart",
    "s3-bucket",
    "s3-key-prefix",
    "config",
    "only",
    "max-parallel",
    "fail-fast",
    "previous-alias",
)

# Inputs that reach an AWS API as they are: each value is checked against that member's
# length, range, pattern and allowed values in botocore's service model. List inputs
# (layers, alarms) are checked line by line.
API_FIELDS: Mapping[str, tuple[str, str]] = {
    "function-name": ("lambda", "FunctionName"),
    "handler": ("lambda", "Handler"),
    "runtime": ("lambda", "Runtime"),
    "role": ("lambda", "RoleArn"),
    "architecture": ("lambda", "Architecture"),
    "memory": ("lambda", "MemorySize"),
    "timeout": ("lambda", "Timeout"),
    "description": ("lambda", "Description"),
    "layers": ("lambda", "LayerVersionArn"),
    "alias": ("lambda", "Alias"),
    "to-version": ("lambda", "Version"),
    "alarms": ("cloudwatch", "AlarmName"),
    "codedeploy-application": ("codedeploy", "ApplicationName"),
    "codedeploy-group": ("codedeploy", "DeploymentGroupName"),
    "before-traffic-hook": ("lambda", "FunctionName"),
    "after-traffic-hook": ("lambda", "FunctionName"),
    "role-to-assume": ("sts", "arnType"),
    "role-session-name": ("sts", "roleSessionNameType"),
    "role-duration-seconds": ("sts", "roleDurationSecondsType"),
    "reserved-concurrency": ("lambda", "ReservedConcurrentExecutions"),
    "previous-alias": ("lambda", "Alias"),
    "s3-bucket": ("lambda", "S3Bucket"),
}
# Where a botocore release leaves a maximum out of its model, Lambda's documented one.
DOCUMENTED_MAX = {"timeout": DOCUMENTED_MAX_TIMEOUT}
UNITS = {"memory": "MB", "timeout": "seconds", "role-duration-seconds": "seconds"}
EXAMPLES = {
    "function-name": "orders-api, or arn:aws:lambda:eu-west-1:123456789012:function:orders-api",
    "handler": "app.handler",
    "role": "arn:aws:iam::123456789012:role/my-role",
    "layers": "arn:aws:lambda:eu-west-1:123456789012:layer:NAME:VERSION",
    "to-version": "41",
    "before-traffic-hook": "CodeDeployHook_orders_api_pretraffic",
    "after-traffic-hook": "CodeDeployHook_orders_api_posttraffic",
    "role-to-assume": "arn:aws:iam::123456789012:role/github-deploy",
    "role-session-name": "deploy-orders-4242",
    "s3-bucket": "my-deploy-artifacts",
}

# The YAML/JSON form of `environment`: a flat mapping of names to scalars.
ENVIRONMENT_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": {"type": ["string", "number", "boolean"]},
}


@dataclass(frozen=True)
class GitContext:
    """Who and what triggered the deploy; recorded in the audit trail."""

    sha: str = ""
    ref: str = ""
    run_id: str = ""
    actor: str = ""
    repository: str = ""
    server_url: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> GitContext:
        return cls(
            sha=env.get("GITHUB_SHA", ""),
            ref=ref_from_env(env),
            run_id=env.get("GITHUB_RUN_ID", ""),
            actor=env.get("GITHUB_ACTOR", ""),
            repository=env.get("GITHUB_REPOSITORY", ""),
            server_url=env.get("GITHUB_SERVER_URL", ""),
        )


@dataclass(frozen=True)
class FunctionSettings:
    """Desired function configuration; ``None`` means "not given, leave as is"."""

    handler: str | None = None
    runtime: str | None = None
    role: str | None = None
    architecture: str | None = None
    memory: int | None = None
    timeout: int | None = None
    description: str | None = None
    layers: tuple[str, ...] | None = None
    environment: Mapping[str, str] | None = None
    environment_mode: str = "merge"
    tags: Mapping[str, str] = field(default_factory=dict)
    snapstart: bool | None = None
    reserved_concurrency: int | None = None  # function-wide; see remove_reserved_concurrency
    remove_reserved_concurrency: bool = False  # reserved-concurrency: none


@dataclass(frozen=True)
class RolloutSettings:
    """How traffic moves to the new version, and what proves it healthy."""

    command: str = "deploy"
    strategy: Strategy = ALL_AT_ONCE
    canary_weight: float | None = None  # one-shot canary: shift this share, then stop
    to_version: str | None = None
    to_alias: str | None = None  # rollback to wherever this alias points (blue/green: previous)
    previous_alias: str | None = None  # keeps the version the main alias leaves
    provisioned_concurrency: int | None = None  # on the alias; 0 removes it
    alarms: tuple[str, ...] = ()
    max_error_rate: float | None = None
    min_invocations: int = 20
    health_interval: float = 10.0
    smoke_payload: str | None = None  # JSON text, sent as is
    smoke_expect: Any = None  # parsed JSON that the smoke response must contain
    engine: str = "native"
    codedeploy_application: str | None = None
    codedeploy_group: str | None = None
    before_traffic_hook: str | None = None
    after_traffic_hook: str | None = None


@dataclass(frozen=True)
class OidcCredentials:
    """Assume ``role_arn`` with GitHub's OIDC token instead of using ambient credentials."""

    role_arn: str
    session_name: str
    duration: int
    audience: str
    request_url: str  # ACTIONS_ID_TOKEN_REQUEST_URL
    request_token: str = field(repr=False)  # ACTIONS_ID_TOKEN_REQUEST_TOKEN: a secret


@dataclass(frozen=True)
class CommentTarget:
    """The pull request whose preview comment this run creates or updates."""

    api_url: str
    repository: str
    number: int
    token: str = field(repr=False)


@dataclass(frozen=True)
class Settings:
    function_name: str
    source: Path
    exclude: tuple[str, ...]
    requirements: Path | None
    function: FunctionSettings
    alias: str
    dry_run: bool
    region: str
    wait_timeout: int
    git: GitContext
    rollout: RolloutSettings = field(default_factory=RolloutSettings)
    function_url: str = "none"  # none | aws-iam | public
    keep_versions: int = 0  # 0: prune nothing
    credentials: OidcCredentials | None = None  # None: the ambient AWS credentials
    comment: CommentTarget | None = None  # None: no pull-request comment
    comment_skipped: str = ""  # why a comment that was asked for will not be written
    s3_bucket: str | None = None  # None: the zip goes to Lambda directly (50 MB at most)
    s3_key_prefix: str = "lambda-deploy/"
    prune_grace: float = DEFAULT_PRUNE_GRACE  # seconds: younger versions are never pruned
    owner: Owner | None = None  # the pull request or branch this run is for; None outside GitHub
    alias_derived: bool = False  # the alias comes from the ref (a preview), not from input 'alias'

    @property
    def alias_marker(self) -> str | None:
        """The ownership marker an alias this run creates carries: a derived alias's, and any
        alias a pull request creates (so that its cleanup may delete it)."""
        if self.owner is None or not (self.alias_derived or self.owner.pull_request is not None):
            return None
        return self.owner.marker

    @property
    def command(self) -> str:
        return self.rollout.command

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must be masked before anything is printed (the rule: ``masking``)."""
        tokens = [self.credentials.request_token] if self.credentials else []
        tokens += [self.comment.token] if self.comment else []
        return values_to_mask(self.function.environment, tokens)


class _Reader:
    """Reads inputs one by one, collecting every problem instead of stopping at one."""

    def __init__(self, inputs: Mapping[str, str]) -> None:
        self._inputs = inputs
        self.problems: list[Problem] = []

    def raw(self, name: str) -> str:
        value = self._inputs.get(name, "")
        return value.strip() if value.strip() else DEFAULTS.get(name, "")

    def given(self, name: str) -> str | None:
        value = self.raw(name)
        return value or None

    def fail(self, name: str, what: str, hint: str = "") -> None:
        self.problems.append(Problem(what, f"input '{name}'", hint))

    def parse(self, name: str, convert: Callable[[str], T], hint: str = "") -> T | None:
        """Apply ``convert`` to a given value; a ValueError becomes a problem."""
        value = self.given(name)
        if value is None:
            return None
        try:
            return convert(value)
        except ValueError as exc:
            self.fail(name, str(exc), hint)
            return None

    def api_text(self, name: str) -> str | None:
        """A given value checked against its API member (see ``API_FIELDS``)."""
        return self.parse(name, lambda value: str(_field(name).check(value)), _example(name))

    def api_number(self, name: str) -> int | None:
        return self.parse(name, lambda value: int(_field(name).check(value, UNITS.get(name, ""))))

    def api_lines(self, name: str) -> tuple[str, ...]:
        """A list input, each line checked against the API member."""
        lines = tuple(_lines(self.raw(name)))
        for line in lines:
            try:
                _field(name).check(line)
            except ValueError as exc:
                self.fail(name, str(exc), _example(name))
        return lines


def _example(name: str) -> str:
    return f"for example: {EXAMPLES[name]}" if name in EXAMPLES else ""


def _field(name: str) -> ApiField:
    service, shape = API_FIELDS[name]
    return api_field(service, shape, DOCUMENTED_MAX.get(name))


def _boolean(value: str) -> bool:
    lowered = value.lower()
    if lowered not in ("true", "false"):
        raise ValueError(f"'{value}' is not a boolean; use true or false")
    return lowered == "true"


def _integer_in(low: float, high: float, unit: str) -> Callable[[str], int]:
    def convert(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise ValueError(f"'{value}' is not a whole number of {unit}") from None
        if not low <= number <= high:
            raise ValueError(f"{number} is outside the allowed range {low:g}..{high:g} {unit}")
        return number

    return convert


def _choice(allowed: tuple[str, ...]) -> Callable[[str], str]:
    def convert(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"'{value}' is not one of: {', '.join(allowed)}")
        return value

    return convert


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip() and not line.strip().startswith("#")]


def _key_value_lines(value: str, what: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for number, line in enumerate(_lines(value), start=1):
        match = _KEY_VALUE_LINE.match(line)
        if not match:
            # Never echo the line: it may hold a secret value.
            raise ValueError(f"line {number} is not KEY=VALUE")
        key, val = match.group(1), match.group(2).strip()
        if key in result:
            raise ValueError(f"{what} '{key}' is given twice (line {number})")
        result[key] = val
    return result


def _scalar_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_environment(value: str) -> dict[str, str]:
    """``KEY=VALUE`` lines, or a YAML/JSON mapping (validated with jsonschema)."""
    lines = _lines(value)
    if lines and all(_KEY_VALUE_LINE.match(line) for line in lines):
        return _key_value_lines(value, "variable")
    try:
        loaded = load_yaml(value)  # bounded: no aliases, no deep nesting
    except yaml.YAMLError:
        raise ValueError("is neither KEY=VALUE lines nor a YAML/JSON mapping") from None
    import jsonschema  # here, not at the top: most runs never need it, and it costs start-up

    try:
        jsonschema.validate(loaded, ENVIRONMENT_SCHEMA)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        detail = f"the value of '{where}' must be a string, number or boolean" if where else "it must be a mapping"
        raise ValueError(f"is not a flat mapping of names to values: {detail}") from None
    return {str(k): _scalar_text(v) for k, v in loaded.items()}


def environment_problems(variables: Mapping[str, str]) -> list[str]:
    """What Lambda would refuse in a complete set of variables (names only, never values)."""
    name_pattern = api_field("lambda", "EnvironmentVariableName").pattern
    problems = []
    for key in variables:
        if key in RESERVED_ENV_KEYS or key.startswith(RESERVED_ENV_PREFIX):
            problems.append(f"'{key}' is reserved by Lambda and cannot be set; rename it")
        elif not full_match(name_pattern, key):
            problems.append(f"'{key}' is not a valid name: start with a letter, then letters, digits or '_' (at least 2 characters)")
    size = sum(len(k.encode()) + len(v.encode()) for k, v in variables.items())
    if size > ENV_TOTAL_BYTES:
        problems.append(f"the variables take {size} bytes; Lambda allows {ENV_TOTAL_BYTES} bytes of names and values in total")
    return problems


def _read_environment(reader: _Reader) -> dict[str, str] | None:
    variables = reader.parse("environment", parse_environment)
    if variables is None:
        return None
    for problem in environment_problems(variables):
        reader.fail("environment", problem)
    return variables


def _read_tags(reader: _Reader) -> dict[str, str]:
    tags = reader.parse("tags", lambda v: _key_value_lines(v, "tag")) or {}
    for key, value in tags.items():
        if key.lower().startswith("aws:"):
            reader.fail("tags", f"tag '{key}' uses the reserved 'aws:' prefix")
        elif len(key) > 128 or len(value) > 256:
            reader.fail("tags", f"tag '{key}' is too long", "keys may have 128 characters, values 256")
    return tags


def _read_layers(reader: _Reader) -> tuple[str, ...] | None:
    if reader.given("layers") is None:
        return None
    layers = reader.api_lines("layers")
    if len(layers) > MAX_LAYERS:
        reader.fail("layers", f"{len(layers)} layers given; Lambda allows at most {MAX_LAYERS}")
    return layers


def _read_function(reader: _Reader) -> FunctionSettings:
    return FunctionSettings(
        handler=reader.api_text("handler"),
        runtime=reader.api_text("runtime"),
        role=reader.api_text("role"),
        architecture=reader.api_text("architecture"),
        memory=reader.api_number("memory"),
        timeout=reader.api_number("timeout"),
        description=reader.api_text("description"),
        layers=_read_layers(reader),
        environment=_read_environment(reader),
        environment_mode=reader.parse("environment-mode", _choice(ENVIRONMENT_MODES)) or "merge",
        tags=_read_tags(reader),
        snapstart=reader.parse("snapstart", _boolean),
        reserved_concurrency=None if reader.raw("reserved-concurrency") == REMOVE else reader.api_number("reserved-concurrency"),
        remove_reserved_concurrency=reader.raw("reserved-concurrency") == REMOVE,
    )


def _in_workspace(reader: _Reader, name: str, value: str, base: Path) -> Path | None:
    """``value`` resolved against the workspace; None (and a problem) if it leads outside,
    directly (``../elsewhere``, an absolute path) or through a symlink."""
    path = base / value
    if "\0" in value:
        reader.fail(name, "contains a NUL character, which no path can hold")
        return None
    try:
        root, real = base.resolve(), path.resolve()
        if real == root or root in real.parents:
            with contextlib.suppress(FileNotFoundError):  # the caller says what is missing
                path.stat()
            return path
    except (OSError, RuntimeError) as error:  # too long, a symlink loop, no permission, ...
        reader.fail(name, f"'{value}' cannot be read: {getattr(error, 'strerror', None) or error}")
        return None
    leads = f" (it leads to {real})" if not Path(value).is_absolute() else ""
    reader.fail(
        name,
        f"'{value}' is outside the workspace {root}{leads}",
        "give a path inside the repository checkout; symlinks must stay inside it too",
    )
    return None


def _read_source(reader: _Reader, base: Path) -> Path:
    value = reader.raw("source")
    source = _in_workspace(reader, "source", value, base)
    if source is None:
        return base / value
    if not source.exists():
        reader.fail("source", f"'{value}' does not exist under {base}", "give a directory, a file or a .zip")
    elif source.is_file() and source.suffix == ".zip" and not zipfile.is_zipfile(source):
        reader.fail("source", f"'{value}' ends in .zip but is not a zip archive")
    return source


def _read_requirements(reader: _Reader, base: Path, source: Path) -> Path | None:
    value = reader.given("requirements")
    if value is None:
        return None
    path = _in_workspace(reader, "requirements", value, base)
    if path is not None and not path.is_file():
        reader.fail("requirements", f"'{value}' is not a file under {base}")
    if source.suffix == ".zip":
        reader.fail(
            "requirements",
            "cannot be combined with a ready .zip source",
            "vendor the packages into the zip yourself, or give a directory as source",
        )
    return path or base / value


def _read_owner(env: Mapping[str, str], git: GitContext) -> Owner | None:
    """The pull request (from the event payload) or the branch this run is for."""
    if env.get("GITHUB_EVENT_NAME", "") in PULL_REQUEST_EVENTS:
        number = pull_request_number(env.get("GITHUB_EVENT_PATH", ""))
        if number is not None:
            return Owner(git.repository, number)
    return Owner(git.repository, ref=git.ref) if git.ref else None


def _read_alias(reader: _Reader, env: Mapping[str, str]) -> str:
    given = reader.given("alias")
    if given is not None:
        problem = alias_problem(given)
        if problem:
            reader.fail("alias", f"'{given}' {problem}", "use 1-128 letters, digits, '-' or '_', not all digits")
        return given
    ref = ref_from_env(env)
    derived = alias_from_ref(ref)
    if not derived:
        reader.fail(
            "alias",
            "is not given and cannot be derived from the git ref" + (f" '{ref}'" if ref else ""),
            "set alias (for example: live)",
        )
    return derived


def _read_region(reader: _Reader, env: Mapping[str, str]) -> str:
    region = reader.given("aws-region") or env.get("AWS_REGION", "") or env.get("AWS_DEFAULT_REGION", "")
    if not region:
        reader.fail(
            "aws-region", "no region given and neither AWS_REGION nor AWS_DEFAULT_REGION is set", "set aws-region (for example: eu-west-1)"
        )
    elif not _REGION.match(region):
        reader.fail("aws-region", f"'{region}' is not an AWS region name", "for example: us-east-1, eu-west-1")
    return region


def _read_function_name(reader: _Reader) -> str:
    if reader.given("function-name") is None:
        reader.fail("function-name", "is required", "give the function's name or ARN")
        return ""
    name = reader.api_text("function-name")
    if name is not None and ":" not in name and len(name) > PLAIN_NAME_MAX:
        # The model's 140 is for an ARN; a plain name may have 64 characters.
        reader.fail("function-name", f"is {len(name)} characters long; a function name may have {PLAIN_NAME_MAX}")
    return name or ""


def _json(value: str) -> Any:
    return load_json(value)


def _json_text(value: str) -> str:
    _json(value)
    return value


def _rate(value: str) -> float:
    """An error rate: ``2%`` or ``0.02``; ``0%`` means any error at all fails the gate."""
    return 0.0 if value.strip() in ("0", "0%") else parse_weight(value, allow_full=True)


def _read_rollout(reader: _Reader) -> RolloutSettings:
    strategy = reader.parse("strategy", parse_strategy) or ALL_AT_ONCE
    to_version, to_alias = _read_rollback_target(reader)
    rollout = RolloutSettings(
        command=reader.parse("command", _choice(COMMANDS)) or "deploy",
        strategy=strategy,
        canary_weight=reader.parse("canary-weight", parse_canary_weight),
        to_version=to_version,
        to_alias=to_alias,
        previous_alias=reader.api_text("previous-alias"),
        provisioned_concurrency=reader.parse("provisioned-concurrency", _integer_in(0, MAX_PROVISIONED, "environments")),
        alarms=reader.api_lines("alarms"),
        max_error_rate=reader.parse("max-error-rate", _rate),
        min_invocations=reader.parse("min-invocations", _integer_in(1, 10**9, "invocations")) or 20,
        health_interval=reader.parse("health-interval", _seconds_between(1, 3600)) or 10.0,
        smoke_payload=reader.parse("smoke-payload", _json_text),
        smoke_expect=reader.parse("smoke-expect", _json),
        engine=reader.parse("engine", _choice(ENGINES)) or "native",
        codedeploy_application=reader.api_text("codedeploy-application"),
        codedeploy_group=reader.api_text("codedeploy-group"),
        before_traffic_hook=reader.api_text("before-traffic-hook"),
        after_traffic_hook=reader.api_text("after-traffic-hook"),
    )
    _check_rollout_combinations(reader, rollout)
    return rollout


def _read_rollback_target(reader: _Reader) -> tuple[str | None, str | None]:
    """``to-version``: a published version number, or an alias whose version to go back to."""
    value = reader.given("to-version")
    if value is None:
        return None, None
    if not value.isdigit():
        problem = alias_problem(value)
        if problem:
            reader.fail(
                "to-version", f"'{value}' is neither a version number nor an alias name: it {problem}", "for example: 41, or previous"
            )
        return None, value
    version = reader.api_text("to-version")
    if version is not None and int(version) < 1:
        reader.fail("to-version", f"'{version}' is not a published version number (1, 2, 3, ...)")
    return version, None


def _seconds_between(low: float, high: float) -> Callable[[str], float]:
    def convert(value: str) -> float:
        seconds = parse_duration(value)
        if not low <= seconds <= high:
            raise ValueError(f"{value} is outside the allowed range {low:g}..{high:g} seconds")
        return seconds

    return convert


def _check_rollout_combinations(reader: _Reader, rollout: RolloutSettings) -> None:
    if rollout.canary_weight is not None and rollout.strategy.gradual:
        reader.fail(
            "canary-weight",
            "cannot be combined with a gradual strategy",
            "use canary-weight for a manually promoted canary, or strategy, not both",
        )
    if (rollout.to_version or rollout.to_alias) is not None and rollout.command != "rollback":
        reader.fail("to-version", f"only applies to command: rollback (the command is {rollout.command})")
    if rollout.smoke_expect is not None and rollout.smoke_payload is None:
        reader.fail("smoke-expect", "needs smoke-payload", "give the event to invoke the new version with")
    codedeploy_only = {
        "codedeploy-application": rollout.codedeploy_application,
        "codedeploy-group": rollout.codedeploy_group,
        "before-traffic-hook": rollout.before_traffic_hook,
        "after-traffic-hook": rollout.after_traffic_hook,
    }
    if rollout.engine == "codedeploy":
        for name in ("codedeploy-application", "codedeploy-group"):
            if not codedeploy_only[name]:
                reader.fail(name, "is required with engine: codedeploy", "name the CodeDeploy application and deployment group")
        if rollout.strategy.codedeploy_config is None:
            reader.fail(
                "strategy",
                f"'{rollout.strategy.name}' has no CodeDeploy configuration",
                "engine: codedeploy takes a preset such as Canary10Percent5Minutes",
            )
        if rollout.canary_weight is not None:
            reader.fail("canary-weight", "is not available with engine: codedeploy", "CodeDeploy shifts traffic by its own schedule")
        if len(rollout.alarms) > MAX_DEPLOYMENT_ALARMS:
            reader.fail(
                "alarms",
                f"{len(rollout.alarms)} alarms given; a CodeDeploy deployment takes at most {MAX_DEPLOYMENT_ALARMS}",
                "keep the 10 that matter most, or combine them into a composite alarm",
            )
    else:
        for name, value in codedeploy_only.items():
            if value:
                reader.fail(name, "only applies to engine: codedeploy")


def _read_credentials(reader: _Reader, env: Mapping[str, str], git: GitContext) -> OidcCredentials | None:
    role = reader.api_text("role-to-assume")
    session = reader.api_text("role-session-name")
    duration = reader.api_number("role-duration-seconds")
    if role is None:
        for name in ("role-session-name", "role-duration-seconds"):
            if reader.given(name):
                reader.fail(name, "only applies with role-to-assume")
        return None
    request_url, request_token = env.get("ACTIONS_ID_TOKEN_REQUEST_URL", ""), env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "")
    if not (request_url and request_token):
        reader.fail(
            "role-to-assume",
            "needs GitHub's OIDC token, but ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set",
            "add 'permissions: id-token: write' to the job or the workflow. Pull requests from forks never get a token: run "
            "previews only for branches of this repository",
        )
    return OidcCredentials(
        role_arn=role,
        session_name=session or session_name(git.repository, git.run_id),
        duration=duration or DEFAULT_ROLE_DURATION,
        audience=reader.raw("audience"),
        request_url=request_url,
        request_token=request_token,
    )


def _read_comment(reader: _Reader, env: Mapping[str, str], git: GitContext) -> tuple[CommentTarget | None, str]:
    """The pull request to comment on, or why there is none (a notice, not an error)."""
    if not reader.parse("comment", _boolean):
        return None, ""
    token = reader.given("github-token")
    if token is None:
        reader.fail(
            "github-token", "is needed with comment: true", "pass ${{ github.token }} (the default) or a token with pull-requests: write"
        )
        return None, ""
    event = env.get("GITHUB_EVENT_NAME", "")
    if event not in PULL_REQUEST_EVENTS:
        return None, f"comment: true has no pull request to comment on in a '{event or 'local'}' run"
    number = pull_request_number(env.get("GITHUB_EVENT_PATH", ""))
    if number is None or "/" not in git.repository:
        return None, "the pull request's number or repository could not be read from the event"
    return CommentTarget(env.get("GITHUB_API_URL") or "https://api.github.com", git.repository, number, token), ""


def pull_request_number(event_path: str) -> int | None:
    """The pull request number in the event payload the runner wrote (GITHUB_EVENT_PATH)."""
    try:
        event = json.loads(Path(event_path).read_text(encoding="utf-8")) if event_path else {}
    except (OSError, ValueError):
        return None
    number = (event.get("pull_request") or {}).get("number") or event.get("number")
    return number if isinstance(number, int) and number > 0 else None


def _read_prune_grace(reader: _Reader) -> float:
    value = reader.parse("prune-grace", _seconds_between(0, 30 * 24 * 3600))
    return DEFAULT_PRUNE_GRACE if value is None else value


def _key_prefix(value: str) -> str:
    if len(value) > S3_PREFIX_MAX or value.startswith("/"):
        raise ValueError(f"'{value[:40]}' is not a usable S3 key prefix: at most {S3_PREFIX_MAX} characters, not starting with '/'")
    return value


@dataclass(frozen=True)
class FleetSettings:
    """How a deploy file is run: which file, which of its functions, how many at once."""

    config: Path
    display: str  # the file as the user named it, for annotations
    only: str | None
    max_parallel: int
    fail_fast: bool
    listing: bool  # command: list


def load_fleet_settings(inputs: Mapping[str, str], env: Mapping[str, str]) -> FleetSettings | None:
    """The deploy-file inputs; None when ``config`` is not given (a single-function run)."""
    reader = _Reader(inputs)
    value = reader.given("config")
    if value is None:
        if reader.given("only"):
            reader.fail("only", "only applies with config", "give the deploy file in config")
        if reader.problems:
            raise DeployError(*reader.problems)
        return None
    base = Path(env.get("GITHUB_WORKSPACE") or ".")
    path = _in_workspace(reader, "config", value, base)
    if path is not None and not path.is_file():
        reader.fail("config", f"'{value}' is not a file under {base}", "give the path of the deploy file, relative to the workspace")
    fleet = FleetSettings(
        config=path or base / value,
        display=value,
        only=reader.given("only"),
        max_parallel=reader.parse("max-parallel", _integer_in(1, MAX_PARALLEL, "functions")) or 4,
        fail_fast=bool(reader.parse("fail-fast", _boolean)),
        listing=reader.raw("command") == "list",
    )
    if reader.problems:
        raise DeployError(*reader.problems)
    return fleet


def _check_production_combinations(reader: _Reader, settings: Settings) -> None:
    if settings.rollout.previous_alias is not None and settings.rollout.previous_alias == settings.alias:
        reader.fail("previous-alias", f"is alias '{settings.alias}' itself", "name another alias, for example: previous")
    runtime = settings.function.runtime
    if settings.function.snapstart and runtime and (problem := snapstart_problem(runtime)):
        reader.fail("snapstart", problem)


def load_settings(inputs: Mapping[str, str], env: Mapping[str, str]) -> Settings:
    """Validate every input at once; raise ``DeployError`` listing all problems."""
    reader = _Reader(inputs)
    base = Path(env.get("GITHUB_WORKSPACE") or ".")
    git = GitContext.from_env(env)
    comment, comment_skipped = _read_comment(reader, env, git)
    rollout = _read_rollout(reader)
    # Only a deploy packages code; promote, rollback and cleanup need no checkout.
    packages = rollout.command == "deploy"
    source = _read_source(reader, base) if packages else base / reader.raw("source")
    settings = Settings(
        function_name=_read_function_name(reader),
        source=source,
        exclude=tuple(_lines(reader.raw("exclude"))),
        requirements=_read_requirements(reader, base, source) if packages else None,
        function=_read_function(reader),
        alias=_read_alias(reader, env),
        dry_run=bool(reader.parse("dry-run", _boolean)),
        region=_read_region(reader, env),
        wait_timeout=reader.parse("wait-timeout", _integer_in(1, 3600, "seconds")) or DEFAULT_WAIT_TIMEOUT,
        git=git,
        rollout=rollout,
        function_url=reader.parse("function-url", _choice(FUNCTION_URLS)) or "none",
        keep_versions=reader.parse("keep-versions", _integer_in(0, 10_000, "versions")) or 0,
        credentials=_read_credentials(reader, env, git),
        comment=comment,
        comment_skipped=comment_skipped,
        s3_bucket=reader.api_text("s3-bucket"),
        s3_key_prefix=reader.parse("s3-key-prefix", _key_prefix) or "",
        prune_grace=_read_prune_grace(reader),
        owner=_read_owner(env, git),
        alias_derived=reader.given("alias") is None,
    )
    _check_production_combinations(reader, settings)
    if settings.command == "list":
        reader.fail("command", "list only applies with config", "give the deploy file in config")
    if reader.problems:
        raise DeployError(*reader.problems)
    return settings


def inputs_from_env(env: Mapping[str, str]) -> dict[str, str]:
    """The runner's ``INPUT_<ID>`` variables, keyed by input id (hyphens kept)."""
    return {key[len("INPUT_") :].lower(): value for key, value in env.items() if key.startswith("INPUT_")}
