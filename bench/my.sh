#!/usr/bin/env bash
# godwit vs the anchors, side by side in one run, on MariaDB with sysbench data ($TABLES tables x $ROWS rows,
# default 8 x 500000, database sbtest; source 127.0.0.1:53306, target 127.0.0.1:53307, from bench/anchors/my-up.sh):
#   copy:  `godwit start --once` vs mydumper/myloader -t 2 (and mysqldump with METHODS="dump_pipe mydumper_loader")
#   CDC:   catch-up of a sysbench oltp_write_only burst of $EVENTS events (x4 row changes) vs native GTID replication
#   RSS:   peak resident memory of godwit in both runs (/usr/bin/time -v)
# Prints each figure and the ratios; appends them, with a timestamp and the commit, to bench/out/my-results.txt.
# Needs root on Debian with mariadb-server; mydumper, sysbench, time, jq and bc are installed with apt-get if missing.
#
#   bench/my.sh                   both parts          PARTS=copy bench/my.sh    PARTS=cdc bench/my.sh
#   ROWS=100000 EVENTS=2000 bench/my.sh               smaller data and burst
#   GODWIT_FLAGS="--jobs 2" bench/my.sh               extra flags for `godwit start`
#   GODWIT_BIN=/path/godwit bench/my.sh               a prebuilt godwit instead of `go build ./cmd/godwit`
#   SETTLE_IDLE=85 SETTLE_MAX=180                     each timed run first waits up to SETTLE_MAX s for the CPUs
#                                                     to be SETTLE_IDLE% idle; a busy machine is noted in the results
# ROWS only takes effect when the source is prepared (a different size re-prepares it). The native anchor
# (my-cdc-anchor.sh) runs its burst with --table-size=500000, so godwit's burst uses the same table size.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ANCHORS=${ANCHORS:-$ROOT/bench/anchors}
ROWS=${ROWS:-500000}; TABLES=8; EVENTS=${EVENTS:-10000}; DB=sbtest
BURST_TABLE_SIZE=500000          # as in my-cdc-anchor.sh, so both bursts are the same workload
WAIT_LIMIT=${WAIT_LIMIT:-3600}   # seconds before giving up waiting on godwit or an anchor
SETTLE_IDLE=${SETTLE_IDLE:-85}; SETTLE_MAX=${SETTLE_MAX:-180}   # see settle()
SRC="-h127.0.0.1 -P53306 -uroot"; DST="-h127.0.0.1 -P53307 -uroot"
SRC_URL="mysql://root@127.0.0.1:53306/$DB"; DST_URL="mysql://root@127.0.0.1:53307/$DB"
OUT=$ROOT/bench/out; mkdir -p "$OUT"
RESULTS=$OUT/my-results.txt
REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
# godwit is built from the working tree: say so when its Go code differs from the commit
[ -z "$(git status --porcelain -- '*.go' go.mod go.sum 2>/dev/null)" ] || REV=$REV+dirty
log() { local l; while IFS= read -r l; do [ -n "$l" ] && echo "$(date -u +%FT%TZ) $REV $l" | tee -a "$RESULTS"; done <<<"$*"; }
say() { echo "bench/my.sh: $*" >&2; }
die() { say "$*"; exit 1; }
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
ratio() { printf '%.2f' "$(echo "scale=4; $1 / $2" | bc)"; }
src() { mariadb $SRC "$@"; }
dst() { mariadb $DST "$@"; }

# --- tools, servers, data ---
missing=()
for p in mydumper:mydumper sysbench:sysbench jq:jq bc:bc; do command -v "${p%%:*}" >/dev/null || missing+=("${p##*:}"); done
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  [ "$(id -u)" = 0 ] || die "need root to apt-get install ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || die "mariadb-server is not installed (apt-get install mariadb-server)"
bash "$ANCHORS/my-up.sh" >/dev/null || die "could not start the MariaDB servers with $ANCHORS/my-up.sh"
src -e "select 1" >/dev/null || die "source 127.0.0.1:53306 is not reachable"
dst -e "select 1" >/dev/null || die "target 127.0.0.1:53307 is not reachable"

