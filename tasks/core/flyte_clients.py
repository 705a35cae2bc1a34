"""FlyteAdmin connection settings and one ``FlyteRemote`` per (project, domain).

``FlyteRemote.fast_package`` / ``upload_file`` put the code bundle under the remote's *default*
project and domain (``shared/reference/flyte.md`` §1.3), so Taxiway never reuses a remote across
domains: :class:`FlyteRemotes` hands out one remote per (project, domain), built from one
:class:`FlyteSettings` resolved at the edge.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from flytekit.configuration import Config, DataConfig, PlatformConfig, S3Config
from flytekit.remote import FlyteRemote

logger = logging.getLogger(__name__)

#: The local stack's FlyteAdmin (localflyte) and S3 (moto), as ``scripts/stack up`` starts them.
LOCAL_STACK_ENDPOINT = "127.0.0.1:30080"
LOCAL_STACK_S3 = "http://127.0.0.1:30002"


@dataclass(frozen=True)
class FlyteSettings:
    """How to reach FlyteAdmin and its blob store.

    :param endpoint: FlyteAdmin's gRPC endpoint, ``host:port`` (``dns:///`` is accepted and dropped).
    :param insecure: plaintext gRPC (local stack) instead of TLS.
    :param s3_endpoint: S3 API endpoint for flytekit's data access ("" = AWS's default).
    :param s3_access_key_id: S3 access key ("" = the default credential chain).
    :param s3_secret_access_key: S3 secret key; never logged.
    :param rpc_retries: flytekit's own retries of *every* failed call (including ALREADY_EXISTS). Taxiway
        retries transient errors itself, with backoff, so it keeps this at 0.
    """

    endpoint: str
    insecure: bool = False
    s3_endpoint: str = ""
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    rpc_retries: int = 0

    def __repr__(self) -> str:
        # The secret key must never reach a log line or a Deck.
        return f"FlyteSettings(endpoint={self.endpoint!r}, insecure={self.insecure}, s3_endpoint={self.s3_endpoint!r})"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> FlyteSettings:
        """Settings from flytekit's variables (``FLYTE_PLATFORM_URL``, ``FLYTE_PLATFORM_INSECURE``,
        ``FLYTE_AWS_ENDPOINT``, ``FLYTE_AWS_ACCESS_KEY_ID``, ``FLYTE_AWS_SECRET_ACCESS_KEY``), which Flyte
        injects into task containers and ``.stack/env`` exports.

        :param environ: the environment to read, e.g. ``os.environ``.
        :raises ValueError: if ``FLYTE_PLATFORM_URL`` is unset (flytekit would silently use localhost).
        """
        endpoint = environ.get("FLYTE_PLATFORM_URL", "")
        if not endpoint:
            raise ValueError(
                "FLYTE_PLATFORM_URL is not set: Taxiway does not know which FlyteAdmin to register with; "
                "set it (and FLYTE_PLATFORM_INSECURE=True for a plaintext endpoint), e.g. `source .stack/env`"
            )
        return cls(
            endpoint=endpoint,
            insecure=environ.get("FLYTE_PLATFORM_INSECURE", "").lower() in ("1", "true", "yes"),
            s3_endpoint=environ.get("FLYTE_AWS_ENDPOINT", ""),
            s3_access_key_id=environ.get("FLYTE_AWS_ACCESS_KEY_ID", ""),
            s3_secret_access_key=environ.get("FLYTE_AWS_SECRET_ACCESS_KEY", ""),
        )

    @classmethod
    def for_local_stack(cls) -> FlyteSettings:
        """The local stack: localflyte on 127.0.0.1:30080 and moto on 127.0.0.1:30002."""
        return cls(LOCAL_STACK_ENDPOINT, True, LOCAL_STACK_S3, "testing", "testing")

    def to_config(self) -> Config:
        """The flytekit ``Config`` these settings describe."""
        s3 = S3Config(
            endpoint=self.s3_endpoint or None,
            access_key_id=self.s3_access_key_id or None,
            secret_access_key=self.s3_secret_access_key or None,
        )
        platform = PlatformConfig(
            endpoint=self.endpoint.removeprefix("dns:///"), insecure=self.insecure, rpc_retries=self.rpc_retries
        )
        return Config(platform=platform, data_config=DataConfig(s3=s3))


class FlyteRemotes:
    """One ``FlyteRemote`` per (project, domain), created on first use and reused (thread-safe).

    :param settings: how to reach FlyteAdmin.
    """

    def __init__(self, settings: FlyteSettings) -> None:
        self.settings = settings
        self._config = settings.to_config()
        self._remotes: dict[tuple[str, str], FlyteRemote] = {}
        self._lock = threading.Lock()

    def for_domain(self, project: str, domain: str) -> FlyteRemote:
        """The remote whose default project and domain are ``project`` and ``domain``."""
        with self._lock:
            remote = self._remotes.get((project, domain))
            if remote is None:
                logger.debug(
                    "flyte remote created endpoint=%s project=%s domain=%s", self.settings.endpoint, project, domain
                )
                remote = FlyteRemote(
                    self._config, default_project=project, default_domain=domain, interactive_mode_enabled=False
                )
                self._remotes[(project, domain)] = remote
            return remote
