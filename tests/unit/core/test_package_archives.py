"""The archives that carry the source into the serialization container and the package out of it.

Pure tar handling; the round trip through a real Docker engine is in
``tests/integration/test_package_archives.py``.
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from tasks.core.package import extract_file, source_archive

pytestmark = pytest.mark.unit


def test_source_archive_holds_the_tree_under_src_and_a_writable_out(tmp_path: Path) -> None:
    source = tmp_path / "pipeline"
    (source / "training").mkdir(parents=True)
    (source / "training" / "flows.py").write_text("x = 1\n")
    (source / "run.sh").write_text("#!/bin/sh\n")
    (source / "run.sh").chmod(0o755)
    os.symlink("training/flows.py", source / "link.py")

    archive = source_archive(source, tmp_path / "source.tar")

    with tarfile.open(archive) as tar:
        members = {member.name: member for member in tar.getmembers()}
        flows = tar.extractfile("src/training/flows.py")
        assert flows is not None and flows.read() == b"x = 1\n"
    assert set(members) == {"src", "src/training", "src/training/flows.py", "src/run.sh", "src/link.py", "out"}
    assert members["out"].isdir() and members["out"].mode == 0o777, "any user in the image may write the package"
    assert members["src/run.sh"].mode & 0o777 == 0o755, "modes are kept"
    assert members["src/link.py"].issym() and members["src/link.py"].linkname == "training/flows.py"
    assert {(member.uid, member.gid, member.uname) for member in members.values()} == {(0, 0, "root")}


def _tar_stream(files: dict[str, bytes], chunk: int = 7) -> list[bytes]:
    """A tar as ``get_archive`` streams it: in small chunks."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    raw = buffer.getvalue()
    return [raw[i : i + chunk] for i in range(0, len(raw), chunk)]


def test_extract_file_writes_the_named_file_from_a_chunked_stream(tmp_path: Path) -> None:
    payload = bytes(range(256)) * 50
    written = extract_file(_tar_stream({"flyte-package.tgz": payload}), "flyte-package.tgz", tmp_path / "p.tgz")
    assert written == tmp_path / "p.tgz"
    assert written.read_bytes() == payload


def test_extract_file_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"flyte-package\.tgz is not in the archive"):
        extract_file(_tar_stream({"other.txt": b"x"}), "flyte-package.tgz", tmp_path / "p.tgz")
    assert not (tmp_path / "p.tgz").exists()
