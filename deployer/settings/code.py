"""Where the code comes from, and the function URL's own settings.

The code is one of: the packaged ``source`` (a directory, a file or a ready .zip), a
container image in ECR (``package-type: Image`` with ``image-uri``), or an object already
in S3 (``s3-bucket`` + ``s3-key``, optionally ``s3-object-version``: "build once, promote the
same artifact"). Giving two of them is an error that says which to drop. The function URL
takes ``function-url-cors`` (``key=value`` lines) and ``function-url-invoke-mode``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..images import ECR_IMAGE
from ..limits import api_field
from ..surface import REMOVE, TEMPLATE_SAMPLE, fill, member_shape
from .inputs import Reader, lines_of
from .table import DEFAULTS

CORS_KEYS: Mapping[str, str] = {
    "allow-origins": "AllowOrigins",
    "allow-methods": "AllowMethods",
    "allow-headers": "AllowHeaders",
    "expose-headers": "ExposeHeaders",
    "max-age": "MaxAge",
    "allow-credentials": "AllowCredentials",
}


@dataclass(frozen=True)
class CodeSource:
    package_type: str | None = None  # Zip | Image; None: as the function has it (Zip for a new one)
    image_uri: str | None = None
    s3_key: str | None = None
    s3_object_version: str | None = None

    @property
    def kind(self) -> str:
        """package (built from source) | image | s3 (an object deployed as it is)."""
        return "image" if self.image_uri else "s3" if self.s3_key else "package"


def _given(reader: Reader, name: str) -> bool:
    """Given by the user, not just action.yml's default that the runner always passes."""
    value = reader.given(name)
    return value is not None and value != DEFAULTS.get(name)


def read_code(reader: Reader, bucket: str | None) -> CodeSource:
    code = CodeSource(
        package_type=reader.api_text("package-type"),
        image_uri=reader.parse(
            "image-uri",
            _image_uri,
            "for example: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders:4f2c1e9 ({region} and {account} in waves)",
        ),
        s3_key=reader.api_text("s3-key"),
        s3_object_version=reader.api_text("s3-object-version"),
    )
    source, requirements = _given(reader, "source"), _given(reader, "requirements")
    if code.image_uri and code.package_type != "Image":
        reader.fail("image-uri", "needs package-type: Image", "set package-type: Image for a container-image function")
    if code.package_type == "Image" and not code.image_uri:
        reader.fail("package-type", "Image needs image-uri", "give the ECR image by tag or digest in image-uri")
    if code.image_uri and code.s3_key:
        reader.fail("s3-key", "cannot be combined with image-uri", "an image function's code is the image; drop s3-key")
    for name, used in (("image-uri", code.image_uri), ("s3-key", code.s3_key)):
        if used and source:
            reader.fail(
                "source", f"cannot be combined with {name}", f"the code is {name}'s: drop source (or drop {name} to package source)"
            )
        if used and requirements:
            reader.fail("requirements", f"cannot be combined with {name}", "vendor the packages when you build the artifact")
    if code.s3_key and not bucket:
        reader.fail("s3-key", "needs s3-bucket", "name the bucket that holds the object")
    if code.s3_object_version and not code.s3_key:
        reader.fail("s3-object-version", "needs s3-key", "name the object whose version to deploy")
    return code


def _image_uri(value: str) -> str:
    """An ECR image URI, which may hold {region} and {account}: each target of a wave fills them in."""
    if not ECR_IMAGE.match(fill(value, TEMPLATE_SAMPLE)):
        raise ValueError(f"'{value[:120]}' is not an ECR image: ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY:TAG or @sha256:DIGEST")
    return value


def image_region_problem(image_uri: str, region: str) -> str:
    """Why Lambda in ``region`` cannot pull ``image_uri`` (filled in), or "". Lambda takes a container
    image only from an ECR repository in the function's own region (another account's is fine:
    Developer Guide, "Create a Lambda function using a container image")."""
    found = ECR_IMAGE.match(image_uri)
    if found is None or found.group("region") == region:
        return ""
    return f"the image is in ECR in {found.group('region')} and the function in {region}: Lambda pulls images only from its own region"


IMAGE_REGION_HINT = (
    "push the image to (or replicate it into) the function's region; with waves, write {region} in image-uri "
    "(ECR replication keeps the digest, so every region runs the same image)"
)


def parse_cors(value: str) -> dict[str, Any]:
    """``key=value`` lines (lists comma-separated) -> the function URL's ``Cors``, checked against
    the model; ``none`` -> ``{}`` (no CORS)."""
    if value.strip().lower() == REMOVE:
        return {}
    shape = member_shape(("Cors",), "CreateFunctionUrlConfig")
    cors: dict[str, Any] = {}
    for line in lines_of(value):
        key, equals, raw = line.partition("=")
        member = CORS_KEYS.get(key.strip().lower())
        if not equals or member is None:
            raise ValueError(f"'{line[:80]}' is not KEY=VALUE with KEY one of: {', '.join(CORS_KEYS)}")
        cors[member] = _cors_value(member, shape.members[member], raw.strip())
    return cors


def _cors_value(member: str, shape: Any, raw: str) -> Any:
    if shape.type_name == "boolean":
        if raw.lower() not in ("true", "false"):
            raise ValueError(f"{member}: '{raw}' is not true or false")
        return raw.lower() == "true"
    if shape.type_name == "integer":
        return api_field("lambda", shape.name).check(raw, "seconds")
    items = [item.strip() for item in raw.split(",") if item.strip()]
    limit = shape.metadata.get("max")
    if limit is not None and len(items) > limit:
        raise ValueError(f"{member}: {len(items)} given; Lambda takes at most {limit}")
    for item in items:
        try:
            api_field("lambda", shape.member.name).check(item)
        except ValueError as error:
            raise ValueError(f"{member}: {error}") from None
    return items
