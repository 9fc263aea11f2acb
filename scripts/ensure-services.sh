#!/usr/bin/env bash
# Make sure the PostgreSQL and Redis that the tests use answer; start the local servers when they
# are installed but stopped, otherwise say how to start them.
set -u
PG_HOST=127.0.0.1 PG_PORT=5432 REDIS_HOST=127.0.0.1 REDIS_PORT=6379
PY=${PY:-.venv/bin/python}

answers() {  # host port
  "$PY" - "$1" "$2" <<'PY'
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()
except OSError:
    sys.exit(1)
PY
}

wait_for() {  # name host port
  for _ in $(seq 1 30); do answers "$2" "$3" && return 0; sleep 1; done
  echo "$1 did not start on $2:$3" >&2; return 1
}

if [ -n "${PODIUM_TEST_POSTGRES:-}" ]; then
  echo "Using PostgreSQL at $PODIUM_TEST_POSTGRES"
elif answers $PG_HOST $PG_PORT; then
  echo "PostgreSQL answers on $PG_HOST:$PG_PORT"
elif command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "Starting PostgreSQL $version…"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || sudo -n pg_ctlcluster --skip-systemctl-redirect "$version" main start
  wait_for PostgreSQL $PG_HOST $PG_PORT || exit 1
else
  cat >&2 <<MSG
PostgreSQL is not answering on $PG_HOST:$PG_PORT and no local server was found to start.
Install and start it (Debian/Ubuntu: sudo apt-get install postgresql && sudo service postgresql start),
allow trust or password-less login for your user on 127.0.0.1, or point the tests at a server with
PODIUM_TEST_POSTGRES=postgresql://user@host:port (a user that may create databases).
MSG
  exit 1
fi

if [ -n "${PODIUM_TEST_REDIS:-}" ]; then
  echo "Using Redis at $PODIUM_TEST_REDIS"
elif answers $REDIS_HOST $REDIS_PORT; then
  echo "Redis answers on $REDIS_HOST:$REDIS_PORT"
elif command -v redis-server >/dev/null; then
  echo "Starting Redis…"
  redis-server --daemonize yes --bind 127.0.0.1 --port $REDIS_PORT --save "" --appendonly no >/dev/null
  wait_for Redis $REDIS_HOST $REDIS_PORT || exit 1
else
  cat >&2 <<MSG
Redis is not answering on $REDIS_HOST:$REDIS_PORT and redis-server is not installed.
Install and start it (Debian/Ubuntu: sudo apt-get install redis-server && sudo service redis-server start),
or point the tests at a server with PODIUM_TEST_REDIS=redis://host:port/15 (database 15 is flushed).
MSG
  exit 1
fi
