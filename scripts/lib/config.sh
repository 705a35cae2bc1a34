# shellcheck shell=bash
# The client-side configuration `up` hands to everything else: .stack/env and .stack/flyte.yaml.
# Sourced by scripts/stack after common.sh.

BASE_IMAGE="taxiway/base:bookworm-py311"

# One NAME=VALUE per line; values contain no spaces or quotes, so they are written unquoted.
stack_env_lines() {
  cat <<ENV
FLYTECTL_CONFIG=$STACK_DIR/flyte.yaml
FLYTE_PLATFORM_URL=127.0.0.1:30080
FLYTE_PLATFORM_INSECURE=True
FLYTE_PLATFORM_CONSOLE_ENDPOINT=http://127.0.0.1:30081
FLYTE_AWS_ENDPOINT=http://127.0.0.1:30002
FLYTE_AWS_ACCESS_KEY_ID=testing
FLYTE_AWS_SECRET_ACCESS_KEY=testing
AWS_ENDPOINT_URL=http://127.0.0.1:30002
AWS_ACCESS_KEY_ID=testing
AWS_SECRET_ACCESS_KEY=testing
AWS_DEFAULT_REGION=us-east-1
DOCKER_HOST=unix:///var/run/docker.sock
TAXIWAY_REGISTRY=127.0.0.1:30000
TAXIWAY_BASE_IMAGE=$BASE_IMAGE
TAXIWAY_SLACK_TOKEN=xoxb-localslack-taxiway
SLACK_BASE_URL=http://127.0.0.1:30091/api/
TAXIWAY_SLACK_SIGNING_SECRET=local-signing-secret
TAXIWAY_APPROVALS_URL=http://127.0.0.1:30093/
ENV
}

# The daemons we start (localflyte above all) see the same settings the clients get.
export_stack_env() {
  local line
  while IFS= read -r line; do export "${line?}"; done < <(stack_env_lines)
}

# Write through a temporary file so that a reader never sees half a file.
write_atomically() {
  local dest=$1
  cat >"$dest.tmp.$$"
  mv -f "$dest.tmp.$$" "$dest"
}

write_client_config() {
  write_atomically "$STACK_DIR/flyte.yaml" <<YAML
# Written by scripts/stack up: flytectl / pyflyte config for the local stack.
admin:
  endpoint: dns:///127.0.0.1:30080
  insecure: true
console:
  endpoint: http://127.0.0.1:30081
storage:
  # flytestdlib reads type + connection; flytekit reads connection (storage.connection.*).
  type: s3
  connection:
    endpoint: http://127.0.0.1:30002
    access-key: testing
    secret-key: testing
    auth-type: accesskey
    region: us-east-1
    disable-ssl: true
  container: taxiway-data
YAML
  {
    echo "# Written by scripts/stack up; load with: source .stack/env"
    stack_env_lines | sed 's/^/export /'
  } | write_atomically "$STACK_DIR/env"
}
