"""The synthetic pipeline's dependencies as a local wheelhouse, so its image builds offline.

The pipeline's requirements are the example pipeline's lock without torch and the PyTorch plugin
(flytekit and what it needs: ~110 wheels, ~80 MB). They are downloaded once, on the host, with the
host's pip (its index configuration), into a cache directory keyed by the requirements' hash, and
reused by every later run. The image build then installs with ``--no-index``: what a CI runner would
download from its package index is here a local copy, which favours the rebuild baseline.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
from pathlib import Path

logger = logging.getLogger(__name__)

EXAMPLE_LOCK = Path(__file__).resolve().parents[1] / "examples" / "training" / "requirements.txt"
_LEFT_OUT = ("torch==", "flytekitplugins-kfpytorch==")
_PLATFORM = [
    "--only-binary=:all:", "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311",
    "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux_2_17_x86_64",
    "--platform", "manylinux2014_x86_64", "--platform", "linux_x86_64",
]  # fmt: skip


def pipeline_requirements(lock: Path = EXAMPLE_LOCK) -> str:
    """The synthetic pipeline's ``requirements.txt``: the example's lock minus torch and its plugin."""
    lines = [line for line in lock.read_text().splitlines() if line and not line.startswith(("#", *_LEFT_OUT))]
    return "\n".join(lines) + "\n"


def cache_root() -> Path:
    """``$TAXIWAY_BENCH_CACHE``, else ``~/.cache/taxiway-bench``."""
    return Path(os.environ.get("TAXIWAY_BENCH_CACHE", Path.home() / ".cache" / "taxiway-bench"))


def ensure_wheelhouse(requirements: str, cache: Path | None = None) -> Path:
    """A directory holding a wheel for every pinned requirement (Linux x86_64, CPython 3.11).

    :raises RuntimeError: with pip's output if the download fails.
    """
    digest = hashlib.sha256(requirements.encode()).hexdigest()[:16]
    wheelhouse = (cache or cache_root()) / f"wheels-{digest}"
    marker = wheelhouse / ".complete"
    if marker.is_file():
        return wheelhouse
    wheelhouse.mkdir(parents=True, exist_ok=True)
    pinned = wheelhouse / "requirements.txt"
    pinned.write_text(requirements)
    logger.warning("downloading the synthetic pipeline's wheels into %s (once)", wheelhouse)
    argv = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", *_PLATFORM,
            "--dest", str(wheelhouse), "-r", str(pinned)]  # fmt: skip
    result = subprocess.run(argv, capture_output=True, text=True, timeout=1800)
    if result.returncode != 0:
        raise RuntimeError(f"pip download of the benchmark wheelhouse failed:\n{result.stderr[-3000:]}")
    pinned.unlink()
    marker.write_text(digest)
    return wheelhouse
