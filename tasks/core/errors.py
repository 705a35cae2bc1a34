"""Taxiway's one small exception tree.

``TaxiwayError`` splits into :class:`TransientError` (worth retrying: a registry, FlyteAdmin, the
blob store or Slack is briefly unavailable) and :class:`PermanentError` (retrying cannot help: bad
config, a version conflict, a failed validation, a refused promotion). Each adapter translates its
library's exceptions into these in one place; the ``@task`` layer re-raises transient ones as
``FlyteRecoverableException`` so that ``retries=`` applies to them only.

Every error says what went wrong, where, and how to fix it::

    raise RegistryUnavailable("cannot push image", where="127.0.0.1:5000/training")
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar


class TaxiwayError(Exception):
    """Base of every error Taxiway raises on purpose.

    :param what: what went wrong, in one sentence without a trailing period.
    :param where: the thing it went wrong on (a file, a domain, an endpoint, an execution id).
    :param fix: how to fix it; defaults to the class's :attr:`default_fix`.
    """

    #: Whether retrying the same call later may succeed.
    retryable: ClassVar[bool] = False
    #: The fix suggested when the raiser gives none.
    default_fix: ClassVar[str | None] = None

    def __init__(self, what: str, *, where: str | None = None, fix: str | None = None) -> None:
        self.what = what
        self.where = where
        self.fix = fix if fix is not None else self.default_fix
        super().__init__(self.render())

    def render(self) -> str:
        """The full message: ``<where>: <what>; fix: <fix>``."""
        text = f"{self.where}: {self.what}" if self.where else self.what
        if self.fix:
            text += ("\n" if "\n" in text else "; ") + f"fix: {self.fix}"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructor arguments break the default pickling of exceptions.
        return (_rebuild, (type(self), self.what, self.where, self.fix))


def _rebuild(cls: type[TaxiwayError], what: str, where: str | None, fix: str | None) -> TaxiwayError:
    return cls(what, where=where, fix=fix)


class TransientError(TaxiwayError):
    """A dependency is unavailable for now; the same call may succeed later."""

    retryable = True
    default_fix = "retry later; Taxiway's tasks retry transient errors on their own"


class RegistryUnavailable(TransientError):
    """The container image registry did not answer or answered with a server error."""

    default_fix = "check that the image registry is running and reachable (scripts/ starts the local one)"


class AdminUnavailable(TransientError):
    """FlyteAdmin (or localflyte) did not answer or answered UNAVAILABLE."""

    default_fix = "check that FlyteAdmin (or localflyte) is running and that the endpoint is right"


class StorageUnavailable(TransientError):
    """The blob store (S3, GCS, moto) did not answer or answered with a server error."""

    default_fix = "check that the blob store is running and that its endpoint and credentials are right"


class SlackRateLimited(TransientError):
    """Slack asked us to slow down (HTTP 429)."""

    default_fix = "wait for the delay Slack asked for and retry"


class SlackUnavailable(TransientError):
    """Slack (or the local Slack endpoint) did not answer, or kept answering with a server error."""

    default_fix = "check notifications.slack.api_url and Slack's status; Taxiway goes on without notifications"


class PermanentError(TaxiwayError):
    """Retrying cannot help: the input, the state or the outcome has to change first."""


@dataclass(frozen=True)
class ConfigProblem:
    """One problem in a config file.

    :param source: the file name, e.g. ``taxiway.yaml``.
    :param path: the dotted key path, e.g. ``domains.staging.raw_data_prefix`` (empty for the whole file).
    :param message: what is expected and what was found.
    """

    source: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.path}: {self.message}" if self.path else f"{self.source}: {self.message}"


class InvalidConfig(PermanentError):
    """A config file (``taxiway.yaml``) or a config value is invalid; lists every problem found."""

    default_fix = "edit the file and check it with `taxiway config validate <file>`"

    def __init__(
        self,
        what: str,
        *,
        where: str | None = None,
        fix: str | None = None,
        problems: Sequence[ConfigProblem] = (),
    ) -> None:
        self.problems: tuple[ConfigProblem, ...] = tuple(problems)
        super().__init__(what, where=where, fix=fix)

    @classmethod
    def from_problems(cls, source: str, problems: Sequence[ConfigProblem]) -> InvalidConfig:
        """One error listing every problem, one per line, each as ``<file>: <key.path>: <message>``."""
        count = f"{len(problems)} problem" + ("" if len(problems) == 1 else "s")
        lines = "\n".join(f"  {problem}" for problem in problems)
        return cls(
            f"{source} is invalid ({count}):\n{lines}",
            fix=f"edit {source} and check it again with `taxiway config validate {source}`",
            problems=problems,
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_invalid_config, (self.what, self.where, self.fix, self.problems))


def _rebuild_invalid_config(
    what: str, where: str | None, fix: str | None, problems: tuple[ConfigProblem, ...]
) -> InvalidConfig:
    return InvalidConfig(what, where=where, fix=fix, problems=problems)


class VersionConflict(PermanentError):
    """An entity with this id and version already exists with a different structure."""

    default_fix = "a version is immutable once registered: build a new release (a new commit) instead"


class ValidationFailed(PermanentError):
    """A validation ran and the release did not meet its expectations (a business failure)."""

    default_fix = "read the validation report; fix the pipeline or the expectations in taxiway.yaml"


class PromotionRefused(PermanentError):
    """A promotion's preconditions do not hold (not validated upstream, approval denied, ...)."""

    default_fix = "validate the release in the previous domain first, or get the promotion approved"


class SlackRejected(PermanentError):
    """Slack refused a call for good: an unknown channel, an invalid message, an unusable webhook."""

    default_fix = "check the channel (notifications.slack.channel or the domain's slack_channel) and invite the bot"


class SlackAuthFailed(SlackRejected):
    """Slack refused the bot token or webhook (``not_authed``, ``invalid_auth``, ``token_revoked``, ...)."""

    default_fix = "check the secret named by notifications.slack.token_secret (or webhook_secret) and its scopes"


class SourceNotFound(PermanentError):
    """A file, directory, git ref, entity or execution that should exist does not."""

    default_fix = "check the path, name or version"
