"""Serialize a pipeline's entities once, inside the pipeline's own image, as ``pyflyte package`` does.

The image has the pipeline's dependencies, so serialization runs there: the container gets no
network and runs ``pyflyte --pkgs <packages> package --image <image> --copy all`` (``--fast``). The
source goes in and the package comes out through the engine's archive API (``put_archive`` /
``get_archive``), never a bind mount: the task itself may run in a container (as on a cluster, with
``DOCKER_HOST`` pointing at a DinD sidecar or the node's engine), where its paths do not exist on the
engine's host. ``pyflyte package`` has no project,
domain or version flags: the protos carry blank ids and the ``{{ .remote_package_path }}``
placeholder, which registration fills in per (project, domain, version) at hydration.

The archive is then made content-addressed (:mod:`tasks.core.package_store`): re-packed
deterministically, hashed, and stored once at ``s3://<bucket>/taxiway/packages/<pipeline>/<sha256>.tgz``.
"""

from __future__ import annotations

import logging
import re
import shutil
import tarfile
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import requests

from tasks.core.build_stream import BuilderUnavailable
from tasks.core.config import PipelineConfig
from tasks.core.errors import InvalidConfig, PermanentError
from tasks.core.package_store import normalize_archive, store_package
from tasks.core.records import ImageRef, PackageRef

logger = logging.getLogger(__name__)

#: Where the source is copied and the package written, inside the container.
SOURCE_MOUNT = "/src"
OUTPUT_MOUNT = "/out"
PACKAGE_FILE = "flyte-package.tgz"
#: Where fast registration unpacks the code bundle at run time (the example's WORKDIR).
DEFAULT_DESTINATION_DIR = "/root"
SERIALIZE_TIMEOUT_S = 900
# Runs pyflyte with `-p` set to the image's own interpreter, whatever its path.
_DRIVER = (
    "import sys; from flytekit.clis.sdk_in_container.pyflyte import main; "
    "sys.argv = ['pyflyte', *sys.argv[1:], '-p', sys.executable]; main()"
)
_FRAME = re.compile(re.escape(SOURCE_MOUNT) + r"/(?P<path>[^\s:]+)\.py:(?P<line>\d+)")
_NO_MODULE = re.compile(r"No module named '(?P<module>[^']+)'")
_EXCEPTION_LINE = re.compile(r"^\s*(?P<line>[A-Za-z_][\w.]*(?:Error|Exception|Exit)\b.*)$")


class SerializationFailed(PermanentError):
    """``pyflyte package`` failed inside the pipeline's image; the message names the module."""

    default_fix = "run `pyflyte --pkgs <package> package` in the pipeline's image locally and fix the module"


def package_release(
    root: Path,
    config: PipelineConfig,
    images: Sequence[ImageRef],
    *,
    docker_client: docker.DockerClient,
    s3_client: Any,
    bucket: str,
    auth_config: Mapping[str, str] | None = None,
) -> PackageRef:
    """Serialize the pipeline in its image and store the package content-addressed.

    :param root: the pipeline directory (the source root ``pyflyte`` loads ``config.packages`` from).
    :param config: the pipeline's taxiway.yaml.
    :param images: the release's images; the first one runs serialization and is the tasks' default image.
    :param docker_client: the Docker engine that runs the image.
    :param s3_client: a boto3 S3 client for the package store.
    :param bucket: the bucket packages are stored in.
    :param auth_config: registry credentials, used only when the image must be pulled first.
    :raises InvalidConfig: if the release has no image to serialize in.
    :raises SerializationFailed: naming the module that failed to load or serialize.
    """
    if not images:
        raise InvalidConfig(
            "the pipeline has no image to serialize its entities in",
            where=f"pipeline {config.pipeline}",
            fix="add an `image` section to taxiway.yaml",
        )
    with tempfile.TemporaryDirectory(prefix="taxiway-package-") as workdir:
        archive = serialize_package(
            docker_client, images[0], root, config.packages, Path(workdir), auth_config=auth_config
        )
        normalized = normalize_archive(archive, Path(workdir) / "normalized.tgz")
        return store_package(s3_client, normalized, bucket=bucket, pipeline=config.pipeline)


