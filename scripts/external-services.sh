#!/usr/bin/env bash
# PostgreSQL (+ pgvector, pg_trgm) and Redis from Debian's packages, run as two separate services on
# loopback with their own data under .data/external/ (KBPORTAL_EXTERNAL_DIR), for `make test-external`.
#
#   bash scripts/external-services.sh install  # apt-get what is missing (root; nothing when all is there)
#   bash scripts/external-services.sh start    # a fresh cluster and Redis; writes .data/external/env
#   bash scripts/external-services.sh stop     # stops both (harmless when they are not running)
#
# .data/external/env exports DATABASE_URL and REDIS_URL (and what `stop` needs); `. .data/external/env`
# points manage.py, Celery or pytest at these services instead of the embedded ones.
#
# Roles: the cluster's own superuser (the OS user running it: `postgres` when we are root, as initdb refuses
# root) creates the extensions vector and pg_trgm in template1, so every database created afterwards has them
# (the migration's CREATE EXTENSION then finds them and does nothing); the portal's role `kbportal` is an
# ordinary role with LOGIN and CREATEDB (pytest-django creates test_kbportal) and a password, like a
# deployment's application role, so the suite also shows that nothing needs superuser rights at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${KBPORTAL_EXTERNAL_DIR:-$PWD/.data/external}
ENV_FILE=$BASE/env

say() { printf 'external-services: %s\n' "$*" >&2; }
die() {
  say "$*"
  exit 1
}

installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }

# The PostgreSQL major that Debian's `postgresql` package stands for (15 on Debian 12, 17 on Debian 13).
pg_major() { dpkg-query -W -f='${Depends}' postgresql 2>/dev/null | grep -o 'postgresql-[0-9][0-9]*' | head -1 | cut -d- -f2; }

APT_UPDATED=0
apt_install() {
  [ "$(id -u)" = 0 ] || die "missing Debian packages: $*. Install them as root (sudo bash $0 install), then run this again."
  export DEBIAN_FRONTEND=noninteractive
  if [ $APT_UPDATED = 0 ]; then
    apt-get update -qq
    APT_UPDATED=1
  fi
  say "apt-get install $*"
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

candidate() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}'; }

# Debian 12 has no pgvector package (Debian 13 has postgresql-17-pgvector). There we rebuild Debian's own
# pgvector source package (from the next Debian release, PGVECTOR_SOURCE_SUITE, default trixie) for this
# PostgreSQL major with Debian's tooling: a postgresql-<major>-pgvector .deb, installed with apt-get (so dpkg
# owns its files) and kept in .data/external/debs/ for the next run. Its version ends in ~kbportal, below
# any real Debian package of the same upstream version, which would replace it.
pgvector_backport() {
  local major=$1 suite=${PGVECTOR_SOURCE_SUITE:-trixie} codename uri work src deb
  [ "$(id -u)" = 0 ] || die "postgresql-$major-pgvector is not installed and this Debian release has no such package; as root, bash $0 install builds it from Debian's pgvector source package."
  mkdir -p "$BASE/debs"
  deb=$(find "$BASE/debs" -name "postgresql-$major-pgvector_*.deb" | head -1)
  if [ -z "$deb" ]; then
    # shellcheck disable=SC1091
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    # The Debian archive this machine already uses for its own release (never a hard-coded host).
    uri=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' 2>/dev/null |
      awk -v c="$codename" '$2 == c && $3 == "main" {print $1; exit}')
    [ -n "$uri" ] || die "cannot tell which Debian archive this machine uses (no '$codename main' in apt's sources)"
    say "no postgresql-$major-pgvector in Debian $codename: building it from Debian's pgvector source package ($suite)"
    apt_install debhelper postgresql-server-dev-all dpkg-dev
    work=$BASE/pgvector-build
    rm -rf "$work"
    mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
    echo "deb-src $uri $suite main" >"$work/sources.list"
    # A private source list and index: the machine's own apt configuration is left as it was.
    local apt_opts=(-o "Dir::Etc::sourcelist=$work/sources.list" -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$work/lists"
      -o "Dir::Cache=$work/cache" -o APT::Sandbox::User=root)
    apt-get "${apt_opts[@]}" update -qq
    (cd "$work" && apt-get "${apt_opts[@]}" source -qq pgvector >/dev/null)
    src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -1)
    [ -n "$src" ] || die "apt-get source pgvector ($suite) gave no source tree"
    (
      cd "$src"
      local version
      version=$(dpkg-parsechangelog -S Version)
      {
        printf 'pgvector (%s~kbportal) %s; urgency=medium\n\n' "$version" "$codename"
        printf '  * Rebuilt for PostgreSQL %s on Debian %s by scripts/external-services.sh.\n\n' "$major" "$codename"
        printf ' -- KB Portal test tooling <kbportal@localhost>  %s\n\n' "$(date -R)"
        cat debian/changelog
      } >debian/changelog.new
      mv debian/changelog.new debian/changelog
      echo "$major" >debian/pgversions
      pg_buildext updatecontrol
      # -d: the build profile's virtual packages (architecture-is-64-bit) do not exist before Debian 13.
      DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -b -uc -us -d -Pnocheck >"$work/build.log" 2>&1 ||
        die "building pgvector failed; see $work/build.log"
    )
    deb=$(find "$work" -maxdepth 1 -name "postgresql-$major-pgvector_*.deb" | head -1)
    [ -n "$deb" ] || die "the pgvector build made no postgresql-$major-pgvector package; see $work/build.log"
    cp "$deb" "$BASE/debs/"
    deb=$BASE/debs/$(basename "$deb")
  fi
  apt_install "$deb"
}

