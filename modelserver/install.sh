#!/usr/bin/env bash
# Make (or reuse) the model server's venv and print its python.
#   modelserver/install.sh            -> /root/.cache/taxiway/modelserver-venv-<hash>/bin/python
# Why a venv of its own: MLServer 1.7.1 requires protobuf<7, flytekit 1.16's environment has protobuf 7.
# The venv is keyed by a hash of requirements.txt, so a changed lock makes a new one; set
# TAXIWAY_MODELSERVER_VENV to choose the directory yourself. torch comes from pip's find-links (/opt/wheels).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lock="$here/requirements.txt"
hash="$(sha256sum "$lock" | cut -c1-12)"
venv="${TAXIWAY_MODELSERVER_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/taxiway/modelserver-venv-$hash}"
python="${PYTHON:-python3}"
if [[ ! -f "$venv/.installed-$hash" ]]; then
  echo "modelserver: creating $venv (a few minutes: torch, mlserver)" >&2
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --no-deps -r "$lock" >&2
  "$venv/bin/python" -c 'import mlserver, torch, boto3' >&2
  touch "$venv/.installed-$hash"
fi
echo "$venv/bin/python"
