"""Extract tar archives that came from elsewhere without letting a member escape the destination.

Python's ``data`` filter does this from 3.11.4 on, but the meta image's Debian Python is 3.11.2, so the
members are checked here first, and the filter is applied too where the interpreter has it.
"""

from __future__ import annotations

import tarfile
from pathlib import Path, PurePosixPath


class UnsafeMember(ValueError):
    """A member that would land outside the destination, or is not a file, directory or link."""


def extract_checked(tar: tarfile.TarFile, destination: Path) -> list[tarfile.TarInfo]:
    """Check every member of ``tar``, then extract them all into ``destination``; return the members.

    :raises UnsafeMember: naming the first member that points outside the tree or is a device file.
    """
    members = tar.getmembers()
    for member in members:
        check_member(member)
    safety = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
    tar.extractall(destination, members=members, **safety)  # type: ignore[arg-type]
    return members


def check_member(member: tarfile.TarInfo) -> None:
    """Refuse absolute paths, ``..`` escapes, links out of the tree and anything but files, dirs and links."""
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts:
        raise UnsafeMember(f"member {member.name!r} points outside the tree")
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        raise UnsafeMember(f"member {member.name!r} is not a file, directory or link")
    if member.issym() or member.islnk():
        target = PurePosixPath(member.linkname)
        # A symlink resolves from its own directory, a hard link from the archive's root.
        resolved = (path.parent / target) if member.issym() else target
        if target.is_absolute() or _escapes(resolved):
            raise UnsafeMember(f"link {member.name!r} -> {member.linkname!r} points outside the tree")


def _escapes(path: PurePosixPath) -> bool:
    depth = 0
    for part in path.parts:
        depth += -1 if part == ".." else (0 if part == "." else 1)
        if depth < 0:
            return True
    return False
