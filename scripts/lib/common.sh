# shellcheck shell=bash
# Shared helpers for scripts/stack: paths, messages, and the pid-file daemon lifecycle.
# Sourced, never executed.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STACK_DIR="${TAXIWAY_STACK_DIR:-$ROOT/.stack}"
RUN_DIR="$STACK_DIR/run"
LOG_DIR="$STACK_DIR/logs"
CACHE_DIR="$STACK_DIR/cache"
PYTHON="${PYTHON:-python3}"

say() { printf '[stack] %s\n' "$*"; }
warn() { printf '[stack] WARNING: %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

# Fail naming the part and its log, with the log's tail: the usual cause is right there.
fail_part() {
  local part=$1 why=$2 log="$LOG_DIR/$1.log"
  printf '[stack] ERROR: part "%s" %s; see %s\n' "$part" "$why" "$log" >&2
  if [[ -s $log ]]; then
    printf '[stack] ---- last lines of %s ----\n' "$log" >&2
    tail -n 15 "$log" >&2
  fi
  exit 1
}

ensure_dirs() { mkdir -p "$RUN_DIR" "$LOG_DIR" "$CACHE_DIR"; }

pid_file() { printf '%s/%s.pid' "$RUN_DIR" "$1"; }

# The pid recorded for a part, if that process is alive AND still looks like the part (its
# command line contains the part's marker): a pid file that survived a reboot must not make
# us adopt, or kill, an unrelated process that reused the pid.
our_pid() {
  local part=$1 marker=$2 file pid
  file="$(pid_file "$part")"
  [[ -f $file ]] || return 1
  pid="$(<"$file")"
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$marker" || return 1
  printf '%s' "$pid"
}

# Start a daemon in its own session (so that neither our exit nor a signal to our process
# group reaches it) and record its pid. setsid execs in place here (a background child of a
# non-interactive shell is not a group leader), so $! is the daemon's own pid.
start_daemon() {
  local part=$1
  shift
  local log="$LOG_DIR/$part.log"
  printf '\n---- %s starting: %s\n' "$(date -Is)" "$*" >>"$log"
  (cd "$ROOT" && exec setsid "$@" </dev/null >>"$log" 2>&1) &
  printf '%s\n' "$!" >"$(pid_file "$part")"
}

# Poll CHECK (a command) until it succeeds, up to TIMEOUT seconds. When PID is given and that
# process exits meanwhile, give up at once instead of waiting out the timeout.
wait_until() {
  local timeout=$1 pid=$2
  shift 2
  local deadline=$((SECONDS + timeout))
  while ((SECONDS < deadline)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if [[ -n $pid && ! -e /proc/$pid ]]; then return 2; fi
    sleep 0.3
  done
  "$@" >/dev/null 2>&1
}

# All descendants of PID (children first found breadth-first), from one ps snapshot.
descendants() {
  local root=$1
  ps -e -o pid= -o ppid= | awk -v root="$root" '
    { parent[$1] = $2; order[NR] = $1 }
    END {
      want[root] = 1; changed = 1
      while (changed) {
        changed = 0
        for (i = 1; i <= NR; i++) {
          p = order[i]
          if (!(p in want) && (parent[p] in want)) { want[p] = 1; changed = 1; print p }
        }
      }
    }'
}

# Stop a part we started: SIGTERM the recorded pid, wait for it and every process it had
# spawned (recorded before the signal) to be gone, SIGKILL those pids if they outlive the
# grace period, and remove the pid file only once none of them is left.
stop_daemon() {
  local part=$1 marker=$2 grace=${3:-20} pid pids p left deadline
  if ! pid="$(our_pid "$part" "$marker")"; then
    rm -f "$(pid_file "$part")"
    return 0
  fi
  mapfile -t pids < <(printf '%s\n' "$pid"; descendants "$pid")
  say "stopping $part (pid $pid, ${#pids[@]} process(es))"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + grace))
  while ((SECONDS < deadline)); do
    left=0
    for p in "${pids[@]}"; do [[ -e /proc/$p ]] && left=1; done
    ((left)) || break
    sleep 0.3
  done
  for p in "${pids[@]}"; do
    if [[ -e /proc/$p ]]; then
      warn "$part: pid $p still running after ${grace}s; sending SIGKILL"
      kill -KILL "$p" 2>/dev/null || true
    fi
  done
  sleep 0.2
  for p in "${pids[@]}"; do
    [[ -e /proc/$p ]] && die "$part: pid $p is still running after SIGKILL"
  done
  rm -f "$(pid_file "$part")"
}

tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

http_ok() { curl -fsS -o /dev/null --max-time 3 "$1" 2>/dev/null; }

sha256_of() { sha256sum "$@" | cut -d' ' -f1; }
