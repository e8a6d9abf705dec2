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
import urllib.request
import zipfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from .. import surface
from ..aws import LambdaGateway, Wants
from ..errors import DeployError, InputError
from ..model import AliasState, FunctionState, FunctionUrl, Provisioned
from ..ownership import marker_of
from ..secrets import held_back
from ..settings import INPUT_IDS, load_access
from ..text import printable
from .base import ACCESS, Flag, Report, Request, Spec
from .functions import services_for

DEPLOY_TAGS = "lambda-deploy:"  # the tags lambda-deploy writes itself: not the user's settings


@dataclass(frozen=True)
class Adopted:
    state: FunctionState
    code: dict[str, Any]
    urls: dict[str, FunctionUrl]
    provisioned: dict[str, Provisioned]
    source: str = "."  # where the code is: the folder --download-code unpacked it into


# The deploy file's own words: written plain. Everything else (values, tag keys, variable names) is live text, quoted.
KNOWN_KEYS = frozenset({"functions", *INPUT_IDS})


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


def _row_value(row: surface.Row, value: Any) -> Any:
    if row.form == "switch":
        return value == row.on
    if row.form == "mounts":
        return [f"{item['Arn']}={item['LocalMountPath']}" for item in value]
    if row.form == "set":
        return sorted(value)
    return value


def entry(adopted: Adopted, now: datetime | None = None) -> str:
    """The deploy file, as YAML text with comments. Every value read from AWS is written by
    the YAML emitter, quoted; every comment is one line with control characters escaped: no
    description, tag or name can add a key to the file."""
    state = adopted.state
    latest = state.latest
    assert latest is not None  # adopt() refuses a missing function
    raw = latest.raw
    keys: dict[str, Any] = {"function-name": latest.name}
    if latest.package_type == "Image":
        keys.update({"package-type": "Image", "image-uri": adopted.code.get("ImageUri", "")})
    else:
        keys["source"] = adopted.source
    for row in surface.ROWS:  # every setting the function has that is not Lambda's own default
        value = surface.reported(row, raw, latest.name)
        default = surface.reported(row, {}, latest.name)
        if surface.normal(row, value) != surface.normal(row, default):
            keys[row.input] = _row_value(row, value)
    if state.production.reserved_concurrency is not None:
        keys["reserved-concurrency"] = state.production.reserved_concurrency
    if state.production.code_signing:
        keys["code-signing-config-arn"] = state.production.code_signing
    tags = {k: v for k, v in state.tags.items() if not k.startswith((DEPLOY_TAGS, "aws:"))}
    if tags:
        keys["tags"] = tags
    main = _main_alias(state.lifecycle.aliases)
    if main is not None:
        keys["alias"] = main.name
        url = adopted.urls.get(main.name)
        if url is not None:
            keys["function-url"] = "public" if url.auth_type == "NONE" else "aws-iam"
            if url.invoke_mode != "BUFFERED":
                keys["function-url-invoke-mode"] = url.invoke_mode
        if (warm := adopted.provisioned.get(main.name)) is not None:
            keys["provisioned-concurrency"] = warm.requested
    held = held_back(latest.environment)
    kept = {name: value for name, value in latest.environment.items() if name not in held}
    if kept:
        keys["environment"] = kept  # last: the comments on held-back variables follow it
    comments = []
    for alias in state.lifecycle.aliases:
        routed = ", ".join(f"{w:.0%} on {v}" for v, w in alias.weights.items())
        whose = f"; {alias.description}" if alias.description else ""
        comments.append(f"alias {alias.name} → version {alias.version}{f' ({routed})' if routed else ''}{whose}")
    moment = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    header = [
        f"Written by lambda-deploy init from the live function {latest.name} at {moment}.",
        "Deployed with the function's own code, this changes no configuration.",
        *comments,
    ]
    text = "".join(comment_line(line, "") for line in header)
    text += yaml.dump({"functions": [_live(keys)]}, Dumper=_Writer, sort_keys=False, allow_unicode=True, width=1_000_000)
    if held:
        if not kept:
            text += comment_line("environment:", "    ")
        for name, why in sorted(held.items()):
            text += comment_line(f"{name}: not written, it looks secret ({why}). environment-mode: merge (the default) keeps it", "      ")
            text += comment_line(f"on the function; to set it from CI: environment: {name}=${{{{ secrets.{name} }}}}", "      ")
    return text


