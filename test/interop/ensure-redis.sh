#!/usr/bin/env bash
# Makes sure redis-server, redis-cli, redis-benchmark and redis-sentinel are on
# PATH, installing Debian's redis-server + redis-tools + redis-sentinel if
# needed. Leaves no redis-server or redis-sentinel daemon running (the Debian
# packages may start one on 6379 / 26379). Idempotent; silent on success.
set -euo pipefail

have_all() {
  command -v redis-server >/dev/null 2>&1 &&
    command -v redis-cli >/dev/null 2>&1 &&
    command -v redis-benchmark >/dev/null 2>&1 &&
    command -v redis-sentinel >/dev/null 2>&1
}

if have_all; then
  exit 0
fi

die() {
  echo "ensure-redis: $*" >&2
  exit 1
}

command -v apt-get >/dev/null 2>&1 ||
  die "redis-server/redis-cli/redis-benchmark/redis-sentinel not found and apt-get is unavailable; install Redis 7 tools manually"

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || die "need root or sudo to install redis-server, redis-tools and redis-sentinel"
  SUDO=(sudo)
fi

# Is something listening on 127.0.0.1:<port>?
listening() {
  (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null
}
listening_6379() { listening 6379; }

busy_before=0
if listening_6379; then
  busy_before=1 # not ours: never touch a server that was already there
fi
sentinel_busy_before=0
if listening 26379; then
  sentinel_busy_before=1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT

if ! {
  "${SUDO[@]}" apt-get update &&
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server redis-tools redis-sentinel
} >"$log" 2>&1; then
  cat "$log" >&2
  die "apt-get install redis-server redis-tools redis-sentinel failed"
fi

# The packages' postinst may have started (and enabled) their services: stop
# <service> listening on <port> — through the init system, then by its pid
# file, then by a SHUTDOWN — and fail if it still listens.
wait_port_free() {
  for _ in $(seq 1 50); do
    listening "$1" || return 0
    sleep 0.1
  done
  return 1
}

stop_package_daemon() {
  local service=$1 port=$2 pidfile=$3
  "${SUDO[@]}" service "$service" stop >/dev/null 2>&1 || true
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    "${SUDO[@]}" systemctl stop "$service" >/dev/null 2>&1 || true
    "${SUDO[@]}" systemctl disable "$service" >/dev/null 2>&1 || true
  fi
  wait_port_free "$port" && return 0
  # Still up (no init system to ask): stop the daemon the package started, by its pid file.
  if [ -r "$pidfile" ]; then
    local pid
    pid=$(cat "$pidfile")
    [ -n "$pid" ] && "${SUDO[@]}" kill "$pid" >/dev/null 2>&1 || true
  fi
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  wait_port_free "$port" || die "a $service is still listening on $port after installation; stop it manually"
}

# Never touch a server that was already there before the install.
if [ "$busy_before" -eq 0 ]; then
  stop_package_daemon redis-server 6379 /run/redis/redis-server.pid
fi
if [ "$sentinel_busy_before" -eq 0 ]; then
  stop_package_daemon redis-sentinel 26379 /run/sentinel/redis-sentinel.pid
fi

have_all || die "installed redis-server, redis-tools and redis-sentinel, but redis-server/redis-cli/redis-benchmark/redis-sentinel are still not on PATH"
