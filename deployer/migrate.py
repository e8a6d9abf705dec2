"""Coming from aws-actions/aws-lambda-deploy: its inputs as this action's (pure).

Contract: ``from_aws_lambda_deploy(inputs)`` takes the ``with:`` of an
``aws-actions/aws-lambda-deploy`` step (its input names, its JSON values) and returns the
``with:`` of a lambda-deploy step that sets the same function the same way, plus notes on
what differs by design. ``MAPPING`` is the table the README shows. JSON inputs map onto
this action's fields: ``vpc-config`` onto ``subnet-ids`` / ``security-group-ids`` /
``ipv6-dual-stack``, ``logging-config`` onto the ``log-*`` inputs, and so on. The official
action replaces the whole environment, so its ``environment`` maps to
``environment-mode: replace``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

Translate = Callable[[Any], dict[str, str]]


def _same(name: str) -> Translate:
    return lambda value: {name: str(value)}


def _lines(value: Any) -> str:
    return "\n".join(str(item) for item in value)


def _json(text: Any) -> Any:
    return json.loads(text) if isinstance(text, str) else text


def _vpc(value: Any) -> dict[str, str]:
    vpc = _json(value)
    out = {
        "subnet-ids": _lines(vpc.get("SubnetIds", [])) or "none",
        "security-group-ids": _lines(vpc.get("SecurityGroupIds", [])) or "none",
    }
    if "Ipv6AllowedForDualStack" in vpc:
        out["ipv6-dual-stack"] = "true" if vpc["Ipv6AllowedForDualStack"] else "false"
    return out


def _logging(value: Any) -> dict[str, str]:
    names = {
        "LogFormat": "log-format",
        "ApplicationLogLevel": "application-log-level",
        "SystemLogLevel": "system-log-level",
        "LogGroup": "log-group",
    }
    return {names[key]: str(item) for key, item in _json(value).items() if key in names}


def _image(value: Any) -> dict[str, str]:
    config = _json(value)
    names = {"EntryPoint": "image-entrypoint", "Command": "image-command", "WorkingDirectory": "image-working-directory"}
    return {names[key]: _lines(item) if isinstance(item, list) else str(item) for key, item in config.items() if key in names}


def _environment(value: Any) -> dict[str, str]:
    variables = _json(value)
    return {"environment": "\n".join(f"{key}={item}" for key, item in variables.items()), "environment-mode": "replace"}


def _storage(value: Any) -> dict[str, str]:
    size = _json(str(value))
    return {"ephemeral-storage": str(size.get("Size") if isinstance(size, dict) else size)}


def _tags(value: Any) -> dict[str, str]:
    return {"tags": "\n".join(f"{key}={item}" for key, item in _json(value).items())}


# Their input -> (how it becomes ours, what the README says about it).
MAPPING: Mapping[str, tuple[Translate | None, str]] = {
    "function-name": (_same("function-name"), "`function-name`"),
    "package-type": (_same("package-type"), "`package-type`"),
    "image-uri": (_same("image-uri"), "`image-uri` (a tag is resolved to its digest first)"),
    "code-artifacts-dir": (_same("source"), "`source` (a directory, a file or a ready .zip)"),
    "handler": (_same("handler"), "`handler` (no default: a new function needs one)"),
    "runtime": (_same("runtime"), "`runtime` (no default)"),
    "s3-bucket": (_same("s3-bucket"), "`s3-bucket`"),
    "s3-key": (
        None,
        "`s3-key-prefix`: the package's key is its SHA-256 under the prefix, so the same code is stored once "
        "(our `s3-key` deploys an existing object)",
    ),
    "publish": (None, "always: a version is published when something changed, never otherwise"),
    "dry-run": (_same("dry-run"), "`dry-run` (configuration changes are planned too)"),
    "revision-id": (None, "not needed: every call is chained with the RevisionId it read"),
    "architectures": (_same("architecture"), "`architecture`"),
    "source-kms-key-arn": (None, "not supported yet: the package is encrypted with Lambda's own key"),
    "role": (_same("role"), "`role`"),
    "function-description": (_same("description"), "`description`"),
    "memory-size": (_same("memory"), "`memory`"),
    "timeout": (_same("timeout"), "`timeout`"),
    "vpc-config": (_vpc, "`subnet-ids`, `security-group-ids`, `ipv6-dual-stack`"),
    "environment": (
        _environment,
        "`environment` (KEY=VALUE lines or the same JSON) with `environment-mode: replace`; the default, `merge`, "
        "keeps variables set elsewhere",
    ),
    "dead-letter-config": (lambda value: {"dead-letter-target": str(_json(value).get("TargetArn") or "none")}, "`dead-letter-target`"),
    "kms-key-arn": (_same("kms-key-arn"), "`kms-key-arn`"),
    "tracing-config": (lambda value: {"tracing": str(_json(value)["Mode"])}, "`tracing`"),
    "layers": (lambda value: {"layers": _lines(_json(value))}, "`layers` (one ARN per line)"),
    "file-system-configs": (
        lambda value: {"file-systems": _lines(f"{item['Arn']}={item['LocalMountPath']}" for item in _json(value)) or "none"},
        "`file-systems` (`ARN=/mnt/path` lines)",
    ),
    "image-config": (_image, "`image-entrypoint`, `image-command`, `image-working-directory`"),
    "ephemeral-storage": (
        lambda value: {"ephemeral-storage": str(_json(value).get("Size") if isinstance(_json(value), dict) else value)},
        "`ephemeral-storage`",
    ),
    "snap-start": (lambda value: {"snapstart": "true" if _json(value).get("ApplyOn") == "PublishedVersions" else "false"}, "`snapstart`"),
    "logging-config": (_logging, "`log-format`, `application-log-level`, `system-log-level`, `log-group`"),
    "code-signing-config-arn": (_same("code-signing-config-arn"), "`code-signing-config-arn`"),
    "tags": (_tags, "`tags` (`KEY=VALUE` lines)"),
}


def from_aws_lambda_deploy(inputs: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Our ``with:`` for theirs, and a note for each input that has no counterpart."""
    ours: dict[str, str] = {}
    notes: list[str] = []
    for name, value in inputs.items():
        if name not in MAPPING:
            raise ValueError(f"'{name}' is not an input of aws-actions/aws-lambda-deploy")
        translate, said = MAPPING[name]
        if translate is None:
            notes.append(f"{name}: {said}")
        else:
            ours.update(translate(value))
    return ours, notes