prepared() {
  local t n
  for t in $(seq 1 $TABLES); do
    n=$(src -NBe "select count(*) from $DB.sbtest$t" 2>/dev/null) || return 1
    [ "$n" = "$ROWS" ] || return 1
  done
}
if ! prepared; then
  say "preparing sysbench data on the source: $TABLES tables x $ROWS rows in $DB (takes minutes)"
  src -e "drop database if exists $DB; create database $DB"
  sysbench oltp_read_write --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port=53306 --mysql-user=root \
    --mysql-db=$DB --tables=$TABLES --table-size="$ROWS" --threads=2 prepare >"$OUT/sysbench-prepare.log" 2>&1 \
    || { tail -5 "$OUT/sysbench-prepare.log" >&2; die "sysbench prepare failed (log: $OUT/sysbench-prepare.log)"; }
  prepared || die "sysbench prepare did not leave $TABLES x $ROWS rows in $DB"
fi

if [ -n "${GODWIT_BIN:-}" ]; then G=$GODWIT_BIN   # a prebuilt binary
else go build -o "$OUT/godwit" ./cmd/godwit || die "go build ./cmd/godwit failed"; G=$OUT/godwit; fi
TMP=$(mktemp -d /tmp/godwit-bench-my.XXXXXX)
STATE=$TMP/state.db

# --- background runner (under /usr/bin/time -v) ---
RUN_TPID=; RUN_GPID=
run_bg() { # run_bg TIMEFILE LOGFILE godwit-args...
  local tf=$1 lf=$2; shift 2
  /usr/bin/time -v -o "$tf" "$G" "$@" >>"$lf" 2>&1 &
  RUN_TPID=$!; RUN_GPID=
  local i
  for i in $(seq 100); do
    RUN_GPID=$(pgrep -P "$RUN_TPID" 2>/dev/null | head -1 || true)
    [ -n "$RUN_GPID" ] && break
    kill -0 "$RUN_TPID" 2>/dev/null || break
    sleep 0.05
  done
}
running() { [ -n "$RUN_TPID" ] && kill -0 "$RUN_TPID" 2>/dev/null; }
stop_bg() { # SIGTERM the runner (it pauses the migration), wait up to 60 s, then SIGKILL; returns its exit status
  [ -n "$RUN_TPID" ] || return 0
  local i rc=0
  [ -n "$RUN_GPID" ] && kill -TERM "$RUN_GPID" 2>/dev/null || true
  for i in $(seq 600); do running || break; sleep 0.1; done
  if running; then
    say "runner $RUN_GPID did not stop within 60 s of SIGTERM; killing it"
    [ -n "$RUN_GPID" ] && kill -KILL "$RUN_GPID" 2>/dev/null || true
  fi
  wait "$RUN_TPID" 2>/dev/null || rc=$?
  RUN_TPID=; RUN_GPID=
  return $rc
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  if running; then say "stopping the godwit runner (pid ${RUN_GPID:-?})"; stop_bg; fi
  if [ $rc -ne 0 ] && [ -f "$STATE" ]; then forget bcopy; forget bcdc; fi
  rm -rf "$TMP"
  exit $rc
}
trap cleanup EXIT
trap 'say interrupted; exit 130' INT TERM

