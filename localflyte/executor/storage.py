"""The executor's name for localflyte's one blob store (:mod:`localflyte.storage`)."""

from localflyte.storage import BlobNotFoundError, BlobStore, split_uri

__all__ = ["BlobNotFoundError", "BlobStore", "split_uri"]
