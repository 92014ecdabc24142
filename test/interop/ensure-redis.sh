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

# The package's postinst may have started (and enabled) the service.
stop_service() {
  "${SUDO[@]}" service redis-server stop >/dev/null 2>&1 || true
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    "${SUDO[@]}" systemctl stop redis-server >/dev/null 2>&1 || true
    "${SUDO[@]}" systemctl disable redis-server >/dev/null 2>&1 || true
  fi
}

if [ "$busy_before" -eq 0 ]; then
  stop_service
  for _ in $(seq 1 50); do
    listening_6379 || break
    sleep 0.1
  done
  if listening_6379; then
    # Still up (no init system to ask): stop the daemon the package started, by its pid file.
    pidfile=/run/redis/redis-server.pid
    if [ -r "$pidfile" ]; then
      pid=$(cat "$pidfile")
      [ -n "$pid" ] && "${SUDO[@]}" kill "$pid" >/dev/null 2>&1 || true
    fi
    redis-cli -p 6379 shutdown nosave >/dev/null 2>&1 || true
    for _ in $(seq 1 50); do
      listening_6379 || break
      sleep 0.1
    done
  fi
  if listening_6379; then
    die "a redis-server is still listening on 6379 after installation; stop it manually"
  fi
fi

# redis-sentinel's postinst may likewise have started a sentinel on 26379.
if [ "$sentinel_busy_before" -eq 0 ]; then
  "${SUDO[@]}" service redis-sentinel stop >/dev/null 2>&1 || true
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    "${SUDO[@]}" systemctl stop redis-sentinel >/dev/null 2>&1 || true
    "${SUDO[@]}" systemctl disable redis-sentinel >/dev/null 2>&1 || true
  fi
  for _ in $(seq 1 50); do
    listening 26379 || break
    sleep 0.1
  done
  if listening 26379; then
    pidfile=/run/sentinel/redis-sentinel.pid
    if [ -r "$pidfile" ]; then
      pid=$(cat "$pidfile")
      [ -n "$pid" ] && "${SUDO[@]}" kill "$pid" >/dev/null 2>&1 || true
    fi
    redis-cli -p 26379 shutdown nosave >/dev/null 2>&1 || true
    for _ in $(seq 1 50); do
      listening 26379 || break
      sleep 0.1
    done
  fi
  if listening 26379; then
    die "a redis-sentinel is still listening on 26379 after installation; stop it manually"
  fi
fi

have_all || die "installed redis-server, redis-tools and redis-sentinel, but redis-server/redis-cli/redis-benchmark/redis-sentinel are still not on PATH"
