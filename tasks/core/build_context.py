"""The docker build context, prepared in a copy of the pipeline directory (``image.prepare``).

Some images need files that are not committed before they can build offline (the example's wheelhouse,
``.wheels/``). ``image.prepare`` names a command that makes them; it runs in a *copy* of the pipeline
directory, so the directory that gets packaged (the fast-registration code bundle) never grows by
what the build needed. The tag does not depend on what the command writes: list the command's own
file in ``tag_inputs`` when it decides what goes into the image.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

from tasks.core.build_stream import BuildFailed
from tasks.core.config_models import DockerfileImage
from tasks.core.source import resolve_inside

logger = logging.getLogger(__name__)

#: How long ``image.prepare`` may take (it may download wheels).
PREPARE_TIMEOUT_S = 900
_NOT_COPIED = shutil.ignore_patterns(".git", "__pycache__")


def prepare_build_root(root: Path, spec: DockerfileImage, workdir: Path) -> Path:
    """A copy of ``root`` in ``workdir`` with ``spec.prepare`` run in its context; ``root`` when there is none.

    :param root: the pipeline directory (image paths are relative to it); never written to.
    :param spec: the image section of taxiway.yaml.
    :param workdir: an empty directory for the copy.
    :raises BuildFailed: if the command fails, with the last lines of its output.
    """
    if not spec.prepare:
        return root
    copy = workdir / root.name
    shutil.copytree(root, copy, ignore=_NOT_COPIED, symlinks=True)
    context = resolve_inside(copy, spec.context, what="image.context")
    argv = list(spec.prepare)
    logger.info("image context prepare command=%s context=%s", " ".join(argv), context)
    try:
        result = subprocess.run(
            argv, cwd=context, capture_output=True, text=True, timeout=PREPARE_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise BuildFailed(
            f"image.prepare {argv!r} could not run: {err}",
            where=str(context),
            fix="check the command in image.prepare (a path relative to image.context, executable)",
        ) from err
    for line in result.stdout.splitlines()[-20:]:
        logger.info("prepare | %s", line)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-20:])
        raise BuildFailed(
            f"image.prepare {argv!r} failed (exit {result.returncode}):\n{tail}",
            where=str(context),
            fix="run the command in the pipeline's context directory locally and fix it",
        )
    return copy
