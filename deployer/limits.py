"""Limits and patterns of the Lambda API, read from botocore's service model.

The service model is what the installed SDK sends and it moves with AWS, so the
deployer validates against it instead of hard-coding numbers. botocore does not check
``pattern`` client-side (the service does, after we have possibly mutated something),
so patterns are checked here, before any call. ``api_field(service, shape)`` gives any
member's kind, range or length, pattern and allowed values, and checks a value
against all of them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import botocore.loaders
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
MB = 1024 * 1024
# Lambda's package quotas (Developer Guide, "Lambda quotas"): not in the service model.
DIRECT_UPLOAD_BYTES = 50 * MB  # a zip sent in the request itself
UNZIPPED_BYTES = 250 * MB  # the unpacked package, layers included


@cache
def data_loader() -> botocore.loaders.Loader:
    """One loader of botocore's data for the process: the sessions that make clients share
    it with the model lookups here, so each service's JSON model is parsed once."""
    return botocore.loaders.create_loader()


def botocore_session() -> botocore.session.Session:
    session = botocore.session.Session()
    session.register_component("data_loader", data_loader())
    return session


@cache
def service_model(service: str) -> Any:
    return botocore_session().get_service_model(service)


_WIDE_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{5,6})")


def full_match(pattern: str, value: str) -> bool:
    return bool(_full(pattern).match(value))


@cache
def _full(pattern: str) -> re.Pattern[str]:
    # Service patterns are implicitly anchored on the whole value. They are written for
    # Java, whose \u10000 is one code point; Python spells that \U00010000.
    python = _WIDE_ESCAPE.sub(lambda m: f"\\U{int(m.group(1), 16):08x}", pattern)
    return re.compile(f"(?:{python})\\Z")


@dataclass(frozen=True)
class ApiField:
    """One member of an AWS API as botocore's model defines it: its kind and constraints."""

    service: str
    shape: str
    kind: str  # "string" or "integer"
    low: float | None
    high: float | None
    pattern: str
    enum: tuple[str, ...]

    def check(self, value: str, unit: str = "") -> str | int:
        """``value`` converted and checked against every constraint; ValueError says which failed."""
        shown = value if len(value) <= 80 else value[:80] + "…"
        if self.enum:
            if value not in self.enum:
                raise ValueError(f"'{shown}' is not one of: {', '.join(self.enum)}")
            return value
        if self.kind == "integer":
            try:
                number = int(value)
            except ValueError:
                raise ValueError(f"'{shown}' is not a whole number" + (f" of {unit}" if unit else "")) from None
            low = -math.inf if self.low is None else self.low
            high = math.inf if self.high is None else self.high
            if not low <= number <= high:
                raise ValueError(f"{number} is outside the allowed range {low:g}..{high:g}" + (f" {unit}" if unit else ""))
            return number
        if self.high is not None and len(value) > self.high:
            raise ValueError(f"is {len(value)} characters long; the limit is {self.high:g}")
        if self.low is not None and len(value) < self.low:
            raise ValueError(f"is {len(value)} characters long; at least {self.low:g} are needed")
        if self.pattern and not full_match(self.pattern, value):
            raise ValueError(f"'{shown}' does not match the pattern AWS requires: {self.pattern}")
        return value


@cache
def api_field(service: str, shape: str, documented_max: float | None = None) -> ApiField:
    """The model's constraints for ``shape``; ``documented_max`` stands in where a botocore
    release leaves the maximum out of the model."""
    model = service_model(service).shape_for(shape)
    meta = dict(model.metadata)
    high = meta.get("max", documented_max)
    return ApiField(
        service,
        shape,
        "integer" if model.type_name in ("integer", "long") else "string",
        meta.get("min"),
        high,
        str(meta.get("pattern", "")),
        tuple(getattr(model, "enum", None) or ()),
    )


_SNAPSTART_FAMILY = re.compile(r"(java|python|dotnet)(\d+)(?:\.(\d+))?\Z")


@cache
def snapstart_runtimes() -> tuple[str, ...]:
    """The runtimes in botocore's model that SnapStart supports. The model lists runtimes but
    not their features; the Developer Guide ("Lambda SnapStart") names the families: Java 11
    and later, Python 3.12 and later, .NET 8 and later."""
    runtimes = service_model("lambda").shape_for("Runtime").enum

    def supported(runtime: str) -> bool:
        found = _SNAPSTART_FAMILY.match(runtime)
        if not found:
            return False
        family, major, minor = found.group(1), int(found.group(2)), int(found.group(3) or 0)
        return (
            (family == "java" and major >= 11) or (family == "python" and (major, minor) >= (3, 12)) or (family == "dotnet" and major >= 8)
        )

    return tuple(runtime for runtime in runtimes if supported(runtime))


def snapstart_problem(runtime: str) -> str:
    """Why SnapStart cannot be turned on for ``runtime``, or "" when it can."""
    if runtime in snapstart_runtimes():
        return ""
    return f"SnapStart does not support runtime '{runtime}'; it supports {', '.join(snapstart_runtimes())}"
