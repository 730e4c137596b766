# Sourced by demo.sh and cluster.sh: stop_group SECONDS PID... sends SIGTERM to each process,
# waits until all have ended or SECONDS have passed, then kills what is left.
stop_group() {
  local seconds=$1 pid alive
  shift
  [ $# -gt 0 ] || return 0
  for pid in "$@"; do kill "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 $((seconds * 5))); do
    alive=false
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=true; done
    $alive || return 0
    sleep 0.2
  done
  for pid in "$@"; do kill -9 "$pid" 2>/dev/null || true; done
}
