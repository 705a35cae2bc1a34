"""Read a serialized entity package, as ``pyflyte package --fast`` writes it.

The archive holds numbered protobuf files ``<n>_<name>_<type>.pb`` (type 1 = ``TaskSpec``,
2 = ``WorkflowSpec``, 3 = ``LaunchPlan``, flytekit ``tools/serialize_helpers.py``) and, for a fast
package, one code bundle ``fast<md5>.tar.gz``. Identifiers in it are blank (or placeholders) and task
args carry ``{{ .remote_package_path }}``: registration fills them in per (project, domain, version).
"""

from __future__ import annotations

import logging
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2
from google.protobuf.message import DecodeError

from tasks.core.errors import PermanentError, SourceNotFound
from tasks.core.safe_tar import UnsafeMember, extract_checked

logger = logging.getLogger(__name__)

_ENTITY_FILE = re.compile(r"^(?P<index>\d+)_(?P<name>.+)_(?P<type>[123])\.pb$")
_BUNDLE_FILE = re.compile(r"^fast[0-9a-f]*\.tar\.gz$")
_M = TypeVar("_M", task_pb2.TaskSpec, workflow_pb2.WorkflowSpec, launch_plan_pb2.LaunchPlan)


class InvalidPackage(PermanentError):
    """An entity package that cannot be read or registered as it is."""

    default_fix = "rebuild the release's package (`pyflyte package --fast`, run by Taxiway's package step)"


@dataclass(frozen=True)
class PackagedTask:
    """A task as serialized: its spec, before hydration. ``file`` is the name inside the package."""

    file: str
    spec: task_pb2.TaskSpec

    @property
    def name(self) -> str:
        return self.spec.template.id.name


@dataclass(frozen=True)
class PackagedWorkflow:
    """A workflow as serialized (with its sub-workflows inlined)."""

    file: str
    spec: workflow_pb2.WorkflowSpec

    @property
    def name(self) -> str:
        return self.spec.template.id.name


@dataclass(frozen=True)
class PackagedLaunchPlan:
    """A launch plan as serialized, without any domain's settings."""

    file: str
    launch_plan: launch_plan_pb2.LaunchPlan

    @property
    def name(self) -> str:
        return self.launch_plan.id.name


@dataclass(frozen=True)
class EntityPackage:
    """The entities of a package, in package order, and its code bundle (None unless fast).

    The protos are never modified: hydration works on copies, so one package can be registered into
    several domains.
    """

    tasks: tuple[PackagedTask, ...]
    workflows: tuple[PackagedWorkflow, ...]
    launch_plans: tuple[PackagedLaunchPlan, ...]
    code_bundle: Path | None

    @property
    def entity_count(self) -> int:
        return len(self.tasks) + len(self.workflows) + len(self.launch_plans)


def load_package(path: Path, workdir: Path) -> EntityPackage:
    """Read a package archive (``.tgz``) or an already extracted package directory.

    :param path: the archive or directory.
    :param workdir: an empty directory to extract an archive into.
    :raises SourceNotFound: if ``path`` does not exist.
    :raises InvalidPackage: if it is not a package, a file does not parse, or it holds no entity.
    """
    if not path.exists():
        raise SourceNotFound("entity package not found", where=str(path))
    directory = path if path.is_dir() else _extract(path, workdir)
    tasks: list[PackagedTask] = []
    workflows: list[PackagedWorkflow] = []
    launch_plans: list[PackagedLaunchPlan] = []
    bundles: list[Path] = []
    entries = sorted(directory.iterdir(), key=_package_order)
    for entry in entries:
        match = _ENTITY_FILE.match(entry.name)
        if match is None:
            if _BUNDLE_FILE.match(entry.name):
                bundles.append(entry)
            else:
                logger.debug("package file ignored file=%s", entry.name)
            continue
        kind = match["type"]
        if kind == "1":
            tasks.append(PackagedTask(entry.name, _parse(entry, task_pb2.TaskSpec())))
        elif kind == "2":
            workflows.append(PackagedWorkflow(entry.name, _parse(entry, workflow_pb2.WorkflowSpec())))
        else:
            launch_plans.append(PackagedLaunchPlan(entry.name, _parse(entry, launch_plan_pb2.LaunchPlan())))
    if len(bundles) > 1:
        raise InvalidPackage(f"more than one code bundle: {', '.join(b.name for b in bundles)}", where=str(path))
    package = EntityPackage(tuple(tasks), tuple(workflows), tuple(launch_plans), bundles[0] if bundles else None)
    if package.entity_count == 0:
        raise InvalidPackage("the package holds no task, workflow or launch plan (*.pb)", where=str(path))
    logger.info(
        "package loaded path=%s tasks=%d workflows=%d launch_plans=%d fast=%s",
        path, len(tasks), len(workflows), len(launch_plans), package.code_bundle is not None,
    )  # fmt: skip
    return package


def _package_order(entry: Path) -> tuple[int, str]:
    match = _ENTITY_FILE.match(entry.name)
    return (int(match["index"]) if match else -1, entry.name)


def _extract(archive: Path, workdir: Path) -> Path:
    try:
        with tarfile.open(archive, "r:*") as tar:
            extract_checked(tar, workdir)
    except (tarfile.TarError, OSError, UnsafeMember) as err:
        raise InvalidPackage(f"cannot extract the package archive ({err})", where=str(archive)) from err
    return workdir


def _parse(path: Path, message: _M) -> _M:
    try:
        message.ParseFromString(path.read_bytes())
    except DecodeError as err:
        raise InvalidPackage(f"{path.name} is not a valid {type(message).__name__} protobuf", where=str(path)) from err
    return message
