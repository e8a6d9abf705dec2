"""Inputs -> one frozen, validated ``Settings`` (the pipeline's first stage).

Contract: ``load_settings(inputs, env)`` takes the action's inputs by id (the same ids
as action.yml and the CLI's ``--flags``; empty means "not given") and the process
environment, and either returns a ``Settings`` or raises ``InputError`` listing
*every* problem found. Nothing here talks to AWS, so every user error surfaces before
the first mutating call. Environment values never appear in a problem's text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import surface
from ..errors import InputError
from ..limits import snapstart_problem
from ..masking import values_to_mask
from ..model import Command
from ..naming import alias_from_ref, alias_problem, ref_from_env
from ..ownership import Owner, describe_preview
from .code import IMAGE_REGION_HINT, CodeSource, image_region_problem, parse_cors, read_code
from .context import (
    ChainedCredentials,
    CommentTarget,
    Credentials,
    GitContext,
    OidcCredentials,
    local_branch,
    pull_request_number,
    read_comment,
    read_credentials,
    read_owner,
)
from .fleet import FleetSettings, load_fleet_settings, load_waves_fleet
from .function import FunctionSettings, environment_problems, parse_environment, read_function
from .inputs import (
    ALWAYS_EXCLUDED,
    COMMANDS,
    PLAIN_NAME_MAX,
    REGION_PATTERN,
    S3_PREFIX_MAX,
    Reader,
    boolean,
    inputs_from_env,
    integer_in,
    lines_of,
    one_of,
    seconds_between,
)
from .rollout import RolloutSettings, read_rollout
from .table import API_FIELDS, DEFAULT_PRUNE_GRACE, DEFAULT_WAIT_TIMEOUT, DEFAULTS, ENGINES, ENVIRONMENT_MODES, FUNCTION_URLS, INPUT_IDS
from .workspace import read_requirements, read_source


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
    credentials: Credentials | None = None  # None: the ambient AWS credentials
    comment: CommentTarget | None = None  # None: no pull-request comment
    comment_skipped: str = ""  # why a comment that was asked for will not be written
    s3_bucket: str | None = None  # None: the zip goes to Lambda directly (50 MB at most)
    s3_key_prefix: str = "lambda-deploy/"
    prune_grace: float = DEFAULT_PRUNE_GRACE  # seconds: younger versions are never pruned
    owner: Owner | None = None  # the pull request or branch this run is for; None outside GitHub
    alias_derived: bool = False  # the alias comes from the ref (a preview), not from input 'alias'
    code: CodeSource = field(default_factory=CodeSource)  # the package built from source, an image, or an S3 object
    url_cors: Mapping[str, Any] | None = None  # the function URL's Cors; None: leave it, {}: none
    url_invoke_mode: str | None = None  # BUFFERED | RESPONSE_STREAM; None: leave it

    @property
    def alias_marker(self) -> str | None:
        """The ownership marker an alias this run creates carries: a derived alias's, and any
        alias a pull request creates (so that its cleanup may delete it)."""
        if self.owner is None or not (self.alias_derived or self.owner.pull_request is not None):
            return None
        return self.owner.marker

    @property
    def preview(self) -> bool:
        """A pull request's run, or a preview alias derived from a branch: it writes nothing that
        production reads (no function tags, no previous-alias, no function-wide concurrency or
        code signing), and records its commit on its own version and alias."""
        return self.alias_derived or (self.owner is not None and self.owner.pull_request is not None)

    @property
    def alias_description(self) -> str | None:
        """What a preview's alias says of itself: its ownership marker and the commit, run and
        actor of the deploy that last moved it. None: leave an alias's description as it is."""
        marker = self.alias_marker
        return describe_preview(marker, self.git.sha, self.git.run_id, self.git.actor) if marker else None

    @property
    def command(self) -> Command:
        return self.rollout.command

    @property
    def ships_code(self) -> bool:
        """Whether this run packages (or locates) code: a deploy, and the diff that previews one."""
        return self.command in (Command.DEPLOY, Command.DIFF)

    def _templates(self) -> list[str]:
        """The values that may hold {region} and {account}: s3-bucket, image-uri and the templated rows."""
        rows = (str(self.function.configuration.get(row.input) or "") for row in surface.ROWS if row.templated)
        return [self.s3_bucket or "", self.code.image_uri or "", *rows]

    @property
    def templated(self) -> bool:
        """Whether s3-bucket, image-uri or a setting holds {region} / {account} for each target to fill in."""
        return any("{" in value for value in self._templates())

    def filled(self, region: str, account: Callable[[], str]) -> Settings:
        """These settings with {region} and {account} filled in (``account`` is asked only when needed)."""
        values = {"region": region, "account": account() if any("{account}" in text for text in self._templates()) else ""}
        configuration = dict(self.function.configuration)
        for row in surface.ROWS:
            if row.templated and isinstance(configuration.get(row.input), str):
                configuration[row.input] = surface.fill(configuration[row.input], values)
        bucket = surface.fill(self.s3_bucket, values) if self.s3_bucket else self.s3_bucket
        image = surface.fill(self.code.image_uri, values) if self.code.image_uri else self.code.image_uri
        return replace(
            self, s3_bucket=bucket, code=replace(self.code, image_uri=image), function=replace(self.function, configuration=configuration)
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must be masked before anything is printed (the rule: ``masking``)."""
        tokens = [self.credentials.request_token] if isinstance(self.credentials, OidcCredentials) else []
        tokens += [self.comment.token] if self.comment else []
        return values_to_mask(self.function.environment, tokens)


def _read_alias(reader: Reader, env: Mapping[str, str], required: bool = True) -> str:
    given = reader.given("alias")
    if given is not None:
        problem = alias_problem(given)
        if problem:
            reader.fail("alias", f"'{given}' {problem}", "use 1-128 letters, digits, '-' or '_', not all digits")
        return given
    ref = ref_from_env(env)
    derived = alias_from_ref(ref)
    if not derived and required:
        reader.fail(
            "alias",
            "is not given and cannot be derived from the git ref" + (f" '{ref}'" if ref else ""),
            "set alias (for example: live)",
            "give --alias (for example: live), or run it in a git checkout: its branch names the alias as a push would",
        )
    return derived


def _read_region(reader: Reader, env: Mapping[str, str]) -> str:
    region = reader.given("aws-region") or env.get("AWS_REGION", "") or env.get("AWS_DEFAULT_REGION", "")
    if not region:
        reader.fail(
            "aws-region", "no region given and neither AWS_REGION nor AWS_DEFAULT_REGION is set", "set aws-region (for example: eu-west-1)"
        )
    elif not REGION_PATTERN.match(region):
        reader.fail("aws-region", f"'{region}' is not an AWS region name", "for example: us-east-1, eu-west-1")
    return region


def _read_function_name(reader: Reader) -> str:
    if reader.given("function-name") is None:
        reader.fail("function-name", "is required", "give the function's name or ARN")
        return ""
    name = reader.api_text("function-name")
    if name is not None and ":" not in name and len(name) > PLAIN_NAME_MAX:
        # The model's 140 is for an ARN; a plain name may have 64 characters.
        reader.fail("function-name", f"is {len(name)} characters long; a function name may have {PLAIN_NAME_MAX}")
    return name or ""


def _read_prune_grace(reader: Reader) -> float:
    value = reader.parse("prune-grace", seconds_between(0, 30 * 24 * 3600))
    return DEFAULT_PRUNE_GRACE if value is None else value


def _key_prefix(value: str) -> str:
    if len(value) > S3_PREFIX_MAX or value.startswith("/"):
        raise ValueError(f"'{value[:40]}' is not a usable S3 key prefix: at most {S3_PREFIX_MAX} characters, not starting with '/'")
    return value


def _check_production_combinations(reader: Reader, settings: Settings) -> None:
    if settings.rollout.previous_alias is not None and settings.rollout.previous_alias == settings.alias:
        reader.fail("previous-alias", f"is alias '{settings.alias}' itself", "name another alias, for example: previous")
    runtime = settings.function.runtime
    if settings.function.snapstart and runtime and (problem := snapstart_problem(runtime)):
        reader.fail("snapstart", problem)


@dataclass(frozen=True)
class Access:
    """What an operator command (init, status, logs, invoke) needs: the function, where it is,
    and the same credential chain as ``deploy`` (role-to-assume with GitHub's OIDC token, or
    the ambient credentials)."""

    function_name: str
    region: str
    credentials: OidcCredentials | None
    keep_versions: int = 0
    prune_grace: float = DEFAULT_PRUNE_GRACE
    wait_timeout: int = DEFAULT_WAIT_TIMEOUT


def load_access(inputs: Mapping[str, str], env: Mapping[str, str]) -> Access:
    """The inputs an operator command takes; ``InputError`` lists every problem."""
    reader = Reader(inputs)
    git = GitContext.from_env(env)
    access = Access(
        function_name=_read_function_name(reader),
        region=_read_region(reader, env),
        credentials=read_credentials(reader, env, git),
        keep_versions=reader.parse("keep-versions", integer_in(0, 10_000, "versions")) or 0,
        prune_grace=_read_prune_grace(reader),
    )
    if reader.problems:
        raise InputError(*reader.problems)
    return access


def load_settings(inputs: Mapping[str, str], env: Mapping[str, str], require_alias: bool = True) -> Settings:
    """Validate every input at once; raise ``InputError`` listing all problems. Without
    ``require_alias`` (``list``: it moves no alias) an alias that cannot be derived is "" """
    reader = Reader(inputs)
    base = Path(env.get("GITHUB_WORKSPACE") or ".")
    git = GitContext.from_env(env)
    comment, comment_skipped = read_comment(reader, env, git)
    rollout = read_rollout(reader)
    diff = rollout.command is Command.DIFF  # a deploy's plan, rendered: it changes nothing
    bucket = reader.api_template("s3-bucket")
    code = read_code(reader, bucket)
    # Only a deploy packages code, and only from source; promote, rollback and cleanup need no checkout.
    packages = rollout.command in (Command.DEPLOY, Command.DIFF) and code.kind == "package"
    source = read_source(reader, base) if packages else base / reader.raw("source")
    settings = Settings(
        function_name=_read_function_name(reader),
        source=source,
        exclude=tuple(lines_of(reader.raw("exclude"))),
        requirements=read_requirements(reader, base, source) if packages else None,
        function=read_function(reader),
        alias=_read_alias(reader, env, require_alias),
        dry_run=diff or bool(reader.parse("dry-run", boolean)),
        region=_read_region(reader, env),
        wait_timeout=reader.parse("wait-timeout", integer_in(1, 3600, "seconds")) or DEFAULT_WAIT_TIMEOUT,
        git=git,
        rollout=rollout,
        function_url=reader.parse("function-url", one_of(FUNCTION_URLS)) or "none",
        keep_versions=reader.parse("keep-versions", integer_in(0, 10_000, "versions")) or 0,
        credentials=read_credentials(reader, env, git),
        comment=comment,
        comment_skipped=comment_skipped,
        s3_bucket=bucket,
        s3_key_prefix=reader.parse("s3-key-prefix", _key_prefix) or "",
        prune_grace=_read_prune_grace(reader),
        owner=read_owner(env, git),
        alias_derived=reader.given("alias") is None,
        code=code,
        url_cors=reader.parse("function-url-cors", parse_cors),
        url_invoke_mode=reader.api_text("function-url-invoke-mode"),
    )
    _check_production_combinations(reader, settings)
    image = settings.code.image_uri
    if settings.ships_code and image and "{" not in image and (problem := image_region_problem(image, settings.region)):
        reader.fail("image-uri", problem, IMAGE_REGION_HINT)
    if settings.command is Command.LIST:
        reader.fail("command", "list only applies with config", "give the deploy file in config")
    if reader.problems:
        raise InputError(*reader.problems)
    return settings


__all__ = [
    "ALWAYS_EXCLUDED",
    "API_FIELDS",
    "COMMANDS",
    "DEFAULTS",
    "ENGINES",
    "ENVIRONMENT_MODES",
    "FUNCTION_URLS",
    "INPUT_IDS",
    "Access",
    "ChainedCredentials",
    "CodeSource",
    "CommentTarget",
    "Credentials",
    "FleetSettings",
    "FunctionSettings",
    "GitContext",
    "OidcCredentials",
    "RolloutSettings",
    "Settings",
    "environment_problems",
    "inputs_from_env",
    "load_access",
    "load_fleet_settings",
    "load_settings",
    "load_waves_fleet",
    "local_branch",
    "parse_environment",
    "pull_request_number",
]
