"""``init``: adopt a function made in the console; the live configuration -> a deploy-file entry.

Contract: ``adopt(aws, function_name)`` reads the live function (configuration, tags, every
alias with its function URL and provisioned concurrency, reserved concurrency, the
code-signing configuration) and ``render`` writes the deploy file: every setting this action
manages, each in the input's own spelling, so that deploying it with the same code changes
no configuration. It is the configuration surface (``deployer.surface``) read backwards:
a row is written only when the function differs from what Lambda fills in by itself.

Secret-looking environment values (``masking``'s rule) are never written: they are left out
with a comment saying that merge mode keeps them on the function, and how to pass them from
``${{ secrets.NAME }}``. The aliases are listed as comments; the production one (the first
that is not a preview) becomes ``alias``. ``download_code`` fetches the live package through
GetFunction's ``Code.Location`` and unpacks it, refusing paths that would leave the folder.
"""

from __future__ import annotations

import io
import json
import urllib.request
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import surface
from ..aws import LambdaGateway, Wants
from ..errors import DeployError
from ..masking import could_be_secret, looks_secret_name
from ..model import AliasState, FunctionState, FunctionUrl, Provisioned
from ..ownership import marker_of

DEPLOY_TAGS = "lambda-deploy:"  # the tags lambda-deploy writes itself: not the user's settings


@dataclass(frozen=True)
class Adopted:
    state: FunctionState
    code: dict[str, Any]
    urls: dict[str, FunctionUrl]
    provisioned: dict[str, Provisioned]


def adopt(aws: LambdaGateway, function_name: str) -> Adopted:
    state = aws.read_state(function_name, "", Wants(aliases=True, code_signing=True))
    if state.latest is None:
        raise DeployError.of(f"function '{function_name}' does not exist", "--function-name", "check the name and aws-region")
    urls: dict[str, FunctionUrl] = {}
    provisioned: dict[str, Provisioned] = {}
    for alias in state.lifecycle.aliases:
        if (url := aws.function_url(function_name, alias.name)) is not None:
            urls[alias.name] = url
        if (warm := aws.provisioned(function_name, alias.name)) is not None:
            provisioned[alias.name] = warm
    return Adopted(state, aws.code_location(function_name), urls, provisioned)


def _main_alias(aliases: tuple[AliasState, ...]) -> AliasState | None:
    production = [a for a in aliases if not marker_of(a.description)]
    return next(iter(production or aliases), None)


def _scalar(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # JSON is YAML: every scalar written safely


def _row_value(row: surface.Row, value: Any) -> Any:
    if row.form == "switch":
        return value == row.on
    if row.form == "mounts":
        return [f"{item['Arn']}={item['LocalMountPath']}" for item in value]
    if row.form == "set":
        return sorted(value)
    return value


def entry(adopted: Adopted, now: datetime | None = None) -> str:
    """The deploy file, as YAML text with comments."""
    state = adopted.state
    latest = state.latest
    assert latest is not None  # adopt() refuses a missing function
    raw = latest.raw
    keys: list[tuple[str, Any]] = [("function-name", latest.name)]
    comments: list[str] = []
    if latest.package_type == "Image":
        keys += [("package-type", "Image"), ("image-uri", adopted.code.get("ImageUri", ""))]
    else:
        keys += [("source", ".")]
    for row in surface.ROWS:  # every setting the function has that is not Lambda's own default
        value = surface.reported(row, raw, latest.name)
        default = surface.reported(row, {}, latest.name)
        if surface.normal(row, value) != surface.normal(row, default):
            keys.append((row.input, _row_value(row, value)))
    if state.production.reserved_concurrency is not None:
        keys.append(("reserved-concurrency", state.production.reserved_concurrency))
    if state.production.code_signing:
        keys.append(("code-signing-config-arn", state.production.code_signing))
    tags = {k: v for k, v in state.tags.items() if not k.startswith((DEPLOY_TAGS, "aws:"))}
    if tags:
        keys.append(("tags", tags))
    main = _main_alias(state.lifecycle.aliases)
    if main is not None:
        keys.append(("alias", main.name))
        url = adopted.urls.get(main.name)
        if url is not None:
            keys.append(("function-url", "public" if url.auth_type == "NONE" else "aws-iam"))
            if url.invoke_mode != "BUFFERED":
                keys.append(("function-url-invoke-mode", url.invoke_mode))
        if (warm := adopted.provisioned.get(main.name)) is not None:
            keys.append(("provisioned-concurrency", warm.requested))
    for alias in state.lifecycle.aliases:
        routed = ", ".join(f"{w:.0%} on {v}" for v, w in alias.weights.items())
        whose = f"; {alias.description}" if alias.description else ""
        comments.append(f"alias {alias.name} → version {alias.version}{f' ({routed})' if routed else ''}{whose}")
    moment = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = [
        f"# Written by lambda-deploy init from the live function {latest.name} at {moment}.",
        "# Deployed with the function's own code, this changes no configuration. Set source to where the code is.",
        *(f"# {comment}" for comment in comments),
        "functions:",
    ]
    first = True
    for key, value in keys:
        prefix = "  - " if first else "    "
        first = False
        lines += _yaml_key(prefix, key, value)
    lines += _environment(latest.environment)
    return "\n".join(lines) + "\n"


def _yaml_key(prefix: str, key: str, value: Any) -> list[str]:
    if isinstance(value, list):
        return [f"{prefix}{key}:", *(f"      - {_scalar(item)}" for item in value)] if value else [f"{prefix}{key}: []"]
    if isinstance(value, dict):
        return [f"{prefix}{key}:", *(f"      {_scalar(k)}: {_scalar(v)}" for k, v in value.items())]
    return [f"{prefix}{key}: {_scalar(value)}"]


def _environment(variables: dict[str, str] | Any) -> list[str]:
    if not variables:
        return []
    kept = {k: v for k, v in variables.items() if not (looks_secret_name(k) or could_be_secret(v))}
    secret = sorted(set(variables) - set(kept))
    lines = ["    environment:", *(f"      {_scalar(k)}: {_scalar(v)}" for k, v in kept.items())]
    for name in secret:
        lines += [
            f"      # {name}: not written, it looks secret. environment-mode: merge (the default) keeps it on the function;",
            f"      # to set it from CI, give it in the workflow: environment: {name}=${{{{ secrets.{name} }}}}",
        ]
    if not kept:
        lines[0] = "    # environment:"
    return lines


def download_code(location: str, folder: Path) -> int:
    """Fetch the package at ``location`` (GetFunction's pre-signed URL) into ``folder``; the file count."""
    try:
        with urllib.request.urlopen(location, timeout=60) as answer:  # AWS's pre-signed URL (or the sandbox's)
            data = answer.read()
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (OSError, zipfile.BadZipFile, ValueError) as error:
        raise DeployError.of(f"could not download the function's code: {error}", "--download-code") from None
    root = folder.resolve()
    members = [m for m in archive.infolist() if not m.is_dir()]
    for member in members:
        target = (root / member.filename).resolve()
        if root not in target.parents:
            raise DeployError.of(
                f"the package holds '{member.filename}', which would land outside {folder}; nothing was unpacked", "--download-code"
            )
    for member in members:
        target = root / member.filename
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(archive.read(member))
    return len(members)
