"""Resolving a pipeline's source: uploads with or without .git, clones of file:// repos, refused input.

The repositories are real (``git init`` in ``tmp_path``), cloned over ``file://`` as a remote would be.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tasks.core.errors import SourceNotFound
from tasks.core.records import SourceRef
from tasks.core.source import (
    clone_source,
    pipeline_root,
    redact_url,
    resolve_source,
    source_from_directory,
    validate_git_ref,
    validate_git_url,
)
from tasks.core.versions import InvalidReleaseInput

pytestmark = pytest.mark.unit

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
}  # fmt: skip


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=GIT_ENV
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with main (two commits, tag v1 on the first), a feature branch and a pipeline dir."""
    path = tmp_path / "origin"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "pipeline").mkdir()
    (path / "pipeline" / "taxiway.yaml").write_text("pipeline: one\n")
    git(path, "add", ".")
    git(path, "commit", "-qm", "one")
    git(path, "tag", "v1")
    (path / "pipeline" / "taxiway.yaml").write_text("pipeline: two\n")
    git(path, "commit", "-qam", "two")
    git(path, "checkout", "-qb", "feature")
    (path / "feature.txt").write_text("f\n")
    git(path, "add", ".")
    git(path, "commit", "-qm", "feature")
    git(path, "checkout", "-q", "main")
    return path


@pytest.mark.parametrize("ref", ["", "main", "v1", "feature", "refs/heads/feature"])
def test_clone_checks_out_the_ref(repo: Path, tmp_path: Path, ref: str) -> None:
    source = clone_source(repo.as_uri(), tmp_path / "clone", git_ref=ref, pr_number=3)
    assert source.git_sha == git(repo, "rev-parse", f"{ref or 'HEAD'}^{{commit}}")
    assert source.ref == ref and source.pr_number == 3
    assert (Path(source.location) / "feature.txt").exists() == (ref in ("feature", "refs/heads/feature"))
    text = (Path(source.location) / "pipeline" / "taxiway.yaml").read_text()
    assert text == ("pipeline: one\n" if ref == "v1" else "pipeline: two\n")


@pytest.mark.parametrize("length", [40, 10])
def test_clone_at_a_commit_sha(repo: Path, tmp_path: Path, length: int) -> None:
    first = git(repo, "rev-parse", "v1^{commit}")
    source = clone_source(repo.as_uri(), tmp_path / "clone", git_ref=first[:length])
    assert source.git_sha == first
    assert (Path(source.location) / "pipeline" / "taxiway.yaml").read_text() == "pipeline: one\n"


@pytest.mark.parametrize("ref", ["no-such-branch", "deadbeefdeadbeef"])
def test_unknown_ref_is_source_not_found_naming_it(repo: Path, tmp_path: Path, ref: str) -> None:
    with pytest.raises(SourceNotFound, match=f"git ref '{ref}' not found"):
        clone_source(repo.as_uri(), tmp_path / "clone", git_ref=ref)


def test_missing_repository_is_source_not_found(tmp_path: Path) -> None:
    with pytest.raises(SourceNotFound):
        clone_source((tmp_path / "nothing").as_uri(), tmp_path / "clone")


@pytest.mark.parametrize(
    "ref",
    [
        "-upload-pack=touch /tmp/pwned", "--help", "main; rm -rf /", "main && id", "$(id)", "`id`", "a|b",
        "a b", "a\nb", "main..feature", "HEAD@{1}", "a~1", "a^", "a:b", "a*", "a?", "a[1]", "a\\b", "/main",
        "main/", "main.lock", ".hidden", "refs/.x", "a//b", "", "x" * 300,
    ],
)  # fmt: skip
def test_malformed_or_dangerous_refs_are_refused(ref: str) -> None:
    with pytest.raises(InvalidReleaseInput, match="git ref"):
        validate_git_ref(ref)


@pytest.mark.parametrize("ref", ["main", "v1.2.3", "feature/x_y", "refs/pull/12/head", "0123abc", "release+1"])
def test_plain_refs_pass(ref: str) -> None:
    assert validate_git_ref(ref) == ref


