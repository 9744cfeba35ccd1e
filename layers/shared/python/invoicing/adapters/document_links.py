"""Fresh, short-lived presigned GETs of a stored invoice PDF (SigV4, the exact stored version)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

PRESIGNED_SECONDS = 300


class DocumentLinks:
    def __init__(self, bucket: str, client: Any | None = None) -> None:
        self._bucket = bucket
        # SigV4 explicitly: against some endpoints boto3 would otherwise sign SigV2 query strings.
        self._client = client or boto3.client("s3", config=Config(signature_version="s3v4"))

    def presigned_pdf(self, key: str, version_id: str | None, file_name: str) -> str:
        params: dict[str, Any] = {
            "Bucket": self._bucket,
            "Key": key,
            "ResponseContentDisposition": f'attachment; filename="{file_name}"',
            "ResponseContentType": "application/pdf",
        }
        if version_id:
            params["VersionId"] = version_id
        url: str = self._client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=PRESIGNED_SECONDS
        )
        return url

    def presigned_file(self, key: str, file_name: str, content_type: str) -> str:
        """The newest version of a report file (a report made again replaces its content)."""
        url: str = self._client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self._bucket,
                "Key": key,
                "ResponseContentDisposition": f'attachment; filename="{file_name}"',
                "ResponseContentType": content_type,
            },
            ExpiresIn=PRESIGNED_SECONDS,
        )
        return url
