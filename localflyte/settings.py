"""localflyte's server settings, resolved once at start-up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DOMAINS = ("development", "staging", "production")


@dataclass(frozen=True)
class ServerSettings:
    """Everything a localflyte instance needs to know; immutable after start-up.

    :param port: gRPC port on 127.0.0.1.
    :param state_dir: where the SQLite database and execution logs live.
    :param domains: the configured domains, as FlyteAdmin's ``domains`` config.
    :param seed_projects: projects created at start-up (FlyteAdmin's single binary seeds ``flytesnacks``).
    :param s3_endpoint: the S3 API (moto server) used for metadata, raw data and the data proxy.
    :param bucket: the metadata bucket (FlyteAdmin's ``storage.container``).
    :param runtime: how the executor runs a task: ``docker`` (its container image), ``process`` (host
        subprocess) or ``none`` (no executor: clients play propeller by sending events, as the conformance suite does).
    :param http_port: localflyte's small HTTP endpoint on 127.0.0.1 (task logs, ``tick``); ``None`` means
        the gRPC port + 1 (a free port when ``port`` is 0), ``0`` a free port.
    :param max_running_executions: top-level executions running at once; more wait QUEUED.
    :param schedule_interval: seconds between two schedule checks in real time (``tick`` checks at once).
    :param max_catch_up: at most this many missed slots of one schedule are fired in one check (the latest ones).
    :param task_env: variables every task container gets (propeller's ``plugins.k8s.default-env-vars``):
        the platform's settings, such as ``DOCKER_HOST`` or a registry, which a container cannot inherit.
    :param secrets_dir: a local secret store, ``<dir>/<group>/<key>``; each secret a task requests is
        injected as ``_FSEC_<GROUP>_<KEY>``. ``None``: no secrets are injected.
    """

    port: int = 30080
    state_dir: Path = Path(".stack/localflyte")
    domains: tuple[str, ...] = DEFAULT_DOMAINS
    seed_projects: tuple[str, ...] = ("flytesnacks",)
    s3_endpoint: str = "http://127.0.0.1:30002"
    s3_access_key: str = "testing"
    s3_secret_key: str = "testing"
    s3_region: str = "us-east-1"
    bucket: str = "taxiway-data"
    upload_prefix: str = "uploads"
    runtime: str = "docker"
    http_port: int | None = None
    max_running_executions: int = 4
    schedule_interval: float = 5.0
    max_catch_up: int = 10
    task_env: Mapping[str, str] = field(default_factory=dict)
    secrets_dir: Path | None = None

    @property
    def database_path(self) -> Path:
        return self.state_dir / "localflyte.sqlite3"

    @property
    def platform_url(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_dir(self) -> Path:
        """Task attempts' stdout/stderr, kept after their process or container is gone."""
        return self.state_dir / "logs"
