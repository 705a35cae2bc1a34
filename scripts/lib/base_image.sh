# shellcheck shell=bash
# The local Python 3.11 base image. No registry can be pulled from here, so the image is a
# Debian bookworm rootfs made with debootstrap and `docker import`ed, then pushed to the local
# registry. Sourced by scripts/stack after common.sh, config.sh and parts.sh.

BASE_SUITE=bookworm
BASE_INCLUDE="python3,python3-venv,python3-pip,ca-certificates,git"
BASE_PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# The main Debian mirror apt already uses on this machine (deb822 .sources files or one-line
# sources.list entries), so debootstrap goes where the network allows.
debian_mirror() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    uri="$(awk -v s="$BASE_SUITE" '
      function emit() { if (!done && uri != "" && enabled && (" " suites " ") ~ (" " s " ")) { print uri; done = 1; exit } }
      /^[[:space:]]*$/ { emit(); uri = ""; suites = ""; enabled = 1; next }
      NR == 1 { enabled = 1 }
      /^URIs:/ { uri = $2 }
      /^Suites:/ { $1 = ""; suites = $0 }
      /^Enabled:[[:space:]]*no/ { enabled = 0 }
      END { emit() }
    ' "$f")"
    [[ -n $uri ]] && { printf '%s' "${uri%/}"; return 0; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    uri="$(sed -E 's/\[[^]]*\]//' "$f" | awk -v s="$BASE_SUITE" '$1 == "deb" && $3 == s { print $2; exit }')"
    [[ -n $uri ]] && { printf '%s' "${uri%/}"; return 0; }
  done
  printf '%s' "http://deb.debian.org/debian"
}

# Rootfs tarball, named by what goes into it, cached so that an import after
# `docker system prune` takes seconds instead of a fresh debootstrap.
base_rootfs_tarball() {
  local mirror=$1 key
  key="$(printf '%s|%s|minbase|%s' "$BASE_SUITE" "$BASE_INCLUDE" "$mirror" | sha256sum | cut -c1-12)"
  printf '%s/rootfs-%s-py311-%s.tar' "$CACHE_DIR" "$BASE_SUITE" "$key"
}

debootstrap_rootfs() {
  local mirror=$1 tarball=$2 log="$LOG_DIR/base-image.log" dir="$CACHE_DIR/rootfs.build"
  rm -rf "$dir"
  say "debootstrap $BASE_SUITE from $mirror (about a minute; log: $log)"
  debootstrap --variant=minbase --include="$BASE_INCLUDE" "$BASE_SUITE" "$dir" "$mirror" >>"$log" 2>&1 ||
    fail_part base-image "debootstrap failed"
  # apt's downloaded lists and packages only make the image bigger.
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/var/log/* 2>/dev/null || true
  tar --numeric-owner -C "$dir" -cf "$tarball.tmp" . || fail_part base-image "could not tar $dir"
  mv -f "$tarball.tmp" "$tarball"
  rm -rf "$dir"
}

registry_digest() { # repo tag -> digest of that manifest in the local registry, if any
  curl -fsS --max-time 5 -I \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://$REGISTRY_ADDR/v2/$1/manifests/$2" 2>/dev/null |
    awk -F': ' 'tolower($1) == "docker-content-digest" { gsub(/\r/, "", $2); print $2 }' || true
}

ensure_base_image() {
  local log="$LOG_DIR/base-image.log" remote="$REGISTRY_ADDR/$BASE_IMAGE" mirror tarball want have
  if ! docker --host "$DOCKER_SOCK" image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    mirror="$(debian_mirror)"
    tarball="$(base_rootfs_tarball "$mirror")"
    [[ -f $tarball ]] || debootstrap_rootfs "$mirror" "$tarball"
    say "docker import $BASE_IMAGE from $tarball"
    docker --host "$DOCKER_SOCK" import \
      -c "ENV PATH=$BASE_PATH" -c 'ENV LANG=C.UTF-8' -c 'CMD ["python3"]' \
      "$tarball" "$BASE_IMAGE" >>"$log" 2>&1 || fail_part base-image "docker import failed"
  fi
  # Push only when the registry does not already hold exactly this image.
  have="$(registry_digest "${BASE_IMAGE%:*}" "${BASE_IMAGE##*:}")"
  want="$(docker --host "$DOCKER_SOCK" image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$BASE_IMAGE" |
    awk -F@ -v r="$REGISTRY_ADDR/${BASE_IMAGE%:*}" '$1 == r { print $2; exit }')"
  if [[ -z $have || $have != "$want" ]]; then
    say "pushing $remote"
    docker --host "$DOCKER_SOCK" tag "$BASE_IMAGE" "$remote"
    docker --host "$DOCKER_SOCK" push "$remote" >>"$log" 2>&1 || fail_part base-image "docker push $remote failed"
  fi
}
