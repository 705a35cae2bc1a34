"""Runs *inside the pipeline's build environment*: load its packages and report the ImageSpecs its tasks use.

Started by :func:`tasks.core.imagespec.discover_image_specs` as ``python imagespec_probe.py ...`` with
the pipeline root on ``PYTHONPATH``, the way ``pyflyte package`` loads modules. It imports only the
standard library and flytekit (never Taxiway), so it works in any environment that has the pipeline's
dependencies. For each ImageSpec it prints flytekit's own ``image_name()``, ``tag`` and ``id``, and,
with ``--contexts``, writes flytekit's docker context (``create_docker_context``) into
``<contexts>/<tag>/``. Output: one JSON document on stdout.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
from pathlib import Path
from typing import Any


def _modules(package: str) -> list[Any]:
    root = importlib.import_module(package)
    modules = [root]
    if hasattr(root, "__path__"):
        for info in sorted(pkgutil.walk_packages(root.__path__, prefix=f"{package}."), key=lambda i: i.name):
            modules.append(importlib.import_module(info.name))
    return modules


def probe(packages: list[str], contexts: Path | None) -> dict[str, Any]:
    """The ImageSpecs used by the tasks defined in ``packages``, keyed by flytekit's image name."""
    from flytekit import ImageSpec
    from flytekit import __version__ as flytekit_version
    from flytekit.image_spec.default_builder import create_docker_context

    found: dict[str, dict[str, Any]] = {}
    for package in packages:
        for module in _modules(package):
            for attribute, value in sorted(vars(module).items()):
                image = getattr(value, "container_image", None)
                if not isinstance(image, ImageSpec) or getattr(value, "instantiated_in", module.__name__) != (
                    module.__name__
                ):
                    continue
                name = image.image_name()
                entry = found.setdefault(
                    name,
                    {
                        "image_name": name,
                        "name": image.name,
                        "registry": image.registry or "",
                        "tag": image.tag,
                        "spec_id": image.id,
                        "base_image": image.base_image if isinstance(image.base_image, str) else "",
                        "python_version": image.python_version or "",
                        "packages": list(image.packages or []),
                        "tasks": [],
                    },
                )
                entry["tasks"].append(f"{module.__name__}.{attribute}")
                if contexts is not None and "context" not in entry:
                    target = contexts / image.tag
                    target.mkdir(parents=True, exist_ok=True)
                    create_docker_context(image, target)
                    entry["context"] = str(target)
    return {"flytekit_version": flytekit_version, "python": sys.version.split()[0], "images": list(found.values())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--package", action="append", required=True, help="a package to load (repeatable)")
    parser.add_argument("--contexts", type=Path, default=None, help="write each image's docker context here")
    args = parser.parse_args()
    json.dump(probe(args.package, args.contexts), sys.stdout)


if __name__ == "__main__":
    main()