def test_dangerous_ref_never_reaches_git(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    with pytest.raises(InvalidReleaseInput):
        clone_source(repo.as_uri(), tmp_path / "clone", git_ref=f"--upload-pack=touch {marker}")
    assert not marker.exists() and not (tmp_path / "clone").exists()


@pytest.mark.parametrize(
    "url",
    [
        "ext::sh -c touch% /tmp/pwned", "fd::17", "-u", "--upload-pack=id", "https://h/r.git; id", "file:///r`id`",
        "ftp://h/r.git", "https://h/$(id).git", "", "relative/path",
    ],
)  # fmt: skip
def test_unsafe_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidReleaseInput, match="git URL"):
        validate_git_url(url)


@pytest.mark.parametrize(
    "url", ["https://github.com/org/repo.git", "ssh://git@host:22/org/repo", "git@github.com:org/repo.git", "file:///r"]
)
def test_usual_urls_pass(url: str) -> None:
    assert validate_git_url(url) == url


def test_credentials_never_appear_in_errors(tmp_path: Path) -> None:
    assert redact_url("https://user:s3cret@example.com:8443/r.git") == "https://***@example.com:8443/r.git"
    with pytest.raises(Exception) as caught:
        clone_source("https://user:s3cret@127.0.0.1:1/r.git", tmp_path / "clone")
    assert "s3cret" not in str(caught.value)


def test_upload_with_git_reads_head(repo: Path) -> None:
    source = source_from_directory(repo, pr_number=9)
    assert source == SourceRef(location=str(repo), git_sha=git(repo, "rev-parse", "HEAD"), pr_number=9)


def test_upload_with_git_must_agree_with_explicit_sha(repo: Path) -> None:
    other = git(repo, "rev-parse", "v1^{commit}")
    with pytest.raises(InvalidReleaseInput, match="not at git_sha"):
        source_from_directory(repo, git_sha=other)


def test_upload_without_git_takes_the_explicit_sha(repo: Path, tmp_path: Path) -> None:
    upload = tmp_path / "upload"
    shutil.copytree(repo / "pipeline", upload)
    sha = "ab" * 20
    assert source_from_directory(upload, git_sha=sha.upper()).git_sha == sha


def test_upload_without_git_or_sha_is_refused_even_inside_a_repo(repo: Path) -> None:
    # The pipeline dir sits inside a repository; git must not pick up the enclosing one.
    with pytest.raises(InvalidReleaseInput, match=r"no \.git"):
        source_from_directory(repo / "pipeline")


def test_resolve_source_needs_exactly_one_source(repo: Path, tmp_path: Path) -> None:
    for kwargs in ({}, {"upload": repo, "git_url": repo.as_uri()}):
        with pytest.raises(InvalidReleaseInput, match="exactly one source"):
            resolve_source(tmp_path, **kwargs)  # type: ignore[arg-type]


def test_resolve_source_clone_checks_the_expected_sha(repo: Path, tmp_path: Path) -> None:
    head = git(repo, "rev-parse", "main")
    assert resolve_source(tmp_path / "a", git_url=repo.as_uri(), git_ref="main", git_sha=head).git_sha == head
    assert resolve_source(tmp_path / "b", git_url=repo.as_uri(), git_sha=head).git_sha == head
    with pytest.raises(InvalidReleaseInput, match="not at the expected commit"):
        resolve_source(tmp_path / "c", git_url=repo.as_uri(), git_ref="v1", git_sha=head)


@pytest.mark.parametrize("pipeline_dir", ["../", "../origin", "/etc", "pipeline/../../x", "escape"])
def test_pipeline_dir_cannot_leave_the_source(repo: Path, tmp_path: Path, pipeline_dir: str) -> None:
    (repo / "escape").symlink_to(tmp_path)
    source = SourceRef(location=str(repo), git_sha="a" * 40)
    with pytest.raises(InvalidReleaseInput, match="points outside the source"):
        pipeline_root(source, pipeline_dir)


def test_pipeline_dir_inside_the_source(repo: Path) -> None:
    source = SourceRef(location=str(repo), git_sha="a" * 40)
    assert pipeline_root(source, "pipeline") == (repo / "pipeline").resolve()
    assert pipeline_root(source, ".") == repo.resolve()
    with pytest.raises(SourceNotFound, match="'nope' not found"):
        pipeline_root(source, "nope")
