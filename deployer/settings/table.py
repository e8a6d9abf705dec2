"""Every input of the action as one table: how it is read, as an action input, a deploy-file key and a CLI flag.

Contract: ``INPUTS`` lists every input in the order action.yml declares them (a test keeps the
two in step, defaults included). A row says the input's form (what value it takes, and so
how the deploy file's schema and the CLI's flag read it), its default, whether it belongs to
a function (a deploy-file key) or to the run (given to the action only), the AWS API member
whose constraints validate it, its unit and an example for messages. A setting of the
function itself is a row of ``surface`` too, where it is compared, sent, shown and written by
``init``: its form comes from there. Everything else that lists inputs is derived from here:
``INPUT_IDS``, ``DEFAULTS``, ``API_FIELDS``, ``UNITS``, ``EXAMPLES``, the CLI's list and
boolean flags, the deploy file's keys and their schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .. import surface
from ..analysis import PERCENTILES

DEFAULT_WAIT_TIMEOUT = 300
DEFAULT_PRUNE_GRACE = 3600.0
ENVIRONMENT_MODES = ("merge", "replace")
ENGINES = ("native", "codedeploy")
FUNCTION_URLS = ("none", "aws-iam", "public")
WAVE_FAILURES = ("rollback", "halt")
# The values the action's command input takes (the CLI has more: init, logs, invoke, schema, demo).
ACTION_COMMANDS = ("deploy", "promote", "rollback", "cleanup", "list", "diff", "status")


@dataclass(frozen=True)
class Input:
    id: str
    # text | integer | boolean | list (lines) | mapping (KEY=VALUE lines, or YAML/JSON) | json (any JSON)
    # | number (a weight, a rate or a duration, given as text or a number) | yaml (a YAML document, as text)
    # | setting (a row of surface)
    form: str = "text"
    default: str = ""  # as action.yml declares it; "" for none
    run: bool = False  # the run's, not a function's: given to the action, never a deploy-file key
    api: tuple[str, str] | None = None  # (service, shape) of botocore's model that validates it
    unit: str = ""
    example: str = ""
    choices: tuple[str, ...] = ()

    @property
    def row(self) -> surface.Row | None:
        return surface.BY_INPUT.get(self.id)

    @property
    def shape(self) -> str:
        """How the deploy file and the CLI read it: the setting row's form for a function setting."""
        row = self.row
        if row is None:
            return self.form
        if row.form in surface.LIST_FORMS:
            return "list"
        return {"switch": "boolean", "one": "text"}.get(row.form, row.form)


def _setting(name: str) -> Input:
    return Input(name, "setting")


