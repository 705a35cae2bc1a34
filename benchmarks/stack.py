"""A private localflyte + moto for one benchmark run, on free loopback ports, and helpers around it."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from flytekit.clients.friendly import SynchronousFlyteClient
from flytekit.models.project import Project

from localflyte.testing import LocalFlyteProcess, MotoServer
from tasks.core.config_models import DomainSpec
from tasks.core.flyte_clients import FlyteRemotes, FlyteSettings
from tasks.core.records import DomainRegistration
from tasks.core.register import RegistrationRequest, register_package
from tasks.core.register_admin import FlyteAdminGateway
from tasks.core.register_concurrent import DEFAULT_MAX_WORKERS
from tasks.core.register_package import EntityPackage

logger = logging.getLogger(__name__)

SHA = "0123456789ab" + "b" * 28
BUCKET = "taxiway-data"


def config_only_env() -> dict[str, str]:
    """This environment without flytekit's overrides: ``FLYTE_PLATFORM_URL`` (e.g. from ``.stack/env``)
    would win over ``--config`` and send pyflyte to another FlyteAdmin."""
    return {key: value for key, value in os.environ.items() if not key.startswith(("FLYTE_", "FLYTECTL_"))}


def domain_spec(name: str) -> DomainSpec:
    """A domain with its own raw data prefix and labels, as taxiway.yaml would give it."""
    return DomainSpec(
        name=name,
        raw_data_prefix=f"s3://{BUCKET}/{name}/bench",
        service_account=f"bench-{name}",
        labels={"team": "bench", "environment": name},
    )


@dataclass
class BenchStack:
    """localflyte (``runtime``) and moto started for this run; stop with :meth:`stop`."""

    workdir: Path
    moto: MotoServer
    admin: LocalFlyteProcess
    settings: FlyteSettings
    remotes: FlyteRemotes
    client: SynchronousFlyteClient

    @classmethod
    def start(cls, workdir: Path, runtime: str = "none") -> BenchStack:
        moto = MotoServer(workdir / "moto")
        admin = LocalFlyteProcess(workdir / "localflyte", s3_endpoint=moto.endpoint, runtime=runtime)
        settings = FlyteSettings(admin.endpoint, True, moto.endpoint, "testing", "testing")
        logger.info("bench stack started admin=%s s3=%s", admin.endpoint, moto.endpoint)
        return cls(
            workdir,
            moto,
            admin,
            settings,
            FlyteRemotes(settings),
            SynchronousFlyteClient(settings.to_config().platform),
        )

    def stop(self) -> None:
        self.admin.stop()
        self.moto.stop()

    def new_project(self, prefix: str = "bench") -> str:
        name = f"{prefix}{uuid.uuid4().hex[:8]}"
        self.client.register_project(Project(id=name, name=name, description="benchmarks"))
        return name

    def s3_client(self) -> Any:
        """A boto3 S3 client of this run's moto (the package store)."""
        return boto3.client(
            "s3", endpoint_url=self.moto.endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
            region_name="us-east-1",
        )  # fmt: skip

    def register(
        self,
        package: EntityPackage,
        project: str,
        domain: str,
        version: str,
        gateway: FlyteAdminGateway | None = None,
        content_hash: str = "sha256:bench",
        max_workers: int = DEFAULT_MAX_WORKERS,
    ) -> DomainRegistration:
        """Taxiway's registration of ``package`` (``register_package``) into ``project``/``domain``."""
        request = RegistrationRequest("bench", project, domain_spec(domain), version, SHA, content_hash=content_hash)
        admin = gateway or FlyteAdminGateway(self.remotes.for_domain(project, domain))
        return register_package(package, request, admin, max_workers=max_workers)

    def flyte_config(self) -> Path:
        """A flytectl/pyflyte config file for this stack (data goes through its data proxy)."""
        path = self.workdir / "flyte.yaml"
        path.write_text(f"admin:\n  endpoint: dns:///{self.admin.endpoint}\n  insecure: true\n")
        return path

    def pyflyte_register(
        self, source: Path, package: str, project: str, domain: str, version: str, image: str, copy: str = "all"
    ) -> None:
        """Bare ``pyflyte register`` of ``source/<package>``: what a user would run.

        :param copy: ``all`` (fast registration, the default) or ``none`` (the code is in ``image``).

        :raises RuntimeError: with pyflyte's output if it fails.
        """
        pyflyte = Path(sys.executable).with_name("pyflyte")
        argv = [
            str(pyflyte), "--config", str(self.flyte_config()), "register", "--version", version,
            "--project", project, "--domain", domain, "--image", image, "--copy", copy, package,
        ]  # fmt: skip
        result = subprocess.run(argv, cwd=source, capture_output=True, text=True, timeout=600, env=config_only_env())
        if result.returncode != 0:
            raise RuntimeError(f"pyflyte register failed ({' '.join(argv)}):\n{result.stdout}\n{result.stderr}")
