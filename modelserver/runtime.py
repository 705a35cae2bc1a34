"""An MLServer runtime serving a TorchScript file: float32 tensors in, the model's output tensor out.

Runs inside the model server's venv (see ``install.sh``). The file comes from ``parameters.uri``:
``s3://bucket/key`` (boto3's standard credential chain; ``AWS_ENDPOINT_URL_S3`` points it at moto on
the local stack), ``file://...`` or a plain path. When ``parameters.extra.sha256`` is set the bytes
must hash to it, so a half-written or swapped file is never served.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import torch
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.errors import MLServerError
from mlserver.types import InferenceRequest, InferenceResponse

from modelserver.layout import split_s3_uri

logger = logging.getLogger(__name__)

OUTPUT_NAME = "output-0"


def read_model_bytes(uri: str) -> bytes:
    """The bytes at ``uri`` (``s3://``, ``file://`` or a local path)."""
    if uri.startswith("s3://"):
        bucket, key = split_s3_uri(uri)
        body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"]
        return bytes(body.read())
    return Path(uri.removeprefix("file://")).read_bytes()


class TorchScriptModel(MLModel):
    """One loaded TorchScript module; unversioned settings make it the name's stable alias."""

    async def load(self) -> bool:
        params = self.settings.parameters
        uri = params.uri if params else None
        if not uri:
            # The alias before the first switch: registered so it holds the default slot, never ready.
            logger.info("model %s has no active version yet; not ready", self.name)
            return False
        extra: dict[str, Any] = (params.extra if params else None) or {}
        data = await asyncio.to_thread(read_model_bytes, uri)
        expected = extra.get("sha256")
        actual = hashlib.sha256(data).hexdigest()
        if expected and actual != expected:
            raise MLServerError(f"{uri} has sha256 {actual}, expected {expected}; refusing to serve it")
        torch.set_num_threads(1)
        self._module = torch.jit.load(io.BytesIO(data), map_location="cpu")
        self._module.eval()
        self._release_version = self.version or extra.get("release_version")
        logger.info("loaded model %s version=%s from %s", self.name, self._release_version, uri)
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        if not self.ready:
            raise MLServerError(f"model {self.name} has no active version yet", status_code=503)
        if len(payload.inputs) != 1:
            raise MLServerError(f"expected exactly one input tensor, got {len(payload.inputs)}", status_code=400)
        array = NumpyCodec.decode_input(payload.inputs[0])
        features = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
        with torch.no_grad():
            result = self._module(features)
        return InferenceResponse(
            model_name=self.name,
            model_version=self._release_version,
            outputs=[NumpyCodec.encode_output(OUTPUT_NAME, result.numpy())],
        )