peak_rss_mb() { awk -F': ' '/Maximum resident set size/{printf "%d", $2/1024}' "$1"; }
gstatus() { "$G" status "$1" --json --state "$STATE" 2>/dev/null || echo '{}'; }
jf() { jq -r "$1" <<<"$2" 2>/dev/null || true; }
master_pos() { src -NBe "show master status" | awk 'NR==1{print $1 ":" $2}'; }
pos_ge() { # true when binlog position $1 ("binlog.000002:1234") is at or after $2
  local a=${1#my1:} b=${2#my1:}
  local af=${a%:*} ap=${a##*:} bf=${b%:*} bp=${b##*:}
  [[ $ap =~ ^[0-9]+$ && $bp =~ ^[0-9]+$ ]] || return 1
  if [ "$af" = "$bf" ]; then [ "$ap" -ge "$bp" ]; else [[ "$af" > "$bf" ]]; fi
}
# Per table: row count and a sum of crc32 over every column, on each side (independent of column types).
contents() {
  local q="" t
  for t in $(seq 1 $TABLES); do
    [ -n "$q" ] && q="$q union all "
    q="${q}select 'sbtest$t', count(*), coalesce(sum(crc32(concat_ws('#',id,k,c,pad))),0) from $DB.sbtest$t"
  done
  mariadb $1 -NBe "$q" 2>&1
}
check_equal() { # check_equal WHAT: target tables equal to the source's (counts and contents)
  local s d rows
  s=$(contents "$SRC"); d=$(contents "$DST")
  if [ "$s" != "$d" ]; then
    say "$1: target differs from source (table, rows, crc32 sum):"
    diff <(echo "$s") <(echo "$d") | sed 's/^/  /' >&2 || true
    return 1
  fi
  rows=$(echo "$s" | awk '{n+=$2} END{print n}')
  s=$(indexes "$SRC"); d=$(indexes "$DST")
  if [ "$s" != "$d" ]; then
    say "$1: target indexes differ from the source's (table, index, non_unique, columns; < source, > target):"
    diff <(echo "$s") <(echo "$d") | sed 's/^/  /' >&2 || true
    return 1
  fi
  log "$1: target equals source ($rows rows in $TABLES tables, same indexes)"
}
applied_tgt() { dst -NBe "select applied_pos from _godwit.migrations where name = '$1'" 2>/dev/null || true; }
stage() { dst -NBe "select stage from _godwit.migrations where name = '$1'" 2>/dev/null || true; }
# Per table: its indexes and their columns.
indexes() {
  mariadb $1 -NBe "select table_name, index_name, non_unique, group_concat(column_name order by seq_in_index)
    from information_schema.statistics where table_schema = '$DB' group by table_name, index_name, non_unique
    order by table_name, index_name" 2>&1
}
# Timed runs start on a quiet machine: wait (up to $SETTLE_MAX s) until the CPUs are >= $SETTLE_IDLE% idle
# over a second (other jobs, the servers' own purge and flushing), else note in the results that it was busy.
cpu_idle() {
  local a b
  a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
  local i tot=0; for i in 1 2 3 4 5 6 7 8; do tot=$((tot + b[i] - a[i])); done
  echo $(( tot > 0 ? (b[4] - a[4]) * 100 / tot : 100 ))
}
settle() { # settle WHAT
  local i idle=0
  for i in $(seq "$SETTLE_MAX"); do idle=$(cpu_idle); [ "$idle" -ge "$SETTLE_IDLE" ] && return 0; done
  log "note: the machine was busy before $1 (cpu ${idle}% idle after waiting ${SETTLE_MAX}s): its figure is unreliable"
}
# An empty target for the next copy. The target server is this benchmark's own: what a failed earlier run left
# (godwit's _godwit bookkeeping) goes too, and its binlog, which takes every row godwit writes (about 1 GB per
# copy), is purged so that runs do not fill the disk.
reset_target() { dst -e "drop database if exists $DB; drop database if exists _godwit; purge binary logs before now()"; }
forget() { # forget NAME: cancel if needed, then delete the migration and its bookkeeping
  local st; st=$(jf .state "$(gstatus "$1")")
  case "$st" in
    ""|null) return 0 ;;
    COMPLETED|CANCELLED|CREATED) ;;
    *) "$G" cancel "$1" --state "$STATE" >>"$OUT/godwit-my-cleanup.log" 2>&1 || say "godwit cancel $1 failed (see $OUT/godwit-my-cleanup.log)" ;;
  esac
  "$G" delete "$1" --state "$STATE" >>"$OUT/godwit-my-cleanup.log" 2>&1 || say "godwit delete $1 failed (see $OUT/godwit-my-cleanup.log)"
}

PARTS=${PARTS:-copy cdc}
log "== MariaDB $(src -NBe 'select version()'), sysbench $TABLES x $ROWS, EVENTS=$EVENTS, $(nproc) cores, load $(cut -d" " -f1-3 /proc/loadavg), parts: $PARTS, godwit flags: ${GODWIT_FLAGS:-none}"

