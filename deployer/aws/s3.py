"""S3: where a package too big to hand Lambda directly waits, under a content-addressed key."""

from __future__ import annotations

import base64
import hashlib
import io
from typing import Any

from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
)

from ..errors import DeployError
from .errors import http_status, translated

# Multipart above 8 MB, parts of 8 MB, four at a time: boto3's managed transfer does the rest.
TRANSFER = TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024, max_concurrency=4)


class S3Gateway:
    """Where a package too big to hand Lambda directly waits: content-addressed keys in a bucket."""

    def __init__(self, client: Any) -> None:
        self._s3 = client  # a LazyClient: it joins the call log when it is made

    def store(self, bucket: str, key: str, data: bytes) -> bool:
        """Upload ``data`` unless the object is there already (its key holds its hash); True when uploaded."""
        where = f"input 's3-bucket' ({bucket})"
        with translated(f"looking for s3://{bucket}/{key}", where):
            try:
                self._s3.head_object(Bucket=bucket, Key=key)
                return False
            except ClientError as error:
                if http_status(error) != 404:
                    raise
        with translated(f"uploading the package to s3://{bucket}/{key}", where):
            try:
                self._s3.upload_fileobj(io.BytesIO(data), bucket, key, Config=TRANSFER)
            except S3UploadFailedError as error:
                cause = error.__context__
                if isinstance(cause, ClientError | BotoCoreError):
                    raise cause from None
                raise DeployError.of(f"uploading the package to s3://{bucket}/{key} failed: {error}", where) from None
        return True

    def object_sha256(self, bucket: str, key: str, version: str | None) -> str:
        """The object's SHA-256, base64, as Lambda reports a package's ``CodeSha256``: S3's own
        checksum when the object was uploaded with one (and not in parts), else read and hashed."""
        where = f"inputs 's3-bucket' / 's3-key' (s3://{bucket}/{key})"
        extra = {"VersionId": version} if version else {}
        with translated(f"reading s3://{bucket}/{key}", where):
            try:
                head = self._s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED", **extra)
            except ClientError as error:
                if http_status(error) == 404:
                    raise DeployError.of(
                        f"s3://{bucket}/{key}{f' version {version}' if version else ''} does not exist",
                        where,
                        "upload the artifact first, or check s3-key and s3-object-version",
                    ) from None
                raise
            checksum = str(head.get("ChecksumSHA256") or "")
            if checksum and "-" not in checksum:  # a multipart upload's checksum is of its parts
                return checksum
            digest = hashlib.sha256()
            for chunk in self._s3.get_object(Bucket=bucket, Key=key, **extra)["Body"].iter_chunks(1024 * 1024):
                digest.update(chunk)
        return base64.b64encode(digest.digest()).decode("ascii")
