# shellcheck shell=bash
# The long-running parts of the local stack. Each part NAME defines:
#   part_NAME_enabled   succeed when this part should run (hooks stay disabled until written)
#   part_NAME_marker    a string found in the part's command line (guards against pid reuse)
#   part_NAME_health    succeed when the part answers
#   part_NAME_launch    start it in the background (through start_daemon)
#   part_NAME_endpoint  one line for the endpoint summary
# Sourced by scripts/stack after common.sh and config.sh.

# Start order; `down` stops in reverse order (localflyte before what it uses).
# shellcheck disable=SC2034  # used by scripts/stack
PARTS=(dockerd registry moto localflyte slack model_server approvals)

DOCKER_SOCK="unix:///var/run/docker.sock"
DOCKER_TCP="tcp://127.0.0.1:2375"
REGISTRY_ADDR="127.0.0.1:30000"
S3_ENDPOINT="http://127.0.0.1:30002"
LOCALFLYTE_PORT=30080
BUCKETS=(taxiway-data taxiway-models)

# --- dockerd ------------------------------------------------------------------------------
part_dockerd_enabled() { true; }
part_dockerd_marker() { echo dockerd; }
part_dockerd_health() { docker --host "$DOCKER_SOCK" version --format '{{.Server.Version}}' >/dev/null 2>&1; }
part_dockerd_launch() {
  # No bridge and no iptables: containers and builds use the host's network or none, so all
  # traffic stays on loopback. The loopback TCP socket is how task containers (host network)
  # reach the engine with DOCKER_HOST=tcp://127.0.0.1:2375, as a DinD sidecar would serve it.
  start_daemon dockerd dockerd --bridge=none --iptables=false --ip-forward=false \
    -H "$DOCKER_SOCK" -H "$DOCKER_TCP"
}
part_dockerd_endpoint() { echo "docker      $DOCKER_SOCK  $DOCKER_TCP"; }

# --- registry -----------------------------------------------------------------------------
part_registry_enabled() { true; }
part_registry_marker() { echo docker-registry; }
part_registry_health() { http_ok "http://$REGISTRY_ADDR/v2/"; }
part_registry_launch() {
  local cfg="$STACK_DIR/registry.yml"
  mkdir -p "$STACK_DIR/registry"
  cat >"$cfg" <<YAML
# Written by scripts/stack up.
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $STACK_DIR/registry
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
YAML
  start_daemon registry docker-registry serve "$cfg"
}
part_registry_endpoint() { echo "registry    http://$REGISTRY_ADDR  (push/pull as $REGISTRY_ADDR/<repo>:<tag>)"; }

# --- moto (S3) ----------------------------------------------------------------------------
part_moto_enabled() { true; }
part_moto_marker() { echo moto_server; }
part_moto_health() { http_ok "$S3_ENDPOINT/moto-api/"; }
part_moto_launch() {
  # moto_server from the interpreter we installed into, not whichever one PATH finds first.
  local bin
  bin="$(dirname "$("$PYTHON" -c 'import sys; print(sys.executable)')")/moto_server"
  [[ -x $bin ]] || bin="$(command -v moto_server)" || die "moto_server not found; is moto[server] installed?"
  start_daemon moto "$bin" -H 127.0.0.1 -p "${S3_ENDPOINT##*:}"
}
part_moto_endpoint() { echo "s3          $S3_ENDPOINT  (buckets: ${BUCKETS[*]}; key/secret testing)"; }

# moto keeps its state in memory: create the buckets on every `up` (a no-op when present).
ensure_buckets() {
  "$PYTHON" "$ROOT/scripts/lib/s3_buckets.py" --endpoint "$S3_ENDPOINT" "${BUCKETS[@]}" \
    >>"$LOG_DIR/moto.log" 2>&1 || fail_part moto "could not list or create the S3 buckets ${BUCKETS[*]}"
}

# --- localflyte ---------------------------------------------------------------------------
part_localflyte_enabled() { [[ -f $ROOT/localflyte/__main__.py ]]; }
part_localflyte_marker() { echo localflyte; }
part_localflyte_health() { tcp_open 127.0.0.1 "$LOCALFLYTE_PORT"; }
part_localflyte_launch() {
  # Task containers inherit nothing from this shell: the platform's settings go in as --task-env
  # (propeller's default-env-vars) and secrets from a local store (K8s secrets), as on a cluster.
  local line task_env=()
  write_task_secrets
  while IFS= read -r line; do task_env+=(--task-env "$line"); done < <(task_env_lines)
  start_daemon localflyte "$PYTHON" -m localflyte serve --port "$LOCALFLYTE_PORT" \
    --state-dir "$STACK_DIR/localflyte" --s3-endpoint "$S3_ENDPOINT" --bucket "${BUCKETS[0]}" \
    --secrets-dir "$SECRETS_DIR" "${task_env[@]}"
}
part_localflyte_endpoint() { echo "localflyte  dns:///127.0.0.1:$LOCALFLYTE_PORT  (FlyteAdmin gRPC, insecure)"; }

