"""Who wrote a release: the author of its commit, read from a git checkout.

Approval policies refuse the release author's own approval (:func:`tasks.core.governance_policy.is_author`
matches on the approver's email), so the author recorded is the commit author's email, or their name
when the commit has no email. The commit is looked up by its SHA, so a repository that merely encloses
the directory (and does not hold that commit) yields nothing rather than a wrong author.
"""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

from tasks.core.versions import validate_git_sha

logger = logging.getLogger(__name__)

GIT_TIMEOUT_S = 30
# The same neutralized configuration as every git call on a checkout (see tasks.core.source).
_SAFE_CONFIG = ("-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-c", "safe.directory=*")


def parse_author(log_line: str) -> str:
    """The author from ``git log --format=%ae%x00%an`` output: the email, else the name; "" for neither."""
    email, _, name = log_line.strip().partition("\0")
    return email.strip() or name.strip()


def commit_author(directory: Path, git_sha: str) -> str:
    """The author of commit ``git_sha`` in the git repository at or above ``directory``; "" when unknown.

    Unknown is not an error: an uploaded tree without ``.git`` has no history to read. Nothing is raised
    for a missing repository or commit; a malformed SHA raises (it never reaches git).

    :param directory: the checkout (or a directory inside it).
    :param git_sha: the release's commit.
    :raises InvalidReleaseInput: if ``git_sha`` is not a full hexadecimal SHA.
    """
    sha = validate_git_sha(git_sha)
    if not directory.is_dir():
        return ""
    argv = ["git", *_SAFE_CONFIG, "log", "-1", "--format=%ae%x00%an", sha, "--"]
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1"}
    try:
        result = subprocess.run(
            argv, cwd=directory, env=env, capture_output=True, text=True, timeout=GIT_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        logger.info("release author unknown sha=%s directory=%s: %s", sha, directory, err)
        return ""
    if result.returncode != 0:
        logger.info("release author unknown sha=%s directory=%s: %s", sha, directory, result.stderr.strip()[:200])
        return ""
    return parse_author(result.stdout)
