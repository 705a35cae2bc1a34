"""Inputs and outputs for the Get*Data RPCs: ``flyteadmin/pkg/manager/impl/util/data.go``.

Data under ``MAX_INLINE_BYTES`` is returned inline (``full_inputs`` / ``full_outputs``); the URL
blob always carries a presigned GET URL and the size, as flyteadmin does with signed URLs enabled.
"""

from __future__ import annotations

from flyteidl.admin import common_pb2
from flyteidl.core import literals_pb2

from localflyte.storage import MAX_INLINE_BYTES, BlobStore

URL_EXPIRY_SECONDS = 3600


def _blob_and_data(blobs: BlobStore, uri: str) -> tuple[literals_pb2.LiteralMap, common_pb2.UrlBlob]:
    if not uri:
        return literals_pb2.LiteralMap(), common_pb2.UrlBlob()
    size = blobs.size(uri)
    if size is None:
        return literals_pb2.LiteralMap(), common_pb2.UrlBlob()
    url_blob = common_pb2.UrlBlob(url=blobs.presign_get(uri, URL_EXPIRY_SECONDS), bytes=size)
    if size >= MAX_INLINE_BYTES:
        return literals_pb2.LiteralMap(), url_blob
    return blobs.read_literal_map(uri), url_blob


def data_response(
    blobs: BlobStore, inputs_uri: str, output_uri: str, inline_outputs: literals_pb2.LiteralMap | None
) -> tuple[literals_pb2.LiteralMap, common_pb2.UrlBlob, literals_pb2.LiteralMap, common_pb2.UrlBlob]:
    """``GetInputs`` + ``GetOutputs``: (full inputs, inputs URL blob, full outputs, outputs URL blob)."""
    full_inputs, input_blob = _blob_and_data(blobs, inputs_uri)
    if inline_outputs is not None:
        return full_inputs, input_blob, inline_outputs, common_pb2.UrlBlob()
    full_outputs, output_blob = _blob_and_data(blobs, output_uri)
    return full_inputs, input_blob, full_outputs, output_blob
