"""S3: where a package too big to hand Lambda directly waits, under a content-addressed key."""

from __future__ import annotations

import io
from typing import Any

from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
)

from ..errors import DeployError
from .errors import _status, translated

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
                if _status(error) != 404:
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
