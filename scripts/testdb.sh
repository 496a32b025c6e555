#!/usr/bin/env bash
# Throwaway PostgreSQL clusters for godwit's tests.
#
#   scripts/testdb.sh up       create (first time) and start the clusters, print env exports
#   scripts/testdb.sh down     stop the clusters (data is kept)
#   scripts/testdb.sh env      print the export lines for the test environment
#   scripts/testdb.sh status   show whether each cluster runs
#   scripts/testdb.sh destroy  stop the clusters and delete their data
#   scripts/testdb.sh start-pg NAME  start one cluster again (fault tests, after killing it)
#
# Clusters (all on 127.0.0.1, superuser "postgres", trust auth except for pwuser):
#   src      port 56432  wal_level=logical
#   dst      port 56433  wal_level=logical
#   replica  port 56434  wal_level=replica   (for the "wal_level is not logical" error)
#   fault    port 56435  wal_level=logical   (fault tests kill it; GODWIT_TEST_PG_FAULT_DATA is its data dir)
#
# Roles created on every cluster:
#   pwuser  LOGIN REPLICATION SUPERUSER PASSWORD 'pw-Secret-42'  (scram-sha-256 over TCP)
#   norepl  LOGIN NOSUPERUSER NOREPLICATION CREATEDB, no password (trust)
#
# MariaDB servers (all on 127.0.0.1, root with no password over TCP):
#   my-src    port 56306  server_id 1, log_bin, binlog_format=ROW, binlog_row_image=FULL
#   my-dst    port 56307  server_id 2, log_bin, ROW
#   my-nobin  port 56308  server_id 3, binary log off (for the "binlog is off" error)
# Users created on every server: pwuser@'%' (password 'pw-Secret-42', all privileges)
# and norepl@'%' (no password; data privileges but no REPLICATION SLAVE/BINLOG MONITOR).
#
# Root dir: ${GODWIT_TESTDB_ROOT:-/var/tmp/godwit-testdb}. Usage from a shell:
#   eval "$(scripts/testdb.sh up)"   or   eval "$(scripts/testdb.sh env)"
# Progress messages go to stderr, only the export lines go to stdout.
set -euo pipefail

ROOT="${GODWIT_TESTDB_ROOT:-/var/tmp/godwit-testdb}"
CLUSTERS=(src dst replica fault)
declare -A PORT=([src]=56432 [dst]=56433 [replica]=56434 [fault]=56435)
declare -A WAL_LEVEL=([src]=logical [dst]=logical [replica]=replica [fault]=logical)
# The fault cluster is killed: commits must reach the OS before they return,
# or the server itself loses them (no migration could keep what it lost).
declare -A SYNC_COMMIT=([fault]=on)
declare -A ENVVAR=([src]=GODWIT_TEST_PG_SOURCE [dst]=GODWIT_TEST_PG_TARGET [replica]=GODWIT_TEST_PG_REPLICA [fault]=GODWIT_TEST_PG_FAULT)
PG_OS_USER=postgres

