"""A pipeline's source at one commit: an uploaded directory, or a git URL cloned at a ref.

``pyflyte run --remote`` uploads a local path as a ``FlyteDirectory``; the task downloads it and
passes the local path here. The commit SHA comes from the upload's ``.git``, or from an explicit
``git_sha`` when the upload has none. Otherwise the repository is cloned (``git clone --no-checkout``,
fetch the ref, check out the fetched commit).

Git runs as a subprocess with argv lists, never through a shell. Refs and URLs are validated before
they reach git (no leading ``-``, no shell metacharacters, only known transports), and the git
environment forbids prompts and exotic transports such as ``ext::``.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tasks.core.errors import PermanentError, SourceNotFound, TransientError
from tasks.core.records import SourceRef
from tasks.core.versions import InvalidReleaseInput, validate_git_sha, validate_pr_number

logger = logging.getLogger(__name__)

#: How long one git command may take (a clone of a large repository included).
GIT_TIMEOUT_S = 600
#: Transports git may use; ``ext::`` (runs commands) and ``fd::`` are refused by git itself.
ALLOWED_GIT_PROTOCOLS = "file:git:http:https:ssh"

_REF = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._/+-]{0,254}$")
_HEX_REF = re.compile(r"^[0-9a-fA-F]{7,64}$")
_SCP_URL = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[A-Za-z0-9._/~+-]+$")
_URL_SCHEMES = ("https", "http", "ssh", "git", "file")
_UNSAFE_URL_CHARS = re.compile(r"[\s;&|`$<>\\\"'(){}*?!\[\]^]")
# Server-side configuration a malicious .git could carry is neutralized for every git call.
_SAFE_CONFIG = ("-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-c", "safe.directory=*")
_CREDENTIALS = re.compile(r"(://)[^/@\s]+@")
_MISSING = ("does not exist", "not found", "not a git repository", "does not appear to be a git", "error: 404")
_UNREACHABLE = ("could not resolve host", "connection refused", "timed out", "connection reset", "unable to access")


class SourceUnavailable(TransientError):
    """The git server did not answer (network, DNS, timeout); the same clone may succeed later."""

    default_fix = "check that the git server is reachable from the task, then retry"


class GitFailed(PermanentError):
    """A git command failed for a reason retrying cannot fix."""

    default_fix = "check the repository URL, the ref and the task's git credentials"


def validate_git_ref(ref: str) -> str:
    """A branch, tag, ``refs/...`` path or commit SHA that is safe to hand to git.

    :raises InvalidReleaseInput: if it starts with ``-`` or ``.``, holds a character outside
        ``[A-Za-z0-9._/+-]`` (shell metacharacters, spaces, ``~^:?*[\\``), ``..``, ``//``, ``@{`` or
        ends in ``/``, ``.`` or ``.lock`` (git's own ref rules).
    """
    bad = (
        not _REF.match(ref)
        or ".." in ref
        or "//" in ref
        or ref.endswith(("/", ".", ".lock"))
        or any(part.startswith(".") for part in ref.split("/"))
    )
    if bad:
        raise InvalidReleaseInput(
            f"git ref {ref!r} is not a plain branch, tag, refs/... path or commit SHA",
            where="git_ref",
            fix="use letters, digits and . _ / + - only, not starting with '-' (e.g. main, v1.2, refs/pull/7/head)",
        )
    return ref


def validate_git_url(url: str) -> str:
    """A clone URL: ``https``, ``http``, ``ssh``, ``git`` or ``file`` URL, or ``user@host:path``.

    :raises InvalidReleaseInput: for another transport (``ext::``, ``fd::``), a leading ``-``,
        whitespace or shell metacharacters.
    """
    parts = urlsplit(url)
    ok = not url.startswith("-") and not _UNSAFE_URL_CHARS.search(url)
    ok = ok and (_SCP_URL.match(url) is not None or (parts.scheme in _URL_SCHEMES and bool(parts.netloc or parts.path)))
    if not ok:
        raise InvalidReleaseInput(
            f"git URL {redact_url(url)!r} is not an https, http, ssh, git or file URL (or user@host:path)",
            where="git_url",
            fix="pass the repository's clone URL, e.g. https://github.com/org/repo.git",
        )
    return url


def redact_url(url: str) -> str:
    """The URL without its password or token (``https://user:token@host`` → ``https://***@host``)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def resolve_source(
    workdir: Path,
    *,
    upload: Path | None = None,
    git_url: str = "",
    git_ref: str = "",
    git_sha: str = "",
    pr_number: int = 0,
) -> SourceRef:
    """The pipeline's source: the uploaded directory if given, otherwise ``git_url`` cloned at ``git_ref``.

    :param workdir: an empty directory to clone into (unused for an upload).
    :param upload: the local path of an uploaded source tree.
    :param git_url: the repository to clone when nothing is uploaded.
    :param git_ref: branch, tag, ``refs/...`` or commit to clone; "" for the remote's HEAD (or ``git_sha``).
    :param git_sha: the commit the upload was taken from (required when it has no ``.git``); with a
        clone, the commit expected at ``git_ref`` (or the commit to clone when no ref is given).
    :param pr_number: the pull request being built; 0 for the main branch.
    :raises InvalidReleaseInput: for neither or both of ``upload`` and ``git_url``, or malformed input.
    """
    if (upload is None) == (not git_url):
        raise InvalidReleaseInput(
            "pass exactly one source: an uploaded directory or a git URL",
            where="source",
            fix="set `upload` (pyflyte run --remote uploads a local path) or `git_url` (with `git_ref`), not both",
        )
    if upload is not None:
        return source_from_directory(upload, git_sha=git_sha, pr_number=pr_number)
    ref = git_ref or git_sha
    source = clone_source(git_url, workdir / "source", git_ref=ref, pr_number=pr_number)
    if git_sha and source.git_sha != validate_git_sha(git_sha):
        raise InvalidReleaseInput(
            f"{git_ref!r} is at {source.git_sha}, not at the expected commit {git_sha}",
            where=redact_url(git_url),
            fix="pass the ref and the SHA of the same commit, or leave git_sha empty",
        )
    return source


def source_from_directory(directory: Path, *, git_sha: str = "", pr_number: int = 0) -> SourceRef:
    """An uploaded source tree; its commit comes from its ``.git`` or from ``git_sha``.

    :raises SourceNotFound: if ``directory`` is not a directory.
    :raises InvalidReleaseInput: if it has no ``.git`` and no ``git_sha`` is given, or both disagree.
    """
    if not directory.is_dir():
        raise SourceNotFound("uploaded source directory not found", where=str(directory))
    pr = validate_pr_number(pr_number)
    expected = validate_git_sha(git_sha) if git_sha else ""
    if not (directory / ".git").exists():
        if not expected:
            raise InvalidReleaseInput(
                "the uploaded source has no .git directory, so its commit is unknown",
                where=str(directory),
                fix="pass git_sha (git rev-parse HEAD where the source was uploaded from), or upload the repo root",
            )
        logger.info("source uploaded path=%s sha=%s (from git_sha input)", directory, expected)
        return SourceRef(location=str(directory), git_sha=expected, pr_number=pr)
    head = validate_git_sha(_git(["rev-parse", "--verify", "HEAD^{commit}"], cwd=directory).strip())
    if expected and head != expected:
        raise InvalidReleaseInput(
            f"the uploaded source is at commit {head}, not at git_sha {expected}",
            where=str(directory),
            fix="upload the tree of the commit you name, or leave git_sha empty to use the upload's HEAD",
        )
    logger.info("source uploaded path=%s sha=%s", directory, head)
    return SourceRef(location=str(directory), git_sha=head, pr_number=pr)


def clone_source(git_url: str, destination: Path, *, git_ref: str = "", pr_number: int = 0) -> SourceRef:
    """Clone ``git_url`` into ``destination`` and check out ``git_ref`` (the remote's HEAD when "").

    :raises InvalidReleaseInput: if the URL or ref is malformed.
    :raises SourceNotFound: if the repository or the ref does not exist (the message names the ref).
    :raises SourceUnavailable: if the git server does not answer.
    """
    validate_git_url(git_url)
    if git_ref:
        validate_git_ref(git_ref)
    pr = validate_pr_number(pr_number)
    where = redact_url(git_url)
    _git(["clone", "--quiet", "--no-checkout", "--", git_url, str(destination)], cwd=None, where=where)
    if git_ref:
        commit = _fetch_ref(destination, git_ref, where)
    else:
        commit = _git(["rev-parse", "--verify", "HEAD^{commit}"], cwd=destination, where=where).strip()
    _git(["checkout", "--quiet", "--force", "--detach", commit], cwd=destination, where=where)
    sha = validate_git_sha(_git(["rev-parse", "--verify", "HEAD^{commit}"], cwd=destination, where=where).strip())
    logger.info("source cloned url=%s ref=%s sha=%s", where, git_ref or "HEAD", sha)
    return SourceRef(location=str(destination), git_sha=sha, ref=git_ref, pr_number=pr)


def _fetch_ref(repo: Path, ref: str, where: str) -> str:
    """The commit ``ref`` names on the remote: fetched by name, or found among the cloned objects."""
    try:
        _git(["fetch", "--quiet", "origin", "--", ref], cwd=repo, where=where)
        return _git(["rev-parse", "--verify", "FETCH_HEAD^{commit}"], cwd=repo, where=where).strip()
    except (GitFailed, SourceNotFound):
        if _HEX_REF.match(ref):
            # Servers may refuse to serve a bare SHA; the clone already has every branch's objects.
            try:
                return _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd=repo, where=where).strip()
            except (GitFailed, SourceNotFound):
                pass
    raise SourceNotFound(
        f"git ref {ref!r} not found",
        where=where,
        fix="push the branch or tag first, or pass an existing branch, tag, refs/... path or commit SHA",
    )


def pipeline_root(source: SourceRef, pipeline_dir: str) -> Path:
    """The pipeline's directory inside the source; refuses paths that leave it.

    :raises InvalidReleaseInput: if ``pipeline_dir`` is absolute or escapes the source (``..``, symlinks).
    :raises SourceNotFound: if it does not exist.
    """
    path = resolve_inside(Path(source.location), pipeline_dir, what="pipeline_dir")
    if not path.is_dir():
        raise SourceNotFound(f"pipeline directory {pipeline_dir!r} not found in the source", where=source.location)
    return path


def resolve_inside(root: Path, relative: str, *, what: str) -> Path:
    """``root / relative`` resolved, refusing absolute paths and anything outside ``root`` (symlinks too).

    :raises InvalidReleaseInput: naming ``what`` and the path.
    """
    base = root.resolve()
    candidate = (base / relative).resolve()
    if Path(relative).is_absolute() or ".." in Path(relative).parts or not candidate.is_relative_to(base):
        raise InvalidReleaseInput(
            f"{what} {relative!r} points outside the source",
            where=str(root),
            fix=f"use a relative path inside the repository for {what}, without '..' or symlinks out of it",
        )
    return candidate


def _git(args: Sequence[str], *, cwd: Path | None, where: str | None = None) -> str:
    """Run git with an argv list (never a shell) and return its stdout; translate failures."""
    env = {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ALLOW_PROTOCOL": ALLOWED_GIT_PROTOCOLS,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    if cwd is not None:
        # Never pick up a repository that merely encloses the directory (an upload without .git).
        env["GIT_CEILING_DIRECTORIES"] = str(Path(cwd).resolve().parent)
    argv = ["git", *_SAFE_CONFIG, *args]
    try:
        result = subprocess.run(
            argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=GIT_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as err:
        raise SourceUnavailable(f"git {args[0]} took longer than {GIT_TIMEOUT_S}s", where=where) from err
    if result.returncode == 0:
        return result.stdout
    stderr = _CREDENTIALS.sub(r"\1***@", result.stderr.strip())
    lowered = stderr.lower()
    place = where or (str(cwd) if cwd else None)
    if any(marker in lowered for marker in _MISSING):
        raise SourceNotFound(f"git {args[0]} failed: {stderr}", where=place)
    if any(marker in lowered for marker in _UNREACHABLE):
        raise SourceUnavailable(f"git {args[0]} could not reach the server: {stderr}", where=place)
    raise GitFailed(f"git {args[0]} failed (exit {result.returncode}): {stderr}", where=place)