if [[ " $PARTS " == *" copy "* ]]; then
  # --- copy ---
  say "copy: anchors (${METHODS:-mydumper_loader})"
  settle "the copy anchor"
  anchor_out=$(cd "$ANCHORS" && METHODS="${METHODS:-mydumper_loader}" DB=$DB timeout "$WAIT_LIMIT" bash my-copy-anchors.sh) \
    || die "copy anchors failed or timed out"
  log "$anchor_out"
  check_equal "copy anchor (last method)" || die "the copy anchor did not copy $DB completely; its figure is not valid"
  reset_target
  rm -f "$STATE"
  say "copy: godwit start --once"
  settle "godwit_once"
  : >"$OUT/godwit-my-copy.log"
  s=$(now); rc=0
  /usr/bin/time -v -o "$OUT/time-my-copy.txt" "$G" start bcopy --once --state "$STATE" \
    --source "$SRC_URL" --target "$DST_URL" ${GODWIT_FLAGS:-} >>"$OUT/godwit-my-copy.log" 2>&1 || rc=$?
  copy_s=$(since "$s")
  if [ $rc -ne 0 ]; then
    say "godwit start --once exited $rc after ${copy_s}s; last lines of $OUT/godwit-my-copy.log:"
    tail -20 "$OUT/godwit-my-copy.log" >&2
    die "godwit copy failed"
  fi
  st=$(gstatus bcopy)
  [ "$(jf .state "$st")" = COMPLETED ] || say "warning: godwit exited 0 but state is $(jf .state "$st") (error: $(jf .error "$st"))"
  log "godwit_once $copy_s"
  log "godwit_once_peak_rss_mb $(peak_rss_mb "$OUT/time-my-copy.txt")"
  check_equal "godwit copy" || die "godwit's copy differs from the source"
  mydumper_s=$(echo "$anchor_out" | awk '$1=="mydumper_loader"{print $2}')
  dump_s=$(echo "$anchor_out" | awk '$1=="dump_pipe"{print $2}')
  [ -n "$mydumper_s" ] && log "ratio copy godwit/mydumper_loader = $(ratio "$copy_s" "$mydumper_s") (target <= 0.7)"
  [ -n "$dump_s" ] && log "ratio copy godwit/dump_pipe = $(ratio "$copy_s" "$dump_s")"
  forget bcopy
fi

