"""Find the flytekit ImageSpecs a pipeline's tasks use, named by flytekit's own hashing.

The pipeline's packages are loaded in a subprocess (:mod:`tasks.core.imagespec_probe`) with the
pipeline root on ``PYTHONPATH``, as ``pyflyte package`` loads them, by the interpreter of the
pipeline's build environment. Names and tags come from ``ImageSpec.image_name()`` / ``ImageSpec.tag``,
never from a re-implementation. What the tag does not capture (the Python version, the flytekit
version the builder installs, the content behind a mutable base tag) must be pinned in the spec:
:func:`unpinned_problems` names what is missing.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tasks.core.config_models import ImageSpecImages
from tasks.core.errors import InvalidConfig, PermanentError

__all__ = ["DiscoveredImageSpec", "ImageSpecDiscoveryFailed", "discover_image_specs", "unpinned_problems"]

logger = logging.getLogger(__name__)

PROBE = Path(__file__).with_name("imagespec_probe.py")
DISCOVERY_TIMEOUT_S = 300


class ImageSpecDiscoveryFailed(PermanentError):
    """Loading the pipeline's packages to find its ImageSpecs failed."""

    default_fix = "run `pyflyte --pkgs <package> package` locally with the pipeline root on PYTHONPATH and fix it"


@dataclass(frozen=True)
class DiscoveredImageSpec:
    """One ImageSpec the pipeline's tasks use, as flytekit names it.

    :param image_name: ``registry/name:tag`` from ``ImageSpec.image_name()``.
    :param spec_id: ``ImageSpec.id`` (the key of ``pyflyte --image <id>=<uri>``).
    :param tasks: dotted names of the tasks that use it.
    :param context: the docker context flytekit generated for it ("" when not asked for).
    """

    image_name: str
    name: str
    registry: str
    tag: str
    spec_id: str
    base_image: str
    python_version: str
    packages: tuple[str, ...]
    tasks: tuple[str, ...]
    context: str = ""

    @property
    def repository(self) -> str:
        """``image_name`` without its tag."""
        return self.image_name.rsplit(":", 1)[0]


def discover_image_specs(
    root: Path,
    packages: Sequence[str],
    *,
    python: str = sys.executable,
    contexts: Path | None = None,
) -> list[DiscoveredImageSpec]:
    """The ImageSpecs of the tasks in ``packages``, loaded from ``root`` by ``python`` (no docker needed).

    :param root: the pipeline source root (put on ``PYTHONPATH``).
    :param packages: the packages taxiway.yaml lists.
    :param python: the build environment's interpreter (it must have flytekit and the pipeline's imports).
    :param contexts: when set, flytekit's docker context of each image is written to ``contexts/<tag>/``.
    :raises ImageSpecDiscoveryFailed: with the loader's error output.
    """
    root = root.resolve()
    # Run as -c (not as a path): the script's own directory must not shadow the pipeline's modules.
    command = [python, "-c", PROBE.read_text()]
    for package in packages:
        command += ["--package", package]
    if contexts is not None:
        command += ["--contexts", str(contexts)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    logger.info("imagespec discovery packages=%s root=%s", ",".join(packages), root)
    try:
        done = subprocess.run(
            command, cwd=root, env=env, capture_output=True, text=True, timeout=DISCOVERY_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise ImageSpecDiscoveryFailed(f"could not load the pipeline's packages: {err}", where=str(root)) from err
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise ImageSpecDiscoveryFailed(
            f"loading packages {', '.join(packages)} failed (exit {done.returncode}):\n{tail}", where=str(root)
        )
    report = json.loads(done.stdout)
    found = [
        DiscoveredImageSpec(
            image_name=item["image_name"],
            name=item["name"],
            registry=item["registry"],
            tag=item["tag"],
            spec_id=item["spec_id"],
            base_image=item["base_image"],
            python_version=item["python_version"],
            packages=tuple(item["packages"]),
            tasks=tuple(item["tasks"]),
            context=item.get("context", ""),
        )
        for item in report["images"]
    ]
    logger.info(
        "imagespec discovered count=%d flytekit=%s python=%s images=%s",
        len(found),
        report["flytekit_version"],
        report["python"],
        ",".join(spec.image_name for spec in found),
    )
    return found


def unpinned_problems(spec: DiscoveredImageSpec, settings: ImageSpecImages) -> list[str]:
    """What ``spec`` leaves out of its tag, or breaks of the pipeline's ``image_specs`` settings ([] if none)."""
    problems = []
    if not spec.python_version:
        problems.append("python_version is not set (the builder would use the local interpreter's version)")
    if not any(_is_pinned_flytekit(package) for package in spec.packages):
        problems.append("packages has no 'flytekit==<version>' (the builder would add the local, untracked version)")
    if not spec.registry or not f"{spec.registry}/".startswith(f"{settings.registry}/"):
        problems.append(f"registry {spec.registry!r} is not under image_specs.registry {settings.registry!r}")
    if settings.base_image is not None and spec.base_image != settings.base_image:
        problems.append(f"base_image {spec.base_image!r} is not image_specs.base_image {settings.base_image!r}")
    return problems


def check_pinned(specs: Sequence[DiscoveredImageSpec], settings: ImageSpecImages) -> None:
    """Refuse ImageSpecs whose tag would not capture everything that goes into the image.

    :raises InvalidConfig: naming each spec, its tasks and what to pin.
    """
    lines = [
        f"{spec.image_name} (used by {', '.join(spec.tasks)}): {problem}"
        for spec in specs
        for problem in unpinned_problems(spec, settings)
    ]
    if lines:
        raise InvalidConfig(
            "ImageSpecs do not pin what their tag leaves out:\n" + "\n".join(f"  - {line}" for line in lines),
            where="ImageSpec",
            fix="set python_version, add 'flytekit==<version>' to packages, and use the registry/base image "
            "that image_specs in taxiway.yaml names",
        )


def _is_pinned_flytekit(package: str) -> bool:
    name, sep, version = package.partition("==")
    return name.strip().lower() == "flytekit" and bool(sep) and bool(version.strip())
