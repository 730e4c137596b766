# Shared by the script checks (sourced): ports on 127.0.0.1.

# A port nobody listens on now (the system's choice).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# Prints those of the given ports that something listens on (127.0.0.1 or any address).
listening() {
  local p hex
  for p in "$@"; do
    hex=$(printf '%04X' "$p")
    if awk -v h=":$hex" 'NR > 1 && $4 == "0A" && substr($2, length($2) - 4) == h { found = 1 } END { exit !found }' /proc/net/tcp /proc/net/tcp6; then
      echo "$p"
    fi
  done
}
