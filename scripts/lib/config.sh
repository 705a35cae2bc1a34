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

# What every task container gets from localflyte (`serve --task-env`), as propeller's
# plugins.k8s.default-env-vars would give it: the engine over loopback TCP (containers use the
# host network; the unix socket is not in them), the registry, the local Slack and approvals
# endpoints, the console, and the AWS settings boto3 reads. FLYTE_PLATFORM_URL and FLYTE_AWS_*
# localflyte injects itself. Secrets go through the secret store below, never here.
task_env_lines() {
  cat <<ENV
DOCKER_HOST=tcp://127.0.0.1:2375
TAXIWAY_REGISTRY=127.0.0.1:30000
TAXIWAY_BASE_IMAGE=$BASE_IMAGE
SLACK_BASE_URL=http://127.0.0.1:30091/api/
TAXIWAY_APPROVALS_URL=http://127.0.0.1:30093/
FLYTE_PLATFORM_CONSOLE_ENDPOINT=http://127.0.0.1:30081
AWS_ENDPOINT_URL=http://127.0.0.1:30002
AWS_ACCESS_KEY_ID=testing
AWS_SECRET_ACCESS_KEY=testing
AWS_DEFAULT_REGION=us-east-1
ENV
}

# localflyte's secret store, one file per secret: <dir>/<group>/<key> (`serve --secrets-dir`).
SECRETS_DIR="$STACK_DIR/secrets"

# The secrets tasks request (tasks/notify.py: Secret(group="slack", key="bot-token")), written on
# every `up` (same value, same file): group dirs 0700, files 0600, through a temporary file.
write_task_secrets() {
  mkdir -p "$SECRETS_DIR/slack"
  chmod 0700 "$SECRETS_DIR" "$SECRETS_DIR/slack"
  (umask 077 && printf '%s' "$TAXIWAY_SLACK_TOKEN" | write_atomically "$SECRETS_DIR/slack/bot-token")
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
  write_task_secrets
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