INPUTS: tuple[Input, ...] = (
    Input(
        "function-name", api=("lambda", "FunctionName"), example="orders-api, or arn:aws:lambda:eu-west-1:123456789012:function:orders-api"
    ),
    Input("source", default="."),
    Input("exclude", "list"),
    Input("requirements"),
    *(_setting(name) for name in ("handler", "runtime", "role", "architecture", "memory", "timeout", "description", "layers")),
    Input("environment", "mapping"),
    Input("environment-mode", default="merge", choices=ENVIRONMENT_MODES),
    Input("tags", "mapping"),
    Input("alias", api=("lambda", "Alias")),
    Input("dry-run", "boolean", default="false", run=True),
    Input("aws-region"),
    Input("wait-timeout", "integer", default=str(DEFAULT_WAIT_TIMEOUT), unit="seconds"),
    Input("strategy", default="all-at-once"),
    Input("canary-weight", "number"),
    Input("command", default="deploy", run=True, choices=ACTION_COMMANDS),
    Input("to-version", run=True, api=("lambda", "Version"), example="41"),
    Input("alarms", "list", api=("cloudwatch", "AlarmName")),
    Input("max-error-rate", "number"),
    Input("min-invocations", "integer", default="20", unit="invocations"),
    Input("health-interval", "number", default="10"),
    Input("smoke-payload", "json"),
    Input("smoke-expect", "json"),
    Input("engine", default="native", choices=ENGINES),
    Input("codedeploy-application", api=("codedeploy", "ApplicationName")),
    Input("codedeploy-group", api=("codedeploy", "DeploymentGroupName")),
    Input("before-traffic-hook", api=("lambda", "FunctionName"), example="CodeDeployHook_orders_api_pretraffic"),
    Input("after-traffic-hook", api=("lambda", "FunctionName"), example="CodeDeployHook_orders_api_posttraffic"),
    Input("function-url", default="none", choices=FUNCTION_URLS),
    Input("keep-versions", "integer", default="0", unit="versions"),
    Input("prune-grace", "number", default="1h"),
    Input("role-to-assume", run=True, api=("sts", "arnType"), example="arn:aws:iam::123456789012:role/github-deploy"),
    Input("role-session-name", run=True, api=("sts", "roleSessionNameType"), example="deploy-orders-4242"),
    Input("role-duration-seconds", "integer", run=True, api=("sts", "roleDurationSecondsType"), unit="seconds"),
    Input("audience", default="sts.amazonaws.com", run=True),
    Input("github-token", default="${{ github.token }}", run=True),
    Input("comment", "boolean", default="false", run=True),
    Input("provisioned-concurrency", "integer", unit="environments"),
    Input("reserved-concurrency", "integer", api=("lambda", "ReservedConcurrentExecutions")),
    _setting("snapstart"),
    Input("s3-bucket", api=("lambda", "S3Bucket"), example="my-deploy-artifacts"),
    Input("s3-key-prefix", default="lambda-deploy/"),
    Input("config", run=True),
    Input("only", run=True),
    Input("max-parallel", "integer", default="4", run=True, unit="functions"),
    Input("fail-fast", "boolean", default="false", run=True),
    Input("previous-alias", api=("lambda", "Alias")),
    Input("package-type", api=("lambda", "PackageType")),
    Input("image-uri", example="123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders:4f2c1e9"),
    *(_setting(name) for name in ("image-entrypoint", "image-command", "image-working-directory", "subnet-ids", "security-group-ids")),
    *(_setting(name) for name in ("ipv6-dual-stack", "dead-letter-target", "tracing", "kms-key-arn", "ephemeral-storage")),
    *(_setting(name) for name in ("file-systems", "log-format", "application-log-level", "system-log-level", "log-group")),
    Input(
        "code-signing-config-arn",
        api=("lambda", "CodeSigningConfigArn"),
        example="arn:aws:lambda:eu-west-1:123456789012:code-signing-config:csc-0123456789abcdef0",
    ),
    Input("s3-key", api=("lambda", "S3Key"), example="builds/orders-api/4f2c1e9.zip"),
    Input("s3-object-version", api=("lambda", "S3ObjectVersion")),
    Input("function-url-cors", "list"),
    Input("function-url-invoke-mode", api=("lambda", "InvokeMode")),
    *(_setting(name) for name in ("capacity-provider-arn", "capacity-provider-concurrency", "capacity-provider-memory-per-vcpu")),
    *(_setting(name) for name in ("durable-retention-days", "durable-execution-timeout", "tenant-isolation-mode")),
    Input("waves", "yaml", run=True, example="[{name: one-box, regions: [us-east-1], bake: 10m}]"),
    Input("wave-failure", default="rollback", run=True, choices=WAVE_FAILURES),
    Input("max-latency-increase", "number", example="25%"),
    Input("latency-percentile", default="p99", choices=PERCENTILES),
    Input("max-error-rate-increase", "number", example="1%"),
)
BY_ID: Mapping[str, Input] = {row.id: row for row in INPUTS}

INPUT_IDS = tuple(row.id for row in INPUTS)
# Defaults as action.yml declares them; an expression (github-token's) is the runner's to evaluate.
DEFAULTS: Mapping[str, str] = {row.id: row.default for row in INPUTS if row.default and "${{" not in row.default}
API_FIELDS: Mapping[str, tuple[str, str]] = {row.id: row.api for row in INPUTS if row.api is not None}
UNITS: Mapping[str, str] = {row.id: row.unit for row in INPUTS if row.unit}
EXAMPLES: Mapping[str, str] = {row.id: row.example for row in INPUTS if row.example}
LIST_INPUTS = frozenset(row.id for row in INPUTS if row.shape in ("list", "mapping"))  # a CLI flag given once per line
BOOLEAN_INPUTS = frozenset(row.id for row in INPUTS if row.shape == "boolean")
FILE_KEYS = tuple(row.id for row in INPUTS if not row.run)  # what a deploy file's function (and its defaults) may say
