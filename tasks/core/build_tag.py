"""The image tag: a content hash of everything that decides what goes into the image.

Hashed, in this order, each framed by its name and length so that no two different inputs can run
together into the same bytes: the Dockerfile's bytes, each ``tag_inputs`` file (its path and bytes, in
the order taxiway.yaml lists them), the build args (sorted by name) and the base images its ``FROM``
lines name (after build-arg substitution). The pipeline's code is *not* hashed: a code-only change
keeps the tag and ships through fast registration instead.

Pure functions over files; no docker, no registry.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tasks.core.config_models import DockerfileImage
from tasks.core.errors import SourceNotFound
from tasks.core.source import resolve_inside

#: Hex digits of the content hash used as the image tag.
TAG_LENGTH = 16
#: Bumped whenever the hashed inputs or their framing change, so old tags are never reused wrongly.
HASH_SCHEME = b"taxiway-image-tag/v1"

_ARG = re.compile(r"^ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(\S*))?\s*$", re.IGNORECASE)
_FROM = re.compile(r"^FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?\s*$", re.IGNORECASE)
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class ImageInputs:
    """What an image is built from, resolved inside the source, and its content hash.

    :param dockerfile: the Dockerfile's absolute path.
    :param context: the build context directory's absolute path.
    :param build_args: the docker build args.
    :param base_images: the images its ``FROM`` lines name (build stages excluded).
    :param content_hash: sha256 (hex) over the Dockerfile, ``tag_inputs``, build args and base images.
    """

    dockerfile: Path
    context: Path
    build_args: Mapping[str, str]
    base_images: tuple[str, ...]
    content_hash: str

    @property
    def tag(self) -> str:
        """The image tag: the first :data:`TAG_LENGTH` hex digits of the content hash."""
        return self.content_hash[:TAG_LENGTH]


def image_inputs(root: Path, spec: DockerfileImage) -> ImageInputs:
    """Resolve the image section of taxiway.yaml inside the pipeline directory ``root`` and hash it.

    :raises SourceNotFound: naming the Dockerfile, context or tag input that does not exist.
    :raises InvalidReleaseInput: if a path points outside ``root``.
    """
    dockerfile = resolve_inside(root, spec.dockerfile, what="image.dockerfile")
    if not dockerfile.is_file():
        raise SourceNotFound(
            f"Dockerfile {spec.dockerfile!r} not found",
            where=str(dockerfile),
            fix="add the Dockerfile, or point image.dockerfile in taxiway.yaml at it (relative to taxiway.yaml)",
        )
    context = resolve_inside(root, spec.context, what="image.context")
    if not context.is_dir():
        raise SourceNotFound(
            f"build context {spec.context!r} is not a directory",
            where=str(context),
            fix="point image.context in taxiway.yaml at the docker build context directory",
        )
    inputs: list[tuple[str, bytes]] = []
    for relative in spec.tag_inputs:
        path = resolve_inside(root, relative, what="image.tag_inputs")
        if not path.is_file():
            raise SourceNotFound(
                f"tag input {relative!r} not found",
                where=str(path),
                fix="commit the file or remove it from image.tag_inputs in taxiway.yaml",
            )
        inputs.append((relative, path.read_bytes()))
    dockerfile_bytes = dockerfile.read_bytes()
    bases = base_images(dockerfile_bytes.decode(errors="replace"), spec.build_args)
    return ImageInputs(
        dockerfile=dockerfile,
        context=context,
        build_args=dict(spec.build_args),
        base_images=bases,
        content_hash=content_hash(dockerfile_bytes, inputs, spec.build_args, bases),
    )


def content_hash(
    dockerfile: bytes,
    tag_inputs: Sequence[tuple[str, bytes]],
    build_args: Mapping[str, str],
    base_images: Sequence[str],
) -> str:
    """sha256 (hex) over the image's inputs, each framed so that the encoding is unambiguous."""
    digest = hashlib.sha256(HASH_SCHEME)

    def field(kind: str, name: str, data: bytes) -> None:
        for part in (kind.encode(), name.encode(), data):
            digest.update(len(part).to_bytes(8, "big") + part)

    field("dockerfile", "", dockerfile)
    for path, data in tag_inputs:
        field("tag_input", path, data)
    for name in sorted(build_args):
        field("build_arg", name, build_args[name].encode())
    for image in base_images:
        field("base_image", "", image.encode())
    return digest.hexdigest()


def base_images(dockerfile: str, build_args: Mapping[str, str]) -> tuple[str, ...]:
    """The images a Dockerfile's ``FROM`` lines name, with global ``ARG`` defaults and build args applied.

    Build stages referenced by name (``FROM venv``) and ``scratch`` are left out.
    """
    values: dict[str, str] = {}
    stages: set[str] = set()
    images: list[str] = []
    seen_from = False
    for line in _instructions(dockerfile):
        arg = _ARG.match(line)
        if arg and not seen_from:
            name, default = arg.group(1), arg.group(2)
            values[name] = build_args.get(name, _substitute(default or "", values))
            continue
        match = _FROM.match(line)
        if match is None:
            continue
        seen_from = True
        image = _substitute(match.group(1), values)
        if image not in stages and image != "scratch" and image not in images:
            images.append(image)
        if match.group(2):
            stages.add(match.group(2))
    return tuple(images)


def _instructions(dockerfile: str) -> list[str]:
    """Dockerfile instructions with comments dropped and backslash continuations joined."""
    lines: list[str] = []
    pending = ""
    for raw in dockerfile.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") and not pending:
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append((pending + stripped).strip())
        pending = ""
    if pending:
        lines.append(pending.strip())
    return [line for line in lines if line]


def _substitute(text: str, values: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        value = values.get(name, "")
        return value if value or match.group(2) is None else match.group(2)

    return _VARIABLE.sub(replace, text)