log() { printf 'testdb: %s\n' "$*" >&2; }
die() {
	printf 'testdb: error: %s\n' "$*" >&2
	exit 1
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# find_bindir prints the bin dir of the highest installed PostgreSQL major version.
find_bindir() {
	local d v best="" bestv=-1
	for d in /usr/lib/postgresql/*/bin; do
		v="${d#/usr/lib/postgresql/}"
		v="${v%%/*}"
		v="${v%%.*}"
		case "$v" in '' | *[!0-9]*) continue ;; esac
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ] && [ "$v" -gt "$bestv" ]; then
			best="$d"
			bestv="$v"
		fi
	done
	printf '%s' "$best"
}

ensure_binaries() {
	BINDIR="$(find_bindir)"
	if [ -n "$BINDIR" ]; then
		return
	fi
	if ! is_root; then
		die "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin; install them as root (apt-get install postgresql) or run this script as root"
	fi
	log "PostgreSQL not installed; installing it with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update >&2
	apt-get install -y postgresql >&2
	BINDIR="$(find_bindir)"
	[ -n "$BINDIR" ] || die "apt-get install postgresql did not provide /usr/lib/postgresql/*/bin/initdb"
}

ensure_os_user() {
	is_root || return 0
	if ! id "$PG_OS_USER" >/dev/null 2>&1; then
		log "creating OS user $PG_OS_USER"
		useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash "$PG_OS_USER"
	fi
}

# as_pg runs a command as the postgres OS user when we are root, directly otherwise.
# It runs from ROOT so that the postgres user can always read its working directory.
as_pg() {
	if is_root; then
		if command -v runuser >/dev/null 2>&1; then
			(cd "$ROOT" && runuser -u "$PG_OS_USER" -- "$@")
		else
			local cmd
			cmd="$(printf '%q ' "$@")"
			(cd "$ROOT" && su "$PG_OS_USER" -s /bin/sh -c "$cmd")
		fi
	else
		(cd "$ROOT" && "$@")
	fi
}

ensure_root_dir() {
	mkdir -p "$ROOT"
	if is_root; then
		chown "$PG_OS_USER:" "$ROOT"
	fi
	chmod 0755 "$ROOT"
	# Unix sockets live in ROOT/run unless that path is too long for a socket name.
	SOCKDIR="$ROOT/run"
	if [ ${#SOCKDIR} -gt 80 ]; then
		SOCKDIR=/tmp
	else
		mkdir -p "$SOCKDIR"
		if is_root; then chown "$PG_OS_USER:" "$SOCKDIR"; fi
	fi
}

datadir() { printf '%s/%s/data' "$ROOT" "$1"; }
logfile() { printf '%s/%s/server.log' "$ROOT" "$1"; }

cluster_running() {
	local data
	data="$(datadir "$1")"
	[ -f "$data/PG_VERSION" ] || return 1
	as_pg "$BINDIR/pg_ctl" -D "$data" status >/dev/null 2>&1
}

# port_taken succeeds when something accepts TCP connections on 127.0.0.1:$1.
port_taken() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

write_config() {
	local name="$1" data
	data="$(datadir "$name")"
	cat >"$data/godwit-test.conf" <<EOF
# Written by scripts/testdb.sh on every 'up'; do not edit.
port = ${PORT[$name]}
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SOCKDIR'
wal_level = ${WAL_LEVEL[$name]}
max_wal_senders = 20
max_replication_slots = 20
max_connections = 200
fsync = off
synchronous_commit = ${SYNC_COMMIT[$name]:-off}
full_page_writes = off
shared_buffers = 256MB
password_encryption = 'scram-sha-256'
timezone = 'UTC'
log_timezone = 'UTC'
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
EOF
	if ! grep -q "^include_if_exists = 'godwit-test.conf'" "$data/postgresql.conf"; then
		printf "\ninclude_if_exists = 'godwit-test.conf'\n" >>"$data/postgresql.conf"
	fi
	cat >"$data/pg_hba.conf" <<'EOF'
# Written by scripts/testdb.sh on every 'up'; do not edit.
# TYPE  DATABASE     USER    ADDRESS        METHOD
local   all          all                    trust
local   replication  all                    trust
host    all          pwuser  127.0.0.1/32   scram-sha-256
host    replication  pwuser  127.0.0.1/32   scram-sha-256
host    all          all     127.0.0.1/32   trust
host    replication  all     127.0.0.1/32   trust
EOF
	if is_root; then
		chown "$PG_OS_USER:" "$data/godwit-test.conf" "$data/pg_hba.conf" "$data/postgresql.conf"
	fi
}

init_cluster() {
	local name="$1" data
	data="$(datadir "$name")"
	if [ -f "$data/PG_VERSION" ]; then
		return
	fi
	log "initdb $name ($data)"
	mkdir -p "$ROOT/$name"
	rm -rf "$data"
	if is_root; then chown "$PG_OS_USER:" "$ROOT/$name"; fi
	as_pg "$BINDIR/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --no-locale >"$ROOT/$name/initdb.log" 2>&1 ||
		die "initdb for $name failed, see $ROOT/$name/initdb.log"
}

start_cluster() {
	local name="$1" port="${PORT[$1]}" data
	data="$(datadir "$name")"
	# A postmaster that was just killed may still look alive for a moment (zombie):
	# wait until it either accepts connections or is really gone.
	local _
	for _ in $(seq 1 40); do
		cluster_running "$name" || break
		"$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres && break
		sleep 0.25
	done
	if cluster_running "$name"; then
		local pidport
		pidport="$(sed -n 4p "$data/postmaster.pid" 2>/dev/null || true)"
		if [ "$pidport" != "$port" ]; then
			log "$name runs on port ${pidport:-?}, restarting it on $port"
			as_pg "$BINDIR/pg_ctl" -D "$data" -m fast -w stop >/dev/null
		else
			# Reload so that config/pg_hba edits of a newer script version apply.
			as_pg "$BINDIR/pg_ctl" -D "$data" reload >/dev/null
			log "$name already running on 127.0.0.1:$port"
			return
		fi
	fi
	if port_taken "$port"; then
		die "port $port (cluster $name) is already in use by another process that is not the cluster in $data; stop it or free the port"
	fi
	log "starting $name on 127.0.0.1:$port"
	if ! as_pg "$BINDIR/pg_ctl" -D "$data" -l "$(logfile "$name")" -w -t 60 start >/dev/null; then
		tail -n 30 "$(logfile "$name")" >&2 || true
		die "could not start cluster $name, see $(logfile "$name")"
	fi
}

wait_ready() {
	local name="$1" port="${PORT[$1]}" _
	for _ in $(seq 1 120); do
		if "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; then
			return
		fi
		sleep 0.5
	done
	die "cluster $name on 127.0.0.1:$port does not accept connections, see $(logfile "$name")"
}

ensure_roles() {
	local name="$1" port="${PORT[$1]}"
	env -u PGPASSWORD -u PGSERVICE -u PGSSLMODE -u PGOPTIONS \
		"$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres >/dev/null <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pwuser') THEN
    CREATE ROLE pwuser;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'norepl') THEN
    CREATE ROLE norepl;
  END IF;
END
$$;
SET password_encryption = 'scram-sha-256';
ALTER ROLE pwuser LOGIN REPLICATION SUPERUSER PASSWORD 'pw-Secret-42';
ALTER ROLE norepl LOGIN NOSUPERUSER NOREPLICATION CREATEDB PASSWORD NULL;
SQL
}

print_env() {
	local name
	for name in "${CLUSTERS[@]}"; do
		printf 'export %s=postgres://postgres@127.0.0.1:%s/postgres\n' "${ENVVAR[$name]}" "${PORT[$name]}"
		if [ "$name" = fault ]; then
			printf 'export GODWIT_TEST_PG_FAULT_DATA=%s\n' "$(datadir "$name")"
		fi
	done
	for name in "${MY_SERVERS[@]}"; do
		printf 'export %s=mysql://root@127.0.0.1:%s/\n' "${MY_ENVVAR[$name]}" "${MY_PORT[$name]}"
		if [ "$name" = my-fault ]; then
			printf 'export GODWIT_TEST_MY_FAULT_CNF=%s/my.cnf\n' "$(my_dir "$name")"
		fi
	done
}

# ---- MariaDB ----
# my-fault is a source that fault tests kill and restart (GODWIT_TEST_MY_FAULT_CNF
# names its my.cnf; its pid file is beside it): no other test uses it.
MY_SERVERS=(my-src my-dst my-nobin my-fault)
declare -A MY_PORT=([my-src]=56306 [my-dst]=56307 [my-nobin]=56308 [my-fault]=56309)
declare -A MY_ID=([my-src]=1 [my-dst]=2 [my-nobin]=3 [my-fault]=4)
declare -A MY_ENVVAR=([my-src]=GODWIT_TEST_MY_SOURCE [my-dst]=GODWIT_TEST_MY_TARGET [my-nobin]=GODWIT_TEST_MY_NOBINLOG [my-fault]=GODWIT_TEST_MY_FAULT)

my_ensure_binaries() {
	if command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ]; then
		return
	fi
	is_root || die "MariaDB is not installed; install it as root (apt-get install mariadb-server mariadb-client) or run this script as root"
	log "MariaDB not installed; installing it with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update >&2
	apt-get install -y mariadb-server mariadb-client >&2
}

my_dir() { printf '%s/%s' "$ROOT" "$1"; }
my_ping() { mariadb-admin -h127.0.0.1 -P"${MY_PORT[$1]}" -uroot --connect-timeout=2 ping >/dev/null 2>&1; }

my_up_one() {
	local name="$1" port="${MY_PORT[$1]}" dir binlog=""
	dir="$(my_dir "$name")"
	if [ ! -d "$dir/data/mysql" ]; then
		log "mariadb-install-db $name ($dir)"
		rm -rf "$dir/data"
		mkdir -p "$dir/data"
		if is_root; then chown -R mysql:mysql "$dir"; fi
		local osuser
		osuser="$(id -un)"
		if is_root; then osuser=mysql; fi
		mariadb-install-db --user="$osuser" --datadir="$dir/data" \
			--auth-root-authentication-method=normal >"$dir/install.log" 2>&1 ||
			die "mariadb-install-db for $name failed, see $dir/install.log"
	fi
	if [ "$name" != my-nobin ]; then
		binlog="log_bin=$dir/data/binlog
binlog_format=ROW
binlog_row_image=FULL"
	fi
	cat >"$dir/my.cnf" <<CONF
# Written by scripts/testdb.sh on every 'up'; do not edit.
[mariadbd]
datadir=$dir/data
port=$port
bind-address=127.0.0.1
socket=$dir/sock
pid-file=$dir/pid
log_error=$dir/error.log
server_id=${MY_ID[$name]}
$binlog
innodb_buffer_pool_size=256M
innodb_flush_log_at_trx_commit=2
sync_binlog=0
max_allowed_packet=256M
max_connections=300
local_infile=1
character_set_server=utf8mb4
collation_server=utf8mb4_general_ci
skip_name_resolve=1
CONF
	if my_ping "$name"; then
		log "$name already running on 127.0.0.1:$port"
		return
	fi
	if port_taken "$port"; then
		die "port $port ($name) is already in use by another process; stop it or free the port"
	fi
	log "starting $name on 127.0.0.1:$port"
	if is_root; then
		start-stop-daemon --start --background --pidfile "$dir/pid" --chuid mysql --exec /usr/sbin/mariadbd -- --defaults-file="$dir/my.cnf"
	else
		(nohup /usr/sbin/mariadbd --defaults-file="$dir/my.cnf" >/dev/null 2>&1 &)
	fi
	local _
	for _ in $(seq 1 150); do
		my_ping "$name" && break
		sleep 0.2
	done
	my_ping "$name" || {
		tail -n 30 "$dir/error.log" >&2 || true
		die "MariaDB $name does not answer on 127.0.0.1:$port, see $dir/error.log"
	}
	mariadb -h127.0.0.1 -P"$port" -uroot <<'SQL'
CREATE USER IF NOT EXISTS 'pwuser'@'%' IDENTIFIED BY 'pw-Secret-42';
GRANT ALL PRIVILEGES ON *.* TO 'pwuser'@'%' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS 'norepl'@'%';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, TRIGGER, LOCK TABLES, RELOAD, PROCESS ON *.* TO 'norepl'@'%';
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
SQL
}

my_down() {
	local name dir
	for name in "${MY_SERVERS[@]}"; do
		dir="$(my_dir "$name")"
		if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
			log "stopping $name"
			kill "$(cat "$dir/pid")"
			local _
			for _ in $(seq 1 100); do
				kill -0 "$(cat "$dir/pid" 2>/dev/null || echo 0)" 2>/dev/null || break
				sleep 0.2
			done
		fi
	done
}

cmd_up() {
	ensure_binaries
	ensure_os_user
	ensure_root_dir
	log "using $BINDIR, root $ROOT"
	local name
	# Fail before touching anything if a port is held by something that is not ours.
	for name in "${CLUSTERS[@]}"; do
		if ! cluster_running "$name" && port_taken "${PORT[$name]}"; then
			die "port ${PORT[$name]} (cluster $name) is already in use by another process that is not the cluster in $(datadir "$name"); stop it or free the port"
		fi
	done
	for name in "${CLUSTERS[@]}"; do
		init_cluster "$name"
		write_config "$name"
		start_cluster "$name"
		wait_ready "$name"
		ensure_roles "$name"
	done
	my_ensure_binaries
	for name in "${MY_SERVERS[@]}"; do
		my_up_one "$name"
	done
	log "clusters are up"
	print_env
}

cmd_down() {
	my_down
	BINDIR="$(find_bindir)"
	if [ -z "$BINDIR" ] || [ ! -d "$ROOT" ]; then
		log "nothing to stop"
		return
	fi
	local name
	for name in "${CLUSTERS[@]}"; do
		if cluster_running "$name"; then
			log "stopping $name"
			as_pg "$BINDIR/pg_ctl" -D "$(datadir "$name")" -m fast -w -t 60 stop >/dev/null
		fi
	done
}

cmd_status() {
	BINDIR="$(find_bindir)"
	local name
	for name in "${CLUSTERS[@]}"; do
		if [ -n "$BINDIR" ] && [ -d "$ROOT" ] && cluster_running "$name"; then
			printf '%-8s running  127.0.0.1:%s  %s\n' "$name" "${PORT[$name]}" "$(datadir "$name")"
		else
			printf '%-8s stopped  127.0.0.1:%s  %s\n' "$name" "${PORT[$name]}" "$(datadir "$name")"
		fi
	done
	for name in "${MY_SERVERS[@]}"; do
		if my_ping "$name"; then
			printf '%-8s running  127.0.0.1:%s  %s\n' "$name" "${MY_PORT[$name]}" "$(my_dir "$name")"
		else
			printf '%-8s stopped  127.0.0.1:%s  %s\n' "$name" "${MY_PORT[$name]}" "$(my_dir "$name")"
		fi
	done
}

cmd_destroy() {
	cmd_down
	case "$ROOT" in
	"" | / | /var | /var/tmp | /tmp) die "refusing to delete root dir '$ROOT'" ;;
	esac
	log "deleting $ROOT"
	rm -rf "$ROOT"
}

case "${1:-}" in
up) cmd_up ;;
down) cmd_down ;;
env) print_env ;;
status) cmd_status ;;
destroy) cmd_destroy ;;
start-pg)
	BINDIR="$(find_bindir)"
	[ -n "${PORT[${2:-}]:-}" ] || die "start-pg needs a cluster name: ${CLUSTERS[*]}"
	start_cluster "$2"
	wait_ready "$2"
	;;
*)
	echo "usage: $0 up|down|env|status|destroy|start-pg NAME" >&2
	exit 2
	;;
esac