def serialize_package(
    docker_client: docker.DockerClient,
    image: ImageRef,
    source_root: Path,
    packages: Sequence[str],
    output_dir: Path,
    *,
    destination_dir: str = DEFAULT_DESTINATION_DIR,
    auth_config: Mapping[str, str] | None = None,
) -> Path:
    """Run ``pyflyte --pkgs ... package --copy all`` in ``image`` and return the archive it wrote.

    Tasks reference ``image.reference`` (``repository:tag``, a tag that never moves).

    :param source_root: the directory copied into the container as the source root.
    :param packages: the Python packages to serialize (``packages`` from taxiway.yaml).
    :param output_dir: a local directory the archive is copied out into (also holds the source tar).
    :param destination_dir: where the code bundle is unpacked at run time (``--in-container-source-path``).
    :raises SerializationFailed: if pyflyte fails, naming the module and the error.
    :raises BuilderUnavailable: if the Docker engine does not answer.
    """
    _ensure_local(docker_client, image, auth_config)
    output_dir.mkdir(parents=True, exist_ok=True)
    args = [
        *(arg for package in packages for arg in ("--pkgs", package)),
        "package", "--image", image.reference, "--copy", "all", "--force",
        "--source", SOURCE_MOUNT, "--output", f"{OUTPUT_MOUNT}/{PACKAGE_FILE}",
        "--in-container-source-path", destination_dir,
    ]  # fmt: skip
    logger.info("package serialize image=%s packages=%s", image.reference, ",".join(packages))
    run = run_with_archives(
        docker_client, image.reference, ["python", "-c", _DRIVER], args,
        source_root=source_root, workdir=output_dir, output_file=f"{OUTPUT_MOUNT}/{PACKAGE_FILE}",
    )  # fmt: skip
    if run.status != 0 or run.output is None:
        raise describe_serialization_failure(run.logs, packages, image.reference, run.status)
    return run.output


def _ensure_local(client: docker.DockerClient, image: ImageRef, auth_config: Mapping[str, str] | None) -> None:
    """Pull the image from its registry when this engine does not have it (the build ran elsewhere)."""
    try:
        client.images.get(image.reference)
        return
    except docker.errors.ImageNotFound:
        pass
    except (requests.ConnectionError, docker.errors.DockerException) as err:
        raise BuilderUnavailable(f"Docker engine error: {err}", where=image.reference) from err
    logger.info("image pull image=%s", image.pinned)
    try:
        client.images.pull(image.repository, tag=image.tag, auth_config=dict(auth_config) if auth_config else None)
    except (requests.ConnectionError, docker.errors.DockerException) as err:
        raise BuilderUnavailable(f"cannot pull the pipeline's image: {err}", where=image.reference) from err


@dataclass(frozen=True)
class ContainerRun:
    """How a serialization container ended: exit status (-1: timed out), its output, the file it wrote."""

    status: int
    logs: str
    output: Path | None


def source_archive(source_root: Path, destination: Path) -> Path:
    """Tar ``source_root`` as ``src/...`` plus an empty, world-writable ``out/``, for ``put_archive`` at ``/``.

    Owned by root with the files' own modes, so any user in the image can read the source; ``out/``
    is writable whatever user the image runs as. Symlinks stay links (as a bind mount shows them).
    """

    def as_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    with tarfile.open(destination, "w") as tar:
        tar.add(source_root.resolve(), arcname=SOURCE_MOUNT.lstrip("/"), filter=as_root)
        out = tarfile.TarInfo(OUTPUT_MOUNT.lstrip("/"))
        out.type, out.mode = tarfile.DIRTYPE, 0o777
        tar.addfile(as_root(out))
    return destination


def extract_file(chunks: Iterable[bytes], name: str, destination: Path) -> Path:
    """Write the file ``name`` from a ``get_archive`` stream (a tar holding that one file) to ``destination``."""
    with tempfile.TemporaryFile() as spool:
        for chunk in chunks:
            spool.write(chunk)
        spool.seek(0)
        with tarfile.open(fileobj=spool, mode="r|") as tar:
            for member in tar:
                if member.isfile() and member.name == name:
                    source = tar.extractfile(member)
                    assert source is not None  # a regular file always has content
                    with source, destination.open("wb") as target:
                        shutil.copyfileobj(source, target)
                    return destination
    raise FileNotFoundError(f"{name} is not in the archive the engine returned")


