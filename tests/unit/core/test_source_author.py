"""The release author is read from the checkout's git history, by the release's commit."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tasks.core.source_author import commit_author, parse_author
from tasks.core.versions import InvalidReleaseInput

pytestmark = pytest.mark.unit


def commit(repo: Path, name: str, email: str) -> str:
    env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": "ci",
           "GIT_COMMITTER_EMAIL": "ci@example.com", "HOME": str(repo.parent), "PATH": "/usr/bin:/bin"}  # fmt: skip
    run = lambda *args: subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True)  # noqa: E731
    if not (repo / ".git").exists():
        run("init", "--quiet", "--initial-branch", "main")
    (repo / "pipeline").mkdir(exist_ok=True)
    (repo / "pipeline" / f"{name}.txt").write_text(name)
    run("add", "-A")
    run("commit", "--quiet", "-m", f"by {name}")
    return run("rev-parse", "HEAD").stdout.strip()


@pytest.mark.parametrize(
    ("line", "author"),
    [("dev@example.com\0Dev One\n", "dev@example.com"), ("\0Dev One\n", "Dev One"), ("\0\n", "")],
)
def test_the_email_is_the_author_else_the_name(line: str, author: str) -> None:
    assert parse_author(line) == author


def test_author_of_the_release_commit_not_of_head(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    first = commit(repo, "alice", "alice@example.com")
    second = commit(repo, "bob", "bob@example.com")
    # From a sub-directory (a monorepo's pipeline_dir), by SHA: each commit keeps its own author.
    assert commit_author(repo / "pipeline", first) == "alice@example.com"
    assert commit_author(repo / "pipeline", second) == "bob@example.com"


def test_unknown_commit_or_no_history_is_unknown_not_an_error(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    commit(repo, "alice", "alice@example.com")
    plain = tmp_path / "upload"
    plain.mkdir()
    assert commit_author(repo, "f" * 40) == ""
    assert commit_author(plain, "f" * 40) == ""
    assert commit_author(tmp_path / "missing", "f" * 40) == ""


def test_a_malformed_sha_never_reaches_git(tmp_path: Path) -> None:
    with pytest.raises(InvalidReleaseInput, match="full commit SHA"):
        commit_author(tmp_path, "--output=/etc/passwd")
