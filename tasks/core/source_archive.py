"""A pipeline's source uploaded as one archive (``.tar`` / ``.tar.gz``), unpacked safely.

``pyflyte run --remote`` uploads a file input as it is, whereas it flattens a directory input (flytekit
1.16), so an archive is the way to send a source tree with sub-directories. ``git archive`` makes one
and records the commit in the archive's pax header, which is read here when no ``git_sha`` is given::

    git archive --format=tar.gz -o /tmp/source.tar.gz HEAD

Extraction never writes outside its destination: absolute paths, ``..``, links leaving the tree and
device files are refused, whatever Python's own tarfile filters offer in the image.
"""

from __future__ import annotations

import logging
import re
import tarfile
from pathlib import Path

from tasks.core.errors import PermanentError, SourceNotFound
from tasks.core.safe_tar import UnsafeMember, extract_checked

logger = logging.getLogger(__name__)

_SHA = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")


class UnsafeSourceArchive(PermanentError):
    """The archive is unreadable or holds a member that would land outside the source tree."""

    default_fix = "make the archive with `git archive --format=tar.gz -o source.tar.gz HEAD`"


def unpack_source_archive(archive: Path, destination: Path) -> tuple[Path, str]:
    """Extract ``archive`` into ``destination``; return the tree's root and the commit ``git archive`` recorded.

    The root is always ``destination``, so ``pipeline_dir`` means the same as in a clone (an archive
    made with ``--prefix=repo/`` needs ``pipeline_dir: repo/...``). The commit is "" when the archive
    does not carry one.

    :raises SourceNotFound: if ``archive`` does not exist.
    :raises UnsafeSourceArchive: if it is not a tar archive or a member is unsafe (naming it).
    """
    if not archive.is_file():
        raise SourceNotFound("uploaded source archive not found", where=str(archive))
    destination.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = extract_checked(tar, destination)
            commit = str(tar.pax_headers.get("comment", "")).strip()
    except UnsafeMember as err:
        raise UnsafeSourceArchive(str(err).replace("the tree", "the source tree"), where=str(archive)) from err
    except tarfile.TarError as err:
        raise UnsafeSourceArchive(f"cannot read the source archive: {err}", where=str(archive)) from err
    sha = commit if _SHA.match(commit) else ""
    logger.info("source archive unpacked archive=%s members=%d sha=%s", archive.name, len(members), sha or "-")
    return destination, sha