def run_with_archives(
    client: docker.DockerClient,
    reference: str,
    entrypoint: list[str],
    args: list[str],
    *,
    source_root: Path,
    workdir: Path,
    output_file: str,
) -> ContainerRun:
    """Run ``reference`` without network on a copy of ``source_root`` at ``/src``; copy ``output_file`` out.

    create → ``put_archive`` (the source as a tar) → start → wait → ``get_archive``; the container is
    always removed. Nothing is bind-mounted, so this works wherever the engine runs.

    :param workdir: a local directory for the source tar and the copied-out file.
    :param output_file: the absolute path the command writes inside the container.
    :raises BuilderUnavailable: if the engine does not answer or refuses the container.
    """
    tar_path = source_archive(source_root, workdir / "source.tar")
    try:
        container = client.containers.create(
            reference,
            entrypoint=entrypoint,
            command=args,
            working_dir=SOURCE_MOUNT,
            network_mode="none",
            # Wide, plain output: tracebacks keep full paths, so the failing module can be named.
            environment={
                "COLUMNS": "400",
                "TERM": "dumb",
                "NO_COLOR": "1",
                "PYTHONDONTWRITEBYTECODE": "1",
                "PYTHONHASHSEED": "0",  # set iteration order (e.g. of nodes) fixed from run to run
            },
            labels={"taxiway.step": "package"},
        )
    except (requests.ConnectionError, docker.errors.DockerException) as err:
        raise BuilderUnavailable(f"cannot create the serialization container: {err}", where=reference) from err
    try:
        try:
            with tar_path.open("rb") as source:
                if not container.put_archive("/", source):
                    raise BuilderUnavailable("the engine refused the source archive", where=reference)
            container.start()
        except (requests.ConnectionError, docker.errors.DockerException) as err:
            raise BuilderUnavailable(f"cannot start the serialization container: {err}", where=reference) from err
        try:
            status = int(container.wait(timeout=SERIALIZE_TIMEOUT_S)["StatusCode"])
        except requests.exceptions.RequestException:
            container.kill()
            status = -1
        logs = bytes(container.logs(stdout=True, stderr=True)).decode(errors="replace")
        output = _copy_out(container, output_file, workdir) if status == 0 else None
    finally:
        container.remove(force=True)
        tar_path.unlink(missing_ok=True)
    for line in logs.splitlines()[-20:]:
        logger.debug("pyflyte package | %s", line)
    return ContainerRun(status=status, logs=logs, output=output)


def _copy_out(container: Any, path: str, workdir: Path) -> Path | None:
    """``path`` copied out of the (stopped) container into ``workdir``; None when it was not written."""
    name = path.rsplit("/", 1)[-1]
    try:
        chunks, _stat = container.get_archive(path)
        return extract_file(chunks, name, workdir / name)
    except docker.errors.NotFound:
        return None


def describe_serialization_failure(
    logs: str, packages: Sequence[str], reference: str, status: int
) -> SerializationFailed:
    """An error naming the failing module (from the traceback's last frame in the source) and the exception."""
    frames = [match["path"].replace("/", ".") for match in _FRAME.finditer(logs)]
    missing = _NO_MODULE.search(logs)
    modules = [frame.removesuffix(".__init__") for frame in frames]
    exceptions = [m["line"].strip() for line in logs.splitlines() if (m := _EXCEPTION_LINE.match(line))]
    reason = exceptions[-1] if exceptions else (logs.strip().splitlines() or ["no output"])[-1]
    if status == -1:
        reason = f"still running after {SERIALIZE_TIMEOUT_S}s"
    if modules:
        what = f"serialization failed in module {modules[-1]}: {reason}"
    elif missing:
        what = f"serialization failed: module {missing['module']} not found: {reason}"
    else:
        what = f"serialization of packages {', '.join(packages)} failed: {reason}"
    tail = "\n".join(f"  | {line}" for line in logs.strip().splitlines()[-15:])
    return SerializationFailed(f"{what}\n{tail}", where=reference)