# --- HOOK: local Slack Web API endpoint (127.0.0.1:30091), written by a later part ---------
# To enable: make _enabled test for the server's module, _launch start it with start_daemon,
# _health check its port; then add SLACK_BASE_URL to config.sh's stack_env_lines.
part_slack_enabled() { [[ -f $ROOT/localslack/__main__.py ]]; }
part_slack_marker() { echo slack; }
part_slack_health() { tcp_open 127.0.0.1 30091; }
part_slack_launch() {
  start_daemon slack "$PYTHON" -m localslack serve --port 30091 --state-dir "$STACK_DIR/slack" \
    --token "$TAXIWAY_SLACK_TOKEN"
}
part_slack_endpoint() { echo "slack       http://127.0.0.1:30091/api/"; }

# --- HOOK: model server, Open Inference Protocol v2 (127.0.0.1:30092), a later part --------
part_model_server_enabled() { [[ -f $ROOT/modelserver/__main__.py ]]; }
part_model_server_marker() { echo model_server; }
part_model_server_health() { http_ok http://127.0.0.1:30092/v2/health/live; }
part_model_server_launch() {
  local py
  py="$(bash "$ROOT/modelserver/install.sh")" || die "could not create the model server venv (modelserver/install.sh)"
  start_daemon model_server env PYTHONPATH="$ROOT" AWS_ENDPOINT_URL_S3="$S3_ENDPOINT" \
    AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1 OMP_NUM_THREADS=1 \
    "$py" -m modelserver serve --port 30092 --grpc-port 30094 \
    --repository s3://taxiway-models/serving --state-dir "$STACK_DIR/model_server"
}
part_model_server_endpoint() { echo "model       http://127.0.0.1:30092/v2/"; }

# --- HOOK: approvals service (127.0.0.1:30093), a later part -------------------------------
part_approvals_enabled() { [[ -f $ROOT/approvals/__main__.py ]]; }
part_approvals_marker() { echo approvals; }
part_approvals_health() { tcp_open 127.0.0.1 30093; }
part_approvals_launch() {
  export SLACK_SIGNING_SECRET="$TAXIWAY_SLACK_SIGNING_SECRET"
  start_daemon approvals "$PYTHON" -m approvals serve --port 30093 --state-dir "$STACK_DIR/approvals" \
    --config "$ROOT/examples/training/taxiway.yaml" --slack-api-url http://127.0.0.1:30091/api/
}
part_approvals_endpoint() { echo "approvals   http://127.0.0.1:30093/"; }

# --- generic lifecycle --------------------------------------------------------------------

# Start PART unless it already answers or a start of ours is still in progress.
launch_part() {
  local part=$1
  "part_${part}_enabled" || return 0
  if "part_${part}_health"; then
    our_pid "$part" "$("part_${part}_marker")" >/dev/null || say "$part: reusing one already running (not ours; down leaves it)"
    return 0
  fi
  our_pid "$part" "$("part_${part}_marker")" >/dev/null && return 0
  say "starting $part (log: $LOG_DIR/$part.log)"
  "part_${part}_launch"
}

# Wait for PART's health check; fail naming the part and its log.
await_part() {
  local part=$1 timeout=${2:-60} pid rc=0
  "part_${part}_enabled" || return 0
  pid="$(our_pid "$part" "$("part_${part}_marker")")" || pid=""
  wait_until "$timeout" "$pid" "part_${part}_health" || rc=$?
  case $rc in
    0) ;;
    2) fail_part "$part" "exited during start-up (pid $pid)" ;;
    *) fail_part "$part" "did not answer its health check within ${timeout}s" ;;
  esac
}

stop_part() {
  local part=$1
  stop_daemon "$part" "$("part_${part}_marker")" 30
}

status_part() {
  local part=$1 pid state
  if ! "part_${part}_enabled"; then
    printf '%-12s %s\n' "$part" "disabled (not written yet)"
    return 0
  fi
  pid="$(our_pid "$part" "$("part_${part}_marker")")" || pid=""
  if "part_${part}_health"; then state=up; else state=down; fi
  if [[ -n $pid ]]; then
    printf '%-12s %-5s pid %s\n' "$part" "$state" "$pid"
  elif [[ $state == up ]]; then
    printf '%-12s %-5s (not started by scripts/stack)\n' "$part" "$state"
  else
    printf '%-12s %s\n' "$part" "$state"
  fi
  [[ $state == up ]]
}