has_candidate() { [ -n "$(candidate "$1")" ] && [ "$(candidate "$1")" != "(none)" ]; }

cmd_install() {
  local missing=() major
  installed postgresql || missing+=(postgresql postgresql-contrib)
  installed redis-server || missing+=(redis-server)
  [ ${#missing[@]} = 0 ] || apt_install "${missing[@]}"
  major=$(pg_major)
  [ -n "$major" ] || die "Debian's postgresql package is not installed"
  if [ ! -f "/usr/share/postgresql/$major/extension/vector.control" ]; then
    if [ "$(id -u)" = 0 ] && [ $APT_UPDATED = 0 ]; then
      apt-get update -qq
      APT_UPDATED=1
    fi
    if has_candidate "postgresql-$major-pgvector"; then
      apt_install "postgresql-$major-pgvector"
    else
      pgvector_backport "$major"
    fi
  fi
  [ -f "/usr/share/postgresql/$major/extension/pg_trgm.control" ] || die "pg_trgm is missing from postgresql-$major"
  [ -f "/usr/share/postgresql/$major/extension/vector.control" ] || die "pgvector is missing for PostgreSQL $major"
  say "PostgreSQL $(dpkg-query -W -f='${Version}' "postgresql-$major"), pgvector" \
    "$(dpkg-query -W -f='${Version}' "postgresql-$major-pgvector" 2>/dev/null || echo '?'), redis-server" \
    "$(dpkg-query -W -f='${Version}' redis-server)"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Runs a command as the cluster's owner ($pguser), from / (which that user can read).
as_pg() { if [ "$pguser" = "$(id -un)" ]; then (cd / && "$@"); else (cd / && runuser -u "$pguser" -- "$@"); fi; }

secret() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }

cmd_start() {
  local major bindir pguser pg pgdata sock port password redis_dir redis_port redis_password try
  major=$(pg_major)
  bindir=/usr/lib/postgresql/$major/bin
  [ -n "$major" ] && [ -x "$bindir/initdb" ] || die "PostgreSQL's server is not installed: run $0 install (as root)"
  command -v redis-server >/dev/null || die "redis-server is not installed: run $0 install (as root)"
  [ -f "/usr/share/postgresql/$major/extension/vector.control" ] || die "pgvector is not installed: run $0 install"
  cmd_stop 2>/dev/null || true
  mkdir -p "$BASE"
  # initdb refuses to run as root: the cluster then belongs to Debian's `postgres` user.
  if [ "$(id -u)" = 0 ]; then pguser=postgres; else pguser=$(id -un); fi
  pg=$BASE/pg
  rm -rf "$pg"
  mkdir -p "$pg"
  chown "$pguser" "$pg"
  if ! as_pg test -w "$pg"; then # a checkout that the postgres user cannot reach: the cluster goes to /tmp
    pg=$(mktemp -d /tmp/kbportal-external-pg.XXXXXX)
    chown "$pguser" "$pg"
  fi
  pgdata=$pg/data
  sock=$pg/socket
  as_pg mkdir -m 700 "$sock"
  as_pg "$bindir/initdb" -D "$pgdata" -E UTF8 --locale=C.UTF-8 --auth-local=peer --auth-host=scram-sha-256 \
    --no-instructions >"$BASE/initdb.log" 2>&1 || die "initdb failed; see $BASE/initdb.log"
  # A disposable test cluster: durability off (faster), memory as the embedded server's.
  as_pg tee -a "$pgdata/postgresql.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sock'
shared_buffers = '512MB'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  for try in 1 2 3 4 5; do
    port=$(free_port)
    if as_pg "$bindir/pg_ctl" -D "$pgdata" -l "$pg/log" -o "-p $port" -w -t 60 start >/dev/null; then break; fi
    [ "$try" = 5 ] && die "PostgreSQL did not start; see $pg/log"
  done
  password=$(secret)
  # Extensions first, in template1: the databases created from it (kbportal, test_kbportal) have them.
  if ! as_pg "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -d template1 \
    -c "CREATE EXTENSION vector" -c "CREATE EXTENSION pg_trgm" \
    -c "CREATE ROLE kbportal LOGIN CREATEDB PASSWORD '$password'" \
    -c "CREATE DATABASE kbportal OWNER kbportal" >/dev/null; then
    die "could not create the extensions, the role or the database; see $pg/log"
  fi

  redis_dir=$BASE/redis
  rm -rf "$redis_dir"
  mkdir -p "$redis_dir"
  redis_password=$(secret)
  for try in 1 2 3 4 5; do
    redis_port=$(free_port)
    cat >"$redis_dir/redis.conf" <<EOF
bind 127.0.0.1
port $redis_port
protected-mode yes
requirepass $redis_password
daemonize yes
pidfile $redis_dir/redis.pid
logfile $redis_dir/redis.log
dir $redis_dir
save ""
appendonly no
EOF
    chmod 600 "$redis_dir/redis.conf"
    redis-server "$redis_dir/redis.conf" >/dev/null
    for _ in $(seq 50); do
      [ "$(REDISCLI_AUTH=$redis_password redis-cli -p "$redis_port" ping 2>/dev/null)" = PONG ] && break 2
      sleep 0.1
    done
    [ "$try" = 5 ] && die "redis-server did not start; see $redis_dir/redis.log"
  done

  umask 077
  cat >"$ENV_FILE" <<EOF
# Written by scripts/external-services.sh start; removed by stop.
export DATABASE_URL=postgres://kbportal:$password@127.0.0.1:$port/kbportal
export REDIS_URL=redis://:$redis_password@127.0.0.1:$redis_port
KBX_PG_BINDIR=$bindir
KBX_PG_DATA=$pgdata
KBX_PG_USER=$pguser
KBX_REDIS_PORT=$redis_port
KBX_REDIS_PASSWORD=$redis_password
KBX_REDIS_PIDFILE=$redis_dir/redis.pid
EOF
  say "PostgreSQL $("$bindir/postgres" -V | awk '{print $3}') on 127.0.0.1:$port (data $pgdata), Redis $(redis-server -v | grep -o 'v=[^ ]*' | cut -c3-) on 127.0.0.1:$redis_port"
}

cmd_stop() {
  [ -f "$ENV_FILE" ] || return 0
  local KBX_PG_BINDIR KBX_PG_DATA KBX_PG_USER KBX_REDIS_PORT KBX_REDIS_PASSWORD KBX_REDIS_PIDFILE pid
  # shellcheck disable=SC1090
  . "$ENV_FILE"
  if [ -f "$KBX_PG_DATA/postmaster.pid" ]; then
    if [ "$KBX_PG_USER" = "$(id -un)" ]; then
      "$KBX_PG_BINDIR/pg_ctl" -D "$KBX_PG_DATA" -m fast -w stop >/dev/null || say "PostgreSQL did not stop"
    else
      (cd / && runuser -u "$KBX_PG_USER" -- "$KBX_PG_BINDIR/pg_ctl" -D "$KBX_PG_DATA" -m fast -w stop >/dev/null) ||
        say "PostgreSQL did not stop"
    fi
  fi
  if [ -f "$KBX_REDIS_PIDFILE" ]; then
    pid=$(cat "$KBX_REDIS_PIDFILE")
    REDISCLI_AUTH=$KBX_REDIS_PASSWORD redis-cli -p "$KBX_REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then kill "$pid"; fi
  fi
  case "$KBX_PG_DATA" in /tmp/kbportal-external-pg.*) rm -rf "$(dirname "$KBX_PG_DATA")" ;; esac
  rm -f "$ENV_FILE"
  say "stopped"
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  *)
    echo "usage: bash $0 install|start|stop" >&2
    exit 2
    ;;
esac
