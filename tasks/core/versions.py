"""Release versions: explicit, domain-independent strings derived from the git SHA.

A release is registered under the same version in every domain, so the version can never be
flytekit's computed hash (which includes the domain). Main-branch releases are ``<sha12>``; a pull
request's are ``pr<N>-<sha12>``, so two PRs built from one commit stay isolated. Versions contain no
``:`` (image references and Flyte's CLIs split on it) and only URL-safe characters.
"""

from __future__ import annotations

import re

from tasks.core.errors import PermanentError

#: How many hex digits of the commit SHA a version carries (git's own abbreviations stay unique far below this).
SHA_PREFIX_LENGTH = 12
#: The largest PR number accepted; GitHub and GitLab numbers stay far below it.
MAX_PR_NUMBER = 10**9

# SHA-1 repositories have 40-hex object names, SHA-256 repositories 64.
_FULL_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_VERSION = re.compile(r"^(?:pr(?P<pr>[1-9][0-9]*)-)?(?P<sha>[0-9a-f]{12})$")


class InvalidReleaseInput(PermanentError):
    """A release input (commit SHA, PR number, git ref or URL, version) is malformed."""

    default_fix = "pass the full commit SHA (git rev-parse HEAD), a PR number >= 1 (0 for main) and a plain git ref"


def validate_git_sha(git_sha: str) -> str:
    """The full commit SHA, lower-cased.

    :raises InvalidReleaseInput: unless it is 40 (or 64, for SHA-256 repositories) hex digits.
    """
    normalized = git_sha.strip().lower()
    if not _FULL_SHA.match(normalized):
        raise InvalidReleaseInput(
            f"git SHA {git_sha!r} is not a full commit SHA (40 hex digits)",
            where="git_sha",
            fix="pass the output of `git rev-parse HEAD`, not a branch name or an abbreviated SHA",
        )
    return normalized


def validate_pr_number(pr_number: int) -> int:
    """The PR number: 0 for a main-branch release, otherwise a positive integer.

    :raises InvalidReleaseInput: if it is negative, too large or not an integer.
    """
    if isinstance(pr_number, bool) or not isinstance(pr_number, int) or not 0 <= pr_number <= MAX_PR_NUMBER:
        raise InvalidReleaseInput(
            f"PR number {pr_number!r} is not an integer between 0 and {MAX_PR_NUMBER}",
            where="pr_number",
            fix="pass the pull request's number, or 0 for a main-branch release",
        )
    return pr_number


def release_version(git_sha: str, pr_number: int = 0) -> str:
    """The release version: ``<sha12>`` for the main branch, ``pr<N>-<sha12>`` for pull request ``N``.

    :param git_sha: the full commit SHA the release is built from.
    :param pr_number: the pull request number, 0 for the main branch.
    :raises InvalidReleaseInput: if the SHA or the PR number is malformed.
    """
    sha12 = validate_git_sha(git_sha)[:SHA_PREFIX_LENGTH]
    pr = validate_pr_number(pr_number)
    return f"pr{pr}-{sha12}" if pr else sha12


def parse_release_version(version: str) -> tuple[str, int]:
    """Split a release version into its 12-hex SHA prefix and PR number (0 for main).

    :raises InvalidReleaseInput: if ``version`` is not of the form ``<sha12>`` or ``pr<N>-<sha12>``.
    """
    match = _VERSION.match(version)
    if match is None:
        raise InvalidReleaseInput(
            f"{version!r} is not a release version",
            where="version",
            fix="use '<sha12>' (12 hex digits of the commit) or 'pr<N>-<sha12>' for pull request N",
        )
    return match["sha"], int(match["pr"] or 0)