class _Live(str):
    """A string read from AWS: the emitter always writes it quoted, whatever it holds."""


class _Writer(yaml.SafeDumper):
    """Block style, list items indented under their key, live strings double-quoted."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


_Writer.add_representer(_Live, lambda dumper, data: dumper.represent_scalar("tag:yaml.org,2002:str", str(data), style='"'))


def _live(value: Any) -> Any:
    if isinstance(value, str):
        return _Live(value)
    if isinstance(value, list):
        return [_live(item) for item in value]
    if isinstance(value, dict):
        return {(key if key in KNOWN_KEYS else _Live(key)): _live(item) for key, item in value.items()}
    return value


def comment_line(text: str, indent: str) -> str:
    """One YAML comment line: line breaks and control characters shown escaped, so that it
    stays one line that YAML ignores."""
    return f"{indent}# {printable(text).replace(chr(10), ' ')}\n"


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


def _writable_file(path: Path, force: bool) -> None:
    if path.is_dir():
        raise InputError.of(f"{path} is a folder", "--output", "give the path of a file, for example deploy.yml")
    if path.exists() and not force:
        raise InputError.of(f"{path} exists; init never overwrites a file unless asked", "--output", "give --force to overwrite it")


def _empty_folder(path: Path, force: bool) -> None:
    if path.exists() and not path.is_dir():
        raise InputError.of(f"{path} is a file, not a folder", "--download-code", "give a folder to unpack the live code into")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise InputError.of(
            f"{path} is not empty: the live code would be mixed with the files already there",
            "--download-code",
            "give an empty or new folder, or --force to write over the files (others are left as they are)",
        )


def run(request: Request) -> Report:
    access = load_access(request.inputs, request.env)
    flags, force = request.flags, bool(request.flags.get("force"))
    output = Path(str(flags["output"])) if flags.get("output") else None
    folder = Path(str(flags["download_code"])) if flags.get("download_code") else None
    if output is not None:
        _writable_file(output, force)  # before anything is read or downloaded
    if folder is not None:
        _empty_folder(folder, force)
    adopted = adopt(services_for(request, access).lambda_, access.function_name)
    if folder is not None:
        location = adopted.code.get("Location")
        if not location:
            raise DeployError.of(
                "the function is a container image: there is no package to download", "--download-code", "pull the image instead"
            )
        count = download_code(str(location), folder)
        request.io.info(f"downloaded the live code: {count} files into {folder}")
        adopted = replace(adopted, source=str(folder))
    text = entry(adopted)
    if output is None:
        return Report(text=text.rstrip("\n"))
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise DeployError.of(f"{output} could not be written: {error.strerror or error}", "--output") from None
    request.io.info(f"wrote {output}: check it with `lambda-deploy list --config {output}`, then `lambda-deploy diff --config {output}`")
    return Report()


SPEC = Spec(
    "read a function made elsewhere (the console) and write its deploy-file entry; never overwrites without --force",
    run,
    inputs=("function-name", *ACCESS),
    flags=(
        Flag("output", "write the deploy file to this path instead of stdout"),
        Flag("download-code", "also fetch the live code (GetFunction's Code.Location) and unpack it into this folder, the entry's source"),
        Flag("force", "overwrite --output, and write over the files in --download-code's folder", switch=True),
    ),
    json=False,
    help={"function-name": "the function to adopt (name or ARN)"},
)
