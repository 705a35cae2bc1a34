"""A source uploaded as one archive: ``git archive`` output unpacked with its commit, unsafe members refused."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

import pytest

from tasks.core.errors import SourceNotFound
from tasks.core.source import source_from_directory
from tasks.core.source_archive import UnsafeSourceArchive, unpack_source_archive

pytestmark = pytest.mark.unit

ENV = {
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com", "PATH": "/usr/bin:/bin", "HOME": "/nonexistent",
}  # fmt: skip


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, env=ENV, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "examples" / "training" / "training").mkdir(parents=True)
    (root / "examples" / "training" / "taxiway.yaml").write_text("pipeline: training\n")
    (root / "examples" / "training" / "training" / "flows.py").write_text("x = 1\n")
    git(root, "init", "--quiet", "--initial-branch", "main")
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", "source")
    return root


def test_git_archive_unpacks_with_its_tree_and_commit(repo: Path, tmp_path: Path) -> None:
    archive = tmp_path / "source.tar.gz"
    git(repo, "archive", "--format=tar.gz", "-o", str(archive), "HEAD")
    root, sha = unpack_source_archive(archive, tmp_path / "out")
    assert root == tmp_path / "out"
    assert (root / "examples" / "training" / "training" / "flows.py").read_text() == "x = 1\n", "sub-directories kept"
    assert sha == git(repo, "rev-parse", "HEAD")
    assert source_from_directory(root, git_sha=sha).git_sha == sha


def test_a_prefixed_archive_keeps_its_prefix_as_a_directory(repo: Path, tmp_path: Path) -> None:
    archive = tmp_path / "source.tar"
    git(repo, "archive", "--format=tar", "--prefix=repo/", "-o", str(archive), "HEAD")
    root, _ = unpack_source_archive(archive, tmp_path / "out")
    assert root == tmp_path / "out", "pipeline_dir means the same as in a clone"
    assert (root / "repo" / "examples" / "training" / "taxiway.yaml").is_file()


def _tar(path: Path, *members: tuple[tarfile.TarInfo, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data else None)
    return path


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


def test_a_plain_tar_has_no_commit(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "a.tgz", (_member("a/flows.py"), b"x"), (_member("b.txt"), b"y"))
    root, sha = unpack_source_archive(archive, tmp_path / "out")
    assert (root, sha) == (tmp_path / "out", "")
    assert (root / "a" / "flows.py").read_text() == "x"


@pytest.mark.parametrize(
    ("member", "named"),
    [
        (_member("../evil.py"), "'../evil.py' points outside"),
        (_member("/etc/evil"), "'/etc/evil' points outside"),
        (_member("ok/../../evil"), "points outside"),
        (_member("link", tarfile.SYMTYPE, "../../outside"), "link 'link' -> '../../outside'"),
        (_member("d/link", tarfile.SYMTYPE, "/etc/passwd"), "-> '/etc/passwd'"),
        (_member("hard", tarfile.LNKTYPE, "../outside"), "link 'hard'"),
        (_member("dev", tarfile.CHRTYPE), "'dev' is not a file, directory or link"),
    ],
)
def test_unsafe_members_are_refused_and_nothing_is_written(tmp_path: Path, member: tarfile.TarInfo, named: str) -> None:
    archive = _tar(tmp_path / "a.tgz", (_member("fine.py"), b"x"), (member, b""))
    with pytest.raises(UnsafeSourceArchive, match=named.replace("(", r"\(")) as caught:
        unpack_source_archive(archive, tmp_path / "out")
    assert "git archive" in str(caught.value), "the fix says how to make a good archive"
    assert list((tmp_path / "out").iterdir()) == [], "checked before anything is extracted"


def test_links_inside_the_tree_are_kept(tmp_path: Path) -> None:
    archive = _tar(
        tmp_path / "a.tgz", (_member("pkg/real.py"), b"x"), (_member("pkg/alias.py", tarfile.SYMTYPE, "real.py"), b"")
    )
    root, _ = unpack_source_archive(archive, tmp_path / "out")
    assert (root / "pkg" / "alias.py").is_symlink() and (root / "pkg" / "alias.py").read_text() == "x"


def test_not_an_archive_or_missing(tmp_path: Path) -> None:
    (tmp_path / "source.tar.gz").write_text("not a tar")
    with pytest.raises(UnsafeSourceArchive, match="cannot read the source archive"):
        unpack_source_archive(tmp_path / "source.tar.gz", tmp_path / "out")
    with pytest.raises(SourceNotFound, match="not found"):
        unpack_source_archive(tmp_path / "absent.tar.gz", tmp_path / "out")
