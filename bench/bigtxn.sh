#!/usr/bin/env bash
# One huge source transaction: godwit vs native replication, side by side in one run.
# Per engine (PostgreSQL, MariaDB) and per table size N, the source table
#   acc (id int primary key, bal int not null, filler char(84) not null default '')
# holds N rows; each round makes ONE burst on the source, `UPDATE acc SET bal = bal + 1` (N row changes in one
# transaction), while both appliers are stopped, then lets each apply that same burst in turn, alternating which
# goes first round by round (bench/anchors/README.md):
#   godwit:  `godwit resume` of a paused migration (its runner SIGTERMed after the live copy), timed from the
#            start of the process until the applied position it commits on the target (_godwit.migrations)
#            reaches the burst's end (PostgreSQL: pg_current_wal_lsn() after it; MariaDB: the end of its Xid event,
#            which the master position can be past after a binlog rotation); peak RSS from /usr/bin/time -f %M
#   native:  PostgreSQL: a subscription (copy_data=false) to a publication of acc, enabled and timed until its
#            slot's confirmed_flush_lsn reaches the end LSN (as pg-cdc-anchor.sh), then disabled; the time at which
#            the burst's rows were visible in its table is printed beside it;
#            MariaDB: a GTID replica on the target server (CHANGE MASTER TO ... master_use_gtid=slave_pos, as
#            my-cdc-anchor.sh), START SLAVE timed until gtid_slave_pos equals the source's gtid_binlog_pos, then STOP SLAVE
# Each applier has its own database on the same target server:
#   PostgreSQL (55432 -> 55433): source big; godwit -> big_gw; native subscription -> big_nat
#   MariaDB    (53306 -> 53307): source big; godwit -> big (godwit keeps database names); native -> big_nat
#                                (replicate_rewrite_db='big->big_nat')
# Before the first burst both copies are checked equal to the source (count, sum of bal, hash of every row), and
# again after every round. Prints each round's figures and, per engine and N, the medians, the median and range of
# the per-round ratios godwit/native (> 1: godwit slower) and godwit's peak RSS; appends them to
# bench/out/bigtxn-results.txt. godwit's stderr goes to bench/out/bigtxn-godwit-ENGINE-N.log.
#
#   bench/bigtxn.sh                                  ROWS="1000000 5000000" ROUNDS=3 ENGINES="pg my"
#   ROWS=100000 ROUNDS=2 ENGINES=pg bench/bigtxn.sh  smaller, one engine
#   GODWIT_BIN=/path/godwit GODWIT_REV=label         a prebuilt godwit instead of `go build ./cmd/godwit`, and what it is
#   SETTLE_IDLE=80 SETTLE_MAX=60                     each timed apply first waits up to SETTLE_MAX s for the CPUs to
#                                                    be SETTLE_IDLE% idle; the idle % it started at is printed
#   WAIT_LIMIT=3600                                  seconds before giving up on one apply
# Needs root on Debian with postgresql and mariadb-server (bench/anchors/pg-up.sh, my-up.sh start the servers);
# jq, bc and time are installed with apt-get if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ANCHORS=${ANCHORS:-$ROOT/bench/anchors}
ROWS=${ROWS:-"1000000 5000000"}; ROUNDS=${ROUNDS:-3}; ENGINES=${ENGINES:-"pg my"}
WAIT_LIMIT=${WAIT_LIMIT:-3600}; SETTLE_IDLE=${SETTLE_IDLE:-80}; SETTLE_MAX=${SETTLE_MAX:-60}; POLL=${POLL:-0.1}
SRCDB=big; NATDB=big_nat; PG_GWDB=big_gw; MY_GWDB=big
NAME=bigtxn                      # the godwit migration
PUB=bigtxn_pub; SUB=bigtxn_sub   # PostgreSQL native publication / subscription (and its slot)
OUT=$ROOT/bench/out; mkdir -p "$OUT"
RESULTS=$OUT/bigtxn-results.txt
REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain --untracked-files=no -- '*.go' go.mod go.sum 2>/dev/null)" ] || REV=$REV+dirty
REV=${GODWIT_REV:-$REV}          # the label for a prebuilt GODWIT_BIN
log() { local l; while IFS= read -r l; do [ -n "$l" ] && echo "$(date -u +%FT%TZ) $REV $l" | tee -a "$RESULTS"; done <<<"$*"; }
say() { echo "bench/bigtxn.sh: $*" >&2; }
die() { say "$*"; exit 1; }
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
fmt() { printf '%.2f' "$1"; }

