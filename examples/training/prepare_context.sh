#!/usr/bin/env bash
# Fill the example's docker build context with a wheelhouse, so `docker build` installs offline.
#
# Usage: examples/training/prepare_context.sh [WHEELHOUSE_DIR]   (default: examples/training/.wheels)
#
# torch comes from the CPU wheel on this machine (TORCH_WHEEL), never from PyPI; every other pinned
# requirement is downloaded here, on the host, where pip is configured for the package index. The
# image's python (Debian bookworm, CPython 3.11, x86_64) matches the platform flags below.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
wheelhouse="${1:-$here/.wheels}"
torch_wheel="${TORCH_WHEEL:-/opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl}"

if [[ ! -f "$torch_wheel" ]]; then
  echo "prepare_context: torch wheel not found at $torch_wheel; set TORCH_WHEEL to the torch 2.13.0 CPU wheel" >&2
  exit 1
fi

mkdir -p "$wheelhouse"
cp -p "$torch_wheel" "$wheelhouse/"
grep -v -E '^(torch==|#|$)' "$here/requirements.txt" > "$wheelhouse/.requirements-no-torch.txt"
python3 -m pip download --quiet --no-deps --only-binary=:all: \
  --python-version 3.11 --implementation cp --abi cp311 \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  --platform linux_x86_64 \
  --dest "$wheelhouse" -r "$wheelhouse/.requirements-no-torch.txt" \
  2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
rm "$wheelhouse/.requirements-no-torch.txt"
echo "prepare_context: $(find "$wheelhouse" -name '*.whl' | wc -l) wheels in $wheelhouse"
