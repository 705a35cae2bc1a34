"""Make flytekit's generated Dockerfile buildable by the Docker engine here (classic builder, offline).

Why: flytekit 1.16's ``DefaultImageBuilder`` runs ``docker build --tag <name> --platform <p> --push <ctx>``,
which needs BuildKit through the buildx plugin. Here the CLI (28.x) has no buildx and Debian bookworm
ships none (``apt-cache policy docker-buildx``: no candidate): ``--push`` is an unknown flag, and with
``DOCKER_BUILDKIT=1`` the CLI stops with "BuildKit is enabled but the buildx component is missing or
broken". The classic builder (the docker SDK's ``build``) runs the Dockerfile once these are rewritten:

- ``#syntax=docker/dockerfile:1.5`` names a frontend image that cannot be pulled: dropped;
- the ``uv`` and ``micromamba`` helper stages name remote images: rebuilt ``FROM`` the local base image,
  with the ``uv`` binary (from PyPI's ``uv`` wheel, the version flytekit's image names) copied in;
- ``RUN --mount=...``: a ``from=`` or ``bind`` mount becomes a ``COPY`` before the ``RUN``; a cache mount
  is dropped; a secret mount cannot be expressed and is refused;
- package installs reach PyPI through the host's CA bundle, copied into the context and named by an
  ``ARG SSL_CERT_FILE`` (an ``ARG`` is set during ``RUN`` but not kept in the image's config).

The image's tag is still flytekit's: nothing here is hashed.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from tasks.core.errors import InvalidConfig

#: Files Taxiway adds to flytekit's context, under this directory.
EXTRA_DIR = "_taxiway"
CA_FILE = f"{EXTRA_DIR}/ca-certificates.crt"
UV_FILE = f"{EXTRA_DIR}/uv"
_CA_IN_IMAGE = "/tmp/taxiway-build-ca.crt"
_MOUNT = re.compile(r"--mount=(\S+)\s+")
_HELPER_FROM = re.compile(r"^FROM\s+(\S+)\s+as\s+(uv|micromamba)\s*$", re.IGNORECASE)


def classic_dockerfile(dockerfile: str, base_image: str) -> str:
    """flytekit's Dockerfile rewritten for the classic builder (see the module docstring).

    :param dockerfile: what ``create_docker_context`` wrote.
    :param base_image: the local image the helper stages start from.
    :raises InvalidConfig: if the Dockerfile uses a secret mount (``pip_secret_mounts``).
    """
    out: list[str] = []
    final_from_seen = False
    for line in dockerfile.splitlines():
        if line.startswith("#syntax="):
            continue
        helper = _HELPER_FROM.match(line)
        if helper:
            out.append(f"FROM {base_image} AS {helper.group(2)}")
            if helper.group(2) == "uv":
                out.append(f"COPY {UV_FILE} /uv")
            continue
        if line.upper().startswith("FROM ") and not final_from_seen:
            final_from_seen = True
            out += [line, f"COPY {CA_FILE} {_CA_IN_IMAGE}", f"ARG SSL_CERT_FILE={_CA_IN_IMAGE}"]
            continue
        if line.startswith("RUN ") and "--mount=" in line:
            out += _rewrite_run(line)
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def _rewrite_run(line: str) -> list[str]:
    copies: list[str] = []
    for mount in _MOUNT.findall(line):
        options = dict(part.split("=", 1) for part in mount.split(",") if "=" in part)
        kind = options.get("type", "bind")
        target = options.get("target", "")
        source = options.get("source") or options.get("src") or ""
        if kind == "cache":
            continue
        if kind == "secret":
            raise InvalidConfig(
                "an ImageSpec with pip_secret_mounts cannot be built by the classic Docker builder",
                where="ImageSpec.pip_secret_mounts",
                fix="install buildx, or pass the index credentials another way (e.g. pip_index with a token)",
            )
        stage = options.get("from")
        if stage:
            copies.append(f"COPY --from={stage} {shlex.quote(source or '/')} {shlex.quote(target)}")
        else:
            copies.append(f"COPY {shlex.quote(source or '.')} {shlex.quote(target)}")
    command = _MOUNT.sub("", line[len("RUN ") :]).strip()
    return [*copies, f"RUN {command}"] if command else copies


def add_build_files(context: Path, *, ca_bundle: Path, uv_binary: Path) -> None:
    """Put the host CA bundle and the ``uv`` binary where :func:`classic_dockerfile` expects them."""
    extra = context / EXTRA_DIR
    extra.mkdir(exist_ok=True)
    (context / CA_FILE).write_bytes(ca_bundle.read_bytes())
    (context / UV_FILE).write_bytes(uv_binary.read_bytes())
    (context / UV_FILE).chmod(0o755)