# --- tools, servers, godwit ---
missing=()
for p in jq:jq bc:bc; do command -v "${p%%:*}" >/dev/null || missing+=("${p##*:}"); done
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ -n "${GODWIT_BIN:-}" ]; then G=$GODWIT_BIN
else go build -o "$OUT/godwit" ./cmd/godwit || die "go build ./cmd/godwit failed"; G=$OUT/godwit; fi
TMP=$(mktemp -d /tmp/godwit-bench-bigtxn.XXXXXX)
STATE=$TMP/state.db
ENG=; GLOG=/dev/null

# --- godwit runner in the background, under /usr/bin/time ---
RUN_TPID=; RUN_GPID=
run_bg() { # run_bg RSSFILE godwit-args...
  local tf=$1; shift
  /usr/bin/time -f %M -o "$tf" "$G" "$@" >>"$GLOG" 2>&1 &
  RUN_TPID=$!; RUN_GPID=
  local i
  for i in $(seq 200); do
    RUN_GPID=$(pgrep -P "$RUN_TPID" 2>/dev/null | head -1 || true)
    [ -n "$RUN_GPID" ] && break
    kill -0 "$RUN_TPID" 2>/dev/null || break
    sleep 0.02
  done
}
running() { [ -n "$RUN_TPID" ] && kill -0 "$RUN_TPID" 2>/dev/null; }
stop_bg() { # SIGTERM the runner (it pauses the migration), wait up to 120 s, then SIGKILL; returns its exit status
  [ -n "$RUN_TPID" ] || return 0
  local i rc=0
  [ -n "$RUN_GPID" ] && kill -TERM "$RUN_GPID" 2>/dev/null || true
  for i in $(seq 1200); do running || break; sleep 0.1; done
  if running; then
    say "runner $RUN_GPID did not stop within 120 s of SIGTERM; killing it"
    [ -n "$RUN_GPID" ] && kill -KILL "$RUN_GPID" 2>/dev/null || true
  fi
  wait "$RUN_TPID" 2>/dev/null || rc=$?
  RUN_TPID=; RUN_GPID=
  return $rc
}
gstatus() { "$G" status "$NAME" --json --state "$STATE" 2>/dev/null || echo '{}'; }
jf() { jq -r "$1" <<<"$2" 2>/dev/null || true; }
forget() { # cancel (drops godwit's slot/publication on the source) and delete the migration
  local st; st=$(jf .state "$(gstatus)")
  case "$st" in
    ""|null) return 0 ;;
    COMPLETED|CANCELLED|CREATED) ;;
    *) "$G" cancel "$NAME" --state "$STATE" >>"$GLOG" 2>&1 || say "godwit cancel failed (see $GLOG)" ;;
  esac
  "$G" delete "$NAME" --state "$STATE" >>"$GLOG" 2>&1 || say "godwit delete failed (see $GLOG)"
}

# --- CPU settle ---
cpu_idle() {
  local a b
  a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
  local i tot=0; for i in 1 2 3 4 5 6 7 8; do tot=$((tot + b[i] - a[i])); done
  echo $(( tot > 0 ? (b[4] - a[4]) * 100 / tot : 100 ))
}
IDLE=0
settle() { local i; for i in $(seq "$SETTLE_MAX"); do IDLE=$(cpu_idle); [ "$IDLE" -ge "$SETTLE_IDLE" ] && return 0; done; return 0; }

