"""Release versions: ``<sha12>`` on main, ``pr<N>-<sha12>`` for PRs; malformed input is refused clearly."""

from __future__ import annotations

import re

import pytest

from tasks.core.versions import InvalidReleaseInput, parse_release_version, release_version

pytestmark = pytest.mark.unit

SHA = "0123456789abcdef0123456789abcdef01234567"
# Flyte versions end up in URLs and image-free identifiers: URL-safe, no ':'.
FLYTE_VERSION = re.compile(r"^[A-Za-z0-9_.-]+$")


@pytest.mark.parametrize(
    ("git_sha", "pr_number", "expected"),
    [
        (SHA, 0, "0123456789ab"),
        (SHA.upper(), 0, "0123456789ab"),
        (f"  {SHA}\n", 0, "0123456789ab"),
        (SHA, 7, "pr7-0123456789ab"),
        (SHA, 12345, "pr12345-0123456789ab"),
        ("a" * 64, 0, "aaaaaaaaaaaa"),
    ],
)
def test_release_version(git_sha: str, pr_number: int, expected: str) -> None:
    version = release_version(git_sha, pr_number)
    assert version == expected
    assert ":" not in version and FLYTE_VERSION.match(version)
    assert parse_release_version(version) == (expected[-12:], pr_number)


def test_pr_and_main_versions_of_one_commit_differ() -> None:
    assert len({release_version(SHA), release_version(SHA, 1), release_version(SHA, 2)}) == 3


@pytest.mark.parametrize(
    "git_sha",
    ["", "main", SHA[:12], SHA + "0", "g" * 40, "refs/heads/main", f"{SHA[:39]}:", "-" + SHA[1:]],
)
def test_malformed_sha_is_refused_with_a_fix(git_sha: str) -> None:
    with pytest.raises(InvalidReleaseInput) as caught:
        release_version(git_sha)
    assert "git_sha" in str(caught.value)
    assert "git rev-parse HEAD" in str(caught.value)


@pytest.mark.parametrize("pr_number", [-1, 10**10, True, "7", 1.5])
def test_malformed_pr_number_is_refused(pr_number: object) -> None:
    with pytest.raises(InvalidReleaseInput, match="PR number"):
        release_version(SHA, pr_number)  # type: ignore[arg-type]


@pytest.mark.parametrize("version", ["", "0123456789a", "pr0-0123456789ab", "pr-0123456789ab", "main", "v:1"])
def test_parse_refuses_non_versions(version: str) -> None:
    with pytest.raises(InvalidReleaseInput):
        parse_release_version(version)
