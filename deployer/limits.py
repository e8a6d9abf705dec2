"""Limits and patterns of the Lambda API, read from botocore's service model.

The service model is what the installed SDK sends and it moves with AWS, so the
deployer validates against it instead of hard-coding numbers. botocore does not check
``pattern`` client-side (the service does, after we have possibly mutated something),
so patterns are checked here, before any call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import botocore.session

# Lambda's documented ceiling for a function's timeout. Some botocore releases omit
# the max from the model; this is used only then.
DOCUMENTED_MAX_TIMEOUT = 900

# Environment variable names Lambda reserves for its runtime (API reference,
# "Defined runtime environment variables"); these are not in the service model.
RESERVED_ENV_KEYS = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_DEFAULT_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_REGION",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "LAMBDA_RUNTIME_DIR",
        "LAMBDA_TASK_ROOT",
    }
)
RESERVED_ENV_PREFIX = "AWS_LAMBDA_"
ENV_TOTAL_BYTES = 4096
DIRECT_UPLOAD_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class Range:
    low: float
    high: float


@dataclass(frozen=True)
class LambdaLimits:
    memory: Range
    timeout: Range
    description_max: int
    alias_max: int
    alias_pattern: re.Pattern[str]
    env_name_pattern: re.Pattern[str]
    function_name_pattern: re.Pattern[str]
    role_pattern: re.Pattern[str]
    layer_pattern: re.Pattern[str]
    runtimes: tuple[str, ...]
    architectures: tuple[str, ...]


def _meta(model: Any, shape: str) -> dict[str, Any]:
    return dict(model.shape_for(shape).metadata)


def _full(pattern: str) -> re.Pattern[str]:
    # Service patterns are implicitly anchored on the whole value.
    return re.compile(f"(?:{pattern})\\Z")


@lru_cache(maxsize=1)
def lambda_limits() -> LambdaLimits:
    model = botocore.session.get_session().get_service_model("lambda")
    memory = _meta(model, "MemorySize")
    timeout = _meta(model, "Timeout")
    alias = _meta(model, "Alias")
    return LambdaLimits(
        memory=Range(memory["min"], memory["max"]),
        timeout=Range(timeout["min"], timeout.get("max", DOCUMENTED_MAX_TIMEOUT)),
        description_max=_meta(model, "Description")["max"],
        alias_max=alias["max"],
        alias_pattern=_full(alias["pattern"]),
        env_name_pattern=_full(_meta(model, "EnvironmentVariableName")["pattern"]),
        function_name_pattern=_full(_meta(model, "FunctionName")["pattern"]),
        role_pattern=_full(_meta(model, "RoleArn")["pattern"]),
        layer_pattern=_full(_meta(model, "LayerVersionArn")["pattern"]),
        runtimes=tuple(model.shape_for("Runtime").enum),
        architectures=tuple(model.shape_for("Architecture").enum),
    )