# ============================== PostgreSQL ==============================
export PGHOST=127.0.0.1 PGUSER=postgres
PSRC=55432; PDST=55433
pq() { local port=$1 db=$2; shift 2; psql -X -q -t -A -v ON_ERROR_STOP=1 -p "$port" -d "$db" "$@"; }
lsn_num() { local l=${1##*:}; [[ $l =~ ^[0-9A-Fa-f]+/[0-9A-Fa-f]+$ ]] || { echo -1; return; }; echo $(( (16#${l%/*} << 32) + 16#${l#*/} )); }
lsn_ge() { [ "$(lsn_num "$1")" -ge "$(lsn_num "$2")" ] && [ "$(lsn_num "$2")" -ge 0 ]; }
pg_rowsum() { pq "$1" "$2" -c "select count(*)||' '||coalesce(sum(bal::bigint),0)||' '||coalesce(sum(hashtext(id::text||'#'||bal::text||'#'||rtrim(filler))::bigint),0) from acc" 2>&1; }
pg_applied() { pq $PDST $PG_GWDB -c "select coalesce(applied_pos, '') from _godwit.migrations where name = '$NAME'" 2>/dev/null || true; }
pg_stage() { pq $PDST $PG_GWDB -c "select stage from _godwit.migrations where name = '$NAME'" 2>/dev/null || true; }
pg_cur() { pq $PSRC $SRCDB -c "select pg_current_wal_lsn()"; }
pg_fill() { # pg_fill PORT DB N: the table with N rows, identical on every call
  pq "$1" "$2" -c "create table acc (id int primary key, bal int not null, filler char(84) not null default '')" \
    -c "insert into acc select g, 0, md5(g::text) from generate_series(1, $3) g" -c "vacuum analyze acc"
}
pg_sub_off() { # disable the subscription and wait for its worker and walsender to be gone
  pq $PDST $NATDB -c "alter subscription $SUB disable"
  local i
  for i in $(seq 600); do
    [ "$(pq $PDST $NATDB -c "select count(*) from pg_stat_subscription where subname = '$SUB' and pid is not null")" = 0 ] \
      && [ "$(pq $PSRC $SRCDB -c "select count(*) from pg_replication_slots where slot_name = '$SUB' and active")" = 0 ] && return 0
    sleep 0.1
  done
  die "the subscription's worker did not stop"
}
pg_drop_native() {
  if [ "$(pq $PDST postgres -c "select count(*) from pg_database where datname = '$NATDB'")" = 1 ] \
    && [ "$(pq $PDST $NATDB -c "select count(*) from pg_subscription where subname = '$SUB'")" = 1 ]; then
    pq $PDST $NATDB -c "alter subscription $SUB disable" -c "alter subscription $SUB set (slot_name = none)" -c "drop subscription $SUB"
  fi
  pq $PSRC postgres -c "select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = '$SUB'" >/dev/null
}
pg_check_equal() { # pg_check_equal WHAT
  local s g n
  s=$(pg_rowsum $PSRC $SRCDB); g=$(pg_rowsum $PDST $PG_GWDB); n=$(pg_rowsum $PDST $NATDB)
  [ "$s" = "$g" ] && [ "$s" = "$n" ] || die "$1: copies differ (rows, sum bal, row hash): source [$s] godwit [$g] native [$n]"
  say "$1: source, godwit's and native's copies equal ($s)"
}
pg_setup() { # pg_setup N
  local n=$1 cur st rc s
  bash "$ANCHORS/pg-up.sh" >>"$OUT/bigtxn-servers.log" 2>&1 || die "could not start PostgreSQL with $ANCHORS/pg-up.sh"
  pg_drop_native
  pq $PDST postgres -c "drop database if exists $NATDB with (force)" -c "drop database if exists $PG_GWDB with (force)"
  # slots a failed earlier run left in the source database (this benchmark's own cluster) keep it from being dropped
  pq $PSRC postgres -c "select pg_drop_replication_slot(slot_name) from pg_replication_slots where database = '$SRCDB' and not active" >/dev/null
  pq $PSRC postgres -c "drop database if exists $SRCDB with (force)" -c "create database $SRCDB"
  say "pg N=$n: filling the source"
  pg_fill $PSRC $SRCDB "$n"
  pq $PSRC $SRCDB -c "create publication $PUB for table acc"
  say "pg N=$n: filling the native replica's database $NATDB (identical rows), subscription with copy_data=false"
  pq $PDST postgres -c "create database $NATDB"
  pg_fill $PDST $NATDB "$n"
  pq $PDST $NATDB -c "create subscription $SUB connection 'host=127.0.0.1 port=$PSRC user=postgres dbname=$SRCDB' publication $PUB with (copy_data = false)"
  pg_sub_off
  say "pg N=$n: godwit start (live copy into $PG_GWDB until consistent and caught up)"
  pq $PDST postgres -c "create database $PG_GWDB"
  rm -f "$STATE"
  s=$(now)
  run_bg "$TMP/rss-start" start "$NAME" --state "$STATE" \
    --source "postgres://postgres@127.0.0.1:$PSRC/$SRCDB" --target "postgres://postgres@127.0.0.1:$PDST/$PG_GWDB"
  while :; do
    cur=$(pg_cur); st=$(gstatus)
    [ "$(jf .consistent "$st")" = true ] && [ "$(jf .phase "$st")" = REPLICATING ] && [ "$(pg_stage)" = consistent ] \
      && lsn_ge "$(pg_applied)" "$cur" && break
    running || { tail -20 "$GLOG" >&2; die "godwit start exited before it was consistent; status: $st"; }
    [ "$(jf .state "$st")" = FAILED ] && die "migration FAILED: $(jf .error "$st")"
    [ "$(echo "$(since "$s") > $WAIT_LIMIT" | bc)" = 1 ] && die "godwit not consistent after ${WAIT_LIMIT}s: $st"
    sleep 0.5
  done
  log "pg N=$n setup: godwit_live_copy_to_consistent $(fmt "$(since "$s")")s"
  rc=0; stop_bg || rc=$?
  [ $rc -eq 0 ] || say "warning: the runner exited $rc on SIGTERM"
  st=$(gstatus); [ "$(jf .state "$st")" = PAUSED ] || die "after SIGTERM the migration is $(jf .state "$st"), not PAUSED: $st"
  log "pg N=$n setup: godwit_start_peak_rss_mb $(( $(cat "$TMP/rss-start") / 1024 ))"
  pq $PSRC $SRCDB -c "checkpoint"; pq $PDST postgres -c "checkpoint"
  pg_check_equal "pg N=$n before the first burst"
}
pg_burst() { # sets END
  pq $PSRC $SRCDB -c "update acc set bal = bal + 1"
  END=$(pg_cur)
}
pg_godwit_apply() { # sets T (seconds) and RSS (MB)
  local s st i=0 rc
  s=$(now)
  run_bg "$TMP/rss" resume "$NAME" --state "$STATE"
  until lsn_ge "$(pg_applied)" "$END"; do
    if [ $((i % 20)) = 0 ]; then
      running || { tail -20 "$GLOG" >&2; die "godwit resume exited before catching up; status: $(gstatus)"; }
      [ "$(echo "$(since "$s") > $WAIT_LIMIT" | bc)" = 1 ] && die "godwit not caught up after ${WAIT_LIMIT}s: $(gstatus)"
    fi
    i=$((i + 1)); sleep "$POLL"
  done
  T=$(since "$s")
  rc=0; stop_bg || rc=$?
  [ $rc -eq 0 ] || say "warning: the resumed runner exited $rc on SIGTERM"
  RSS=$(( $(cat "$TMP/rss") / 1024 ))
}
pg_native_apply() { # sets T (slot confirmed the end LSN) and TV (the burst's rows visible in the replica's table)
  local s i=0 w
  # the launcher starts a subscription's worker at most once per wal_retrieve_retry_interval: never make it wait
  w=$(echo "$NATIVE_LAST + 6 - $(now)" | bc); [ "$(echo "$w > 0" | bc)" = 1 ] && sleep "$w"
  TV=
  s=$(now); NATIVE_LAST=$s
  pq $PDST $NATDB -c "alter subscription $SUB enable"
  until [ "$(pq $PSRC $SRCDB -c "select confirmed_flush_lsn >= '$END' from pg_replication_slots where slot_name = '$SUB'")" = t ]; do
    if [ -z "$TV" ] && [ "$(pq $PDST $NATDB -c "select bal from acc where id = 1")" = "$BAL" ]; then TV=$(since "$s"); fi
    if [ $((i % 20)) = 0 ]; then
      [ "$(echo "$(since "$s") > $WAIT_LIMIT" | bc)" = 1 ] && die "native subscription not caught up after ${WAIT_LIMIT}s"
    fi
    i=$((i + 1)); sleep "$POLL"
  done
  T=$(since "$s"); [ -n "$TV" ] || TV=$T
  pg_sub_off
}
NATIVE_LAST=0
pg_after_round() { # bloat of the UPDATE removed so that every round starts alike
  pq $PSRC $SRCDB -c "vacuum acc"; pq $PDST $PG_GWDB -c "vacuum acc"; pq $PDST $NATDB -c "vacuum acc"
  pq $PSRC $SRCDB -c "checkpoint"; pq $PDST postgres -c "checkpoint"
}
pg_teardown() {
  forget
  pg_drop_native
  pq $PSRC $SRCDB -c "drop publication if exists $PUB"
  pq $PDST postgres -c "drop database if exists $NATDB with (force)" -c "drop database if exists $PG_GWDB with (force)"
  pq $PSRC postgres -c "drop database if exists $SRCDB with (force)"
}
pg_version() { pq $PSRC postgres -c "show server_version"; }

# ============================== MariaDB ==============================
MSRC="-h127.0.0.1 -P53306 -uroot"; MDST="-h127.0.0.1 -P53307 -uroot"
msrc() { mariadb $MSRC -NB "$@"; }
mdst() { mariadb $MDST -NB "$@"; }
my_rowsum() { mariadb $1 -NBe "select concat(count(*),' ',coalesce(sum(bal),0),' ',coalesce(sum(crc32(concat_ws('#',id,bal,filler))),0)) from $2.acc" 2>&1; }
my_master_pos() { msrc -e "show master status" | awk 'NR==1{print $1 ":" $2}'; }
my_applied() { mdst -e "select applied_pos from _godwit.migrations where name = '$NAME'" 2>/dev/null || true; }
my_stage() { mdst -e "select stage from _godwit.migrations where name = '$NAME'" 2>/dev/null || true; }
pos_ge() { # binlog position $1 ("[my1:]binlog.000002:1234") at or after $2
  local a=${1#*:} b=${2#*:}
  [[ $1 == *:*:* ]] || a=$1; [[ $2 == *:*:* ]] || b=$2
  local af=${a%:*} ap=${a##*:} bf=${b%:*} bp=${b##*:}
  [[ $ap =~ ^[0-9]+$ && $bp =~ ^[0-9]+$ ]] || return 1
  if [ "$af" = "$bf" ]; then [ "$ap" -ge "$bp" ]; else [[ "$af" > "$bf" ]]; fi
}
my_gtids_after() { # my_gtids_after FILE:POS: how many transactions the source binlog holds after that position
  local f=${1%:*} p=${1##*:} n=0 lf q
  for lf in $(msrc -e "show binary logs" | awk -v f="$f" '$1 >= f {print $1}'); do
    if [ "$lf" = "$f" ]; then q="show binlog events in '$lf' from $p"; else q="show binlog events in '$lf'"; fi
    n=$((n + $(msrc -e "$q" | awk -F'\t' '$3 == "Gtid"' | wc -l)))
  done
  echo $n
}
my_fill() { # my_fill "SERVER" DB N [sql prefix]
  mariadb $1 -NB -e "$4 create database $2; use $2; create table $2.acc (id int primary key, bal int not null, filler char(84) not null default '') engine=InnoDB;
    insert into $2.acc select seq, 0, md5(seq) from seq_1_to_$3;"
}
my_check_equal() {
  local s g n
  s=$(my_rowsum "$MSRC" $SRCDB); g=$(my_rowsum "$MDST" $MY_GWDB); n=$(my_rowsum "$MDST" $NATDB)
  [ "$s" = "$g" ] && [ "$s" = "$n" ] || die "$1: copies differ (rows, sum bal, crc32 sum): source [$s] godwit [$g] native [$n]"
  say "$1: source, godwit's and native's copies equal ($s)"
}
my_slave_status() { mariadb $MDST -e "show slave status\G"; }
my_slave_err() { my_slave_status 2>/dev/null 2>/dev/null | awk -F': ' '/Last_(IO|SQL)_Error:/ && $2 != "" {print $2}' | head -2; }
my_setup() {
  local n=$1 pos cur st rc s
  bash "$ANCHORS/my-up.sh" >>"$OUT/bigtxn-servers.log" 2>&1 || die "could not start MariaDB with $ANCHORS/my-up.sh"
  mdst -e "stop slave; reset slave all; set global replicate_rewrite_db = ''"
  mdst -e "drop database if exists $MY_GWDB; drop database if exists $NATDB; drop database if exists _godwit; purge binary logs before now()"
  msrc -e "drop database if exists $SRCDB"
  say "my N=$n: filling the source"
  my_fill "$MSRC" $SRCDB "$n" ""
  msrc -e "flush binary logs"; msrc -e "purge binary logs to '$(my_master_pos | cut -d: -f1)'"
  say "my N=$n: filling the native replica's database $NATDB (identical rows, not binlogged on the target)"
  my_fill "$MDST" "$NATDB" "$n" "set sql_log_bin = 0;"
  pos=$(msrc -e "select @@gtid_binlog_pos")
  mdst -e "set global gtid_slave_pos = '$pos'; set global replicate_rewrite_db = '$SRCDB->$NATDB';
    change master to master_host='127.0.0.1', master_port=53306, master_user='root', master_use_gtid=slave_pos;
    set global slave_parallel_threads = 0"
  # the replica connects, and is at the source's position
  mdst -e "start slave"
  for s in $(seq 300); do
    [ "$(mdst -e "select @@gtid_slave_pos")" = "$pos" ] && my_slave_status | grep -q 'Slave_IO_Running: Yes' && break
    sleep 0.1
  done
  my_slave_status | grep -q 'Slave_IO_Running: Yes' || die "the native replica does not connect: $(my_slave_err)"
  mdst -e "stop slave"
  say "my N=$n: godwit start (live copy into $MY_GWDB on the target until consistent and caught up)"
  rm -f "$STATE"
  s=$(now)
  run_bg "$TMP/rss-start" start "$NAME" --state "$STATE" \
    --source "mysql://root@127.0.0.1:53306/$SRCDB" --target "mysql://root@127.0.0.1:53307/$MY_GWDB"
  while :; do
    cur=$(my_master_pos); st=$(gstatus)
    # caught up: at the source's position, or with no transaction after godwit's (the binlog can end with events
    # that are no transaction, a Binlog_checkpoint after a rotation, which godwit's position does not pass)
    [ "$(jf .consistent "$st")" = true ] && [ "$(jf .phase "$st")" = REPLICATING ] && [ "$(my_stage)" = consistent ] \
      && { pos_ge "$(jf .applied_position "$st")" "$cur" || [ "$(my_gtids_after "$(jf .applied_position "$st")")" = 0 ]; } && break
    running || { tail -20 "$GLOG" >&2; die "godwit start exited before it was consistent; status: $st"; }
    [ "$(jf .state "$st")" = FAILED ] && die "migration FAILED: $(jf .error "$st")"
    [ "$(echo "$(since "$s") > $WAIT_LIMIT" | bc)" = 1 ] && die "godwit not consistent after ${WAIT_LIMIT}s: $st"
    sleep 0.5
  done
  log "my N=$n setup: godwit_live_copy_to_consistent $(fmt "$(since "$s")")s"
  rc=0; stop_bg || rc=$?
  [ $rc -eq 0 ] || say "warning: the runner exited $rc on SIGTERM"
  st=$(gstatus); [ "$(jf .state "$st")" = PAUSED ] || die "after SIGTERM the migration is $(jf .state "$st"), not PAUSED: $st"
  log "my N=$n setup: godwit_start_peak_rss_mb $(( $(cat "$TMP/rss-start") / 1024 ))"
  mdst -e "purge binary logs before now()"
  my_check_equal "my N=$n before the first burst"
}
my_burst() { # sets END (binlog file:pos where the burst's transaction ends, for godwit) and END_GTID (for the replica)
  local p0 e
  p0=$(my_master_pos)
  msrc -e "update $SRCDB.acc set bal = bal + 1"
  END_GTID=$(msrc -e "select @@gtid_binlog_pos")
  # the end of the burst's Xid event: the master position may be past it, in the next binlog, after a rotation
  e=$(msrc -e "show binlog events in '${p0%:*}' from ${p0##*:}" | awk -F'\t' '$3 == "Xid" {print $5; exit}')
  [[ $e =~ ^[0-9]+$ ]] || die "no Xid event after $p0 in the source binlog"
  END=${p0%:*}:$e
}
my_godwit_apply() {
  local s i=0 rc
  s=$(now)
  run_bg "$TMP/rss" resume "$NAME" --state "$STATE"
  until pos_ge "$(my_applied)" "$END"; do
    if [ $((i % 20)) = 0 ]; then
      running || { tail -20 "$GLOG" >&2; die "godwit resume exited before catching up; status: $(gstatus)"; }
      [ "$(echo "$(since "$s") > $WAIT_LIMIT" | bc)" = 1 ] && die "godwit not caught up after ${WAIT_LIMIT}s: $(gstatus)"
    fi
    i=$((i + 1)); sleep "$POLL"
  done
  T=$(since "$s")
  rc=0; stop_bg || rc=$?
  [ $rc -eq 0 ] || say "warning: the resumed runner exited $rc on SIGTERM"
  RSS=$(( $(cat "$TMP/rss") / 1024 ))
}
my_native_apply() {
  local s i=0 e
  s=$(now)
  mdst -e "start slave"
  until [ "$(mdst -e "select @@gtid_slave_pos")" = "$END_GTID" ]; do
    if [ $((i % 20)) = 0 ]; then
      e=$(my_slave_err); [ -z "$e" ] || die "native replica error: $e"
      [ "$(echo "$(since "$s") > $WAIT_LIMIT" | bc)" = 1 ] && die "native replica not caught up after ${WAIT_LIMIT}s"
    fi
    i=$((i + 1)); sleep "$POLL"
  done
  T=$(since "$s"); TV=$T   # gtid_slave_pos commits with the rows
  mdst -e "stop slave"
}
my_after_round() { # keep the binlogs from filling the disk: the target's (godwit's writes), the source's before the burst's file
  mdst -e "purge binary logs before now()"
  msrc -e "purge binary logs to '${END%:*}'"
}
my_teardown() {
  forget
  mdst -e "stop slave; reset slave all; set global replicate_rewrite_db = ''"
  mdst -e "drop database if exists $MY_GWDB; drop database if exists $NATDB; purge binary logs before now()"
  msrc -e "drop database if exists $SRCDB; flush binary logs"; msrc -e "purge binary logs to '$(my_master_pos | cut -d: -f1)'"
}
my_version() { msrc -e "select version()"; }

# ============================== rounds ==============================
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  if running; then say "stopping the godwit runner (pid ${RUN_GPID:-?})"; stop_bg; fi
  if [ $rc -ne 0 ] && [ -n "$ENG" ]; then
    say "failed: removing the migration, the native subscription/replica and their slots (data left for inspection)"
    forget
    case $ENG in
      pg) pg_drop_native ;;
      my) mdst -e "stop slave; reset slave all; set global replicate_rewrite_db = ''" ;;
    esac
  fi
  rm -rf "$TMP"
  exit $rc
}
trap cleanup EXIT
trap 'say interrupted; exit 130' INT TERM

median() { sort -g | awk '{a[NR]=$1} END{if (NR==0) print "nan"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
SUMMARY=()
log "== bigtxn: one UPDATE of every row, godwit vs native; ROWS=\"$ROWS\" ROUNDS=$ROUNDS ENGINES=\"$ENGINES\", $(nproc) cores, load $(cut -d" " -f1-3 /proc/loadavg)"
for ENG in $ENGINES; do
  case $ENG in pg|my) ;; *) die "unknown engine $ENG (pg or my)";; esac
  for N in $ROWS; do
    GLOG=$OUT/bigtxn-godwit-$ENG-$N.log; : >"$GLOG"
    ${ENG}_setup "$N"
    log "$ENG N=$N: $(${ENG}_version), rounds $ROUNDS"
    gts=(); nts=(); ratios=(); rsss=(); vratios=()
    for r in $(seq "$ROUNDS"); do
      say "$ENG N=$N round $r: burst (UPDATE of $N rows) with both appliers stopped"
      s=$(now); ${ENG}_burst; burst_s=$(since "$s"); BAL=$r
      if [ $((r % 2)) = 1 ]; then order="godwit native"; else order="native godwit"; fi
      for who in $order; do
        settle
        echo "=== round $r: resume at $(date -u +%FT%TZ), burst end $END" >>"$GLOG"
        if [ $who = godwit ]; then
          say "$ENG N=$N round $r: godwit resume (cpu ${IDLE}% idle)"
          ${ENG}_godwit_apply; gt=$T; gidle=$IDLE
        else
          say "$ENG N=$N round $r: native replication (cpu ${IDLE}% idle)"
          ${ENG}_native_apply; nt=$T; nv=$TV; nidle=$IDLE
        fi
      done
      ${ENG}_check_equal "$ENG N=$N after round $r"
      ratio=$(echo "scale=6; $gt / $nt" | bc); vratio=$(echo "scale=6; $gt / $nv" | bc)
      gts+=("$gt"); nts+=("$nt"); ratios+=("$ratio"); rsss+=("$RSS"); vratios+=("$vratio")
      extra=; [ $ENG = pg ] && extra=" (native rows visible at $(fmt "$nv")s: godwit/that $(fmt "$vratio"))"
      log "$ENG N=$N round $r (first: ${order%% *}): burst_on_source $(fmt "$burst_s")s godwit $(fmt "$gt")s native $(fmt "$nt")s ratio godwit/native $(fmt "$ratio")$extra godwit_peak_rss_mb $RSS cpu_idle_at_start godwit ${gidle}% native ${nidle}%"
      ${ENG}_after_round
    done
    gm=$(printf '%s\n' "${gts[@]}" | median); nm=$(printf '%s\n' "${nts[@]}" | median)
    rm_=$(printf '%s\n' "${ratios[@]}" | median)
    rmin=$(printf '%s\n' "${ratios[@]}" | sort -g | head -1); rmax=$(printf '%s\n' "${ratios[@]}" | sort -g | tail -1)
    rssmax=$(printf '%s\n' "${rsss[@]}" | sort -n | tail -1)
    vm=$(printf '%s\n' "${vratios[@]}" | median)
    vmin=$(printf '%s\n' "${vratios[@]}" | sort -g | head -1); vmax=$(printf '%s\n' "${vratios[@]}" | sort -g | tail -1)
    extra=; [ $ENG = pg ] && extra=" (vs native rows visible: median $(fmt "$vm") range $(fmt "$vmin")-$(fmt "$vmax"))"
    errs=$(grep -ciE 'level=(ERROR|WARN)|panic' "$GLOG" || true)
    line="$ENG N=$N summary ($ROUNDS rounds): median godwit $(fmt "$gm")s native $(fmt "$nm")s; ratio godwit/native median $(fmt "$rm_") range $(fmt "$rmin")-$(fmt "$rmax")$extra; godwit peak RSS max $rssmax MB (per round: ${rsss[*]}); WARN/ERROR lines in $(basename "$GLOG"): $errs"
    log "$line"; SUMMARY+=("$line")
    ${ENG}_teardown
  done
done
ENG=
log "== bigtxn summary"
for l in "${SUMMARY[@]}"; do log "$l"; done