if [[ " $PARTS " == *" cdc "* ]]; then
  # --- CDC catch-up ---
  say "cdc: equal copy on the target for the native anchor (mydumper/myloader)"
  (cd "$ANCHORS" && METHODS=mydumper_loader DB=$DB timeout "$WAIT_LIMIT" bash my-copy-anchors.sh >/dev/null) \
    || die "copying $DB for the native anchor failed"
  check_equal "cdc anchor setup copy" || die "the target is not an equal copy; the native anchor cannot run"
  say "cdc: native replication anchor ($EVENTS events)"
  settle "the native CDC anchor"
  native_out=$(cd "$ANCHORS" && EVENTS=$EVENTS DB=$DB timeout "$WAIT_LIMIT" bash my-cdc-anchor.sh 2>/dev/null) \
    || { dst -e "stop slave; reset slave all" 2>/dev/null || true; die "the native CDC anchor failed or timed out"; }
  log "$native_out"
  check_equal "native replication" || say "warning: native replication left the target different from the source"
  native_s=$(echo "$native_out" | awk '$1=="native_cdc_catchup"{print $2}')

  reset_target
  rm -f "$STATE"
  : >"$OUT/godwit-my-cdc.log"
  say "cdc: godwit start (live copy until consistent and caught up)"
  s=$(now)
  run_bg "$OUT/time-my-cdc-start.txt" "$OUT/godwit-my-cdc.log" start bcdc --state "$STATE" \
    --source "$SRC_URL" --target "$DST_URL" ${GODWIT_FLAGS:-}
  while :; do
    # consistent in status, the stage recorded on the target past the secondary index build (as pg.sh waits for),
    # and replay at the source's current position
    cur=$(master_pos); st=$(gstatus bcdc)
    [ "$(jf .consistent "$st")" = true ] && [ "$(jf .phase "$st")" = REPLICATING ] && [ "$(stage bcdc)" = consistent ] \
      && pos_ge "$(jf .applied_position "$st")" "$cur" && break
    if ! running; then
      wait "$RUN_TPID" 2>/dev/null && rc=0 || rc=$?; RUN_TPID=
      say "godwit start exited ($rc) before it was consistent; status: $st"
      tail -20 "$OUT/godwit-my-cdc.log" >&2; die "godwit live copy failed"
    fi
    [ "$(jf .state "$st")" = FAILED ] && { say "status: $st"; die "migration FAILED: $(jf .error "$st")"; }
    [ "$(echo "$(since "$s") > $WAIT_LIMIT" | bc)" = 1 ] && { say "last status: $st; source at $cur"; die "not consistent and caught up after ${WAIT_LIMIT}s"; }
    sleep 0.5
  done
  log "godwit_live_copy_to_consistent $(since "$s")"
  rc=0; stop_bg || rc=$?
  st=$(gstatus bcdc)
  [ $rc -eq 0 ] || say "warning: the runner exited $rc on SIGTERM"
  [ "$(jf .state "$st")" = PAUSED ] || die "after SIGTERM the migration is $(jf .state "$st"), not PAUSED: $st"
  log "godwit_live_copy_peak_rss_mb $(peak_rss_mb "$OUT/time-my-cdc-start.txt")"
  check_equal "godwit live copy" || die "godwit's live copy differs from the source"

  say "cdc: sysbench burst ($EVENTS events) while godwit is paused"
  settle "the burst for godwit"
  sysbench oltp_write_only --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port=53306 --mysql-user=root \
    --mysql-db=$DB --tables=$TABLES --table-size=$BURST_TABLE_SIZE --threads=4 --events="$EVENTS" --time=0 run \
    >"$OUT/sysbench-my-burst.log" 2>&1 || { tail -5 "$OUT/sysbench-my-burst.log" >&2; die "sysbench burst failed"; }
  end=$(master_pos)   # no settle here: the native anchor too starts its replica right after the burst
  say "cdc: godwit resume, until the target's checkpoint reaches $end"
  # Caught up when the applied position godwit commits on the target with the changes (_godwit.migrations,
  # polled every 0.05 s, as pg.sh does) reaches the source's position after the burst. `status --json` shows
  # the same position later (the runner publishes its progress periodically): that time is logged too.
  s=$(now); cdc_s=; i=0
  run_bg "$OUT/time-my-cdc.txt" "$OUT/godwit-my-cdc.log" resume bcdc --state "$STATE"
  while :; do
    if [ -z "$cdc_s" ] && pos_ge "$(applied_tgt bcdc)" "$end"; then cdc_s=$(since "$s"); fi
    if [ -n "$cdc_s" ] || [ $((i % 4)) = 0 ]; then
      st=$(gstatus bcdc)
      if pos_ge "$(jf .applied_position "$st")" "$end"; then
        status_s=$(since "$s"); [ -n "$cdc_s" ] || cdc_s=$status_s
        break
      fi
      if ! running; then
        wait "$RUN_TPID" 2>/dev/null && rc=0 || rc=$?; RUN_TPID=
        say "godwit resume exited ($rc) before catching up; status: $st"
        tail -20 "$OUT/godwit-my-cdc.log" >&2; die "godwit catch-up failed"
      fi
      [ "$(jf .state "$st")" = FAILED ] && { say "status: $st"; die "migration FAILED: $(jf .error "$st")"; }
      [ "$(echo "$(since "$s") > $WAIT_LIMIT" | bc)" = 1 ] && { say "last status: $st; waiting for $end"; die "not caught up after ${WAIT_LIMIT}s"; }
    fi
    i=$((i + 1)); sleep 0.05
  done
  rc=0; stop_bg || rc=$?
  [ $rc -eq 0 ] || say "warning: the resumed runner exited $rc on SIGTERM"
  log "godwit_cdc_catchup $cdc_s $((EVENTS*4))"
  log "godwit_cdc_catchup_seen_in_status $status_s"
  log "godwit_cdc_peak_rss_mb $(peak_rss_mb "$OUT/time-my-cdc.txt")"
  [ -n "$native_s" ] && log "ratio cdc rate godwit/native = $(ratio "$native_s" "$cdc_s") (target >= 5)"
  check_equal "godwit catch-up" || die "after catching up, the target differs from the source"
  forget bcdc
  reset_target
fi
