# shellcheck shell=bash
# Installing what the stack needs: Debian packages and the project's Python environment.
# Sourced by scripts/stack after common.sh.

APT_PACKAGES=(docker.io docker-registry debootstrap curl chromium chromium-driver)
TORCH_PIN="torch==2.13.0"

# Command that proves each Debian package is installed (checking commands, not dpkg, keeps a
# warm `up` fast and also accepts tools installed some other way).
declare -A APT_PROVIDES=(
  [docker.io]=dockerd
  [docker-registry]=docker-registry
  [debootstrap]=debootstrap
  [curl]=curl
  [chromium]=chromium
  [chromium-driver]=chromedriver
)

install_system_packages() {
  local missing=() pkg log="$LOG_DIR/apt.log"
  for pkg in "${APT_PACKAGES[@]}"; do
    command -v "${APT_PROVIDES[$pkg]}" >/dev/null 2>&1 || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  ((EUID == 0)) || die "missing Debian packages ${missing[*]}; run scripts/stack up as root or apt-get install them"
  say "installing Debian packages: ${missing[*]} (log: $log)"
  export DEBIAN_FRONTEND=noninteractive
  # Refresh the package lists only when apt cannot see a candidate for one of them.
  for pkg in "${missing[@]}"; do
    if ! apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
      say "apt-get update (no candidate for $pkg)"
      apt-get update >>"$log" 2>&1 || fail_part apt "apt-get update failed"
      break
    fi
  done
  apt-get install -y --no-install-recommends "${missing[@]}" >>"$log" 2>&1 ||
    fail_part apt "apt-get install ${missing[*]} failed"
}

# pip install the project (editable, with dev extras) and the pinned CPU torch. Skipped when
# the stamp holds the hash of what was installed last time, so a warm `up` costs nothing here.
install_python_deps() {
  local stamp="$CACHE_DIR/pip.stamp" want log="$LOG_DIR/pip.log"
  want="$(printf '%s %s\n' "$(sha256_of "$ROOT/pyproject.toml")" "$TORCH_PIN")"
  if [[ -f $stamp && "$(<"$stamp")" == "$want" ]]; then
    return 0
  fi
  say "pip install -e '.[dev]' $TORCH_PIN (log: $log)"
  (cd "$ROOT" && "$PYTHON" -m pip install -e '.[dev]' "$TORCH_PIN") >>"$log" 2>&1 ||
    fail_part pip "pip install failed"
  printf '%s\n' "$want" >"$stamp"
}
