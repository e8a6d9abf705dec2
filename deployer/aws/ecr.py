"""ECR: what an image tag points at, before anything is deployed.

How Lambda reports an image function (Lambda API reference, GetFunction ``Code`` /
``FunctionCodeLocation``; the live service's answers): ``Code.ImageUri`` is the URI as given
(by tag or digest), ``Code.ResolvedImageUri`` is ``REPOSITORY@sha256:DIGEST``, the digest the
tag pointed at when the code was last updated, and the configuration's ``CodeSha256`` is that
digest's hex, without ``sha256:``. Lambda resolves a tag once, at UpdateFunctionCode: pushing a
new image under the same tag changes nothing until the function's code is updated again.

So a tag is resolved here with ECR ``DescribeImages`` (``imageIds=[{"imageTag": TAG}]``, in
the registry and repository the URI names), and the digest compared with ``CodeSha256``:
the same digest is no change, a new one is a new version.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ..errors import DeployError
from ..images import ECR_IMAGE
from .errors import error_code, translated


class EcrGateway:
    def __init__(self, client: Any) -> None:
        self._ecr = client  # a LazyClient: it joins the call log when it is made

    def image_digest(self, image_uri: str) -> str:
        """The digest ``image_uri`` stands for, as Lambda reports it in ``CodeSha256`` (hex, no ``sha256:``)."""
        found = ECR_IMAGE.match(image_uri)
        if found is None:  # settings refuse such a URI; this keeps the gateway honest on its own
            raise DeployError.of(f"'{image_uri}' is not an ECR image", "input 'image-uri'")
        if found.group("digest"):
            return found.group("digest").removeprefix("sha256:")
        where = f"input 'image-uri' ({image_uri})"
        with translated("looking the image up in ECR", where):
            try:
                answer = self._ecr.describe_images(
                    registryId=found.group("registry"),
                    repositoryName=found.group("repository"),
                    imageIds=[{"imageTag": found.group("tag")}],
                )
            except ClientError as error:
                if error_code(error) in ("ImageNotFoundException", "RepositoryNotFoundException"):
                    raise DeployError.of(
                        f"ECR has no image {found.group('repository')}:{found.group('tag')} in registry {found.group('registry')} "
                        f"({error_code(error)})",
                        where,
                        "push the image first, and check the tag, the repository and the region",
                    ) from None
                raise
        return str(answer["imageDetails"][0]["imageDigest"]).removeprefix("sha256:")
