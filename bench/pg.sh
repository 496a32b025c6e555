#!/usr/bin/env bash
# godwit vs the anchors, side by side in one run, on pgbench scale $SCALE (default 50):
#   copy:  `godwit start --once` vs pgcopydb clone (and the other anchors in bench/anchors)
#   CDC:   catch-up of a burst of $TX pgbench transactions (x4 row changes) vs native logical replication
#   RSS:   peak resident memory of godwit in both runs
# Prints each figure and the ratios; appends them to bench/out/pg-results.txt.
# Needs root on Debian with postgresql, pgbench and pgcopydb (installed here with apt-get if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ANCHORS=${ANCHORS:-$ROOT/bench/anchors}
SCALE=${SCALE:-50}; TX=${TX:-40000}; DB=bench
export PGHOST=127.0.0.1 PGUSER=postgres
SRC=55432; DST=55433
OUT=$ROOT/bench/out; mkdir -p "$OUT"
log() { echo "$*" | tee -a "$OUT/pg-results.txt"; }

command -v pgcopydb >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgcopydb postgresql-contrib >/dev/null; }
bash "$ANCHORS/pg-up.sh" >/dev/null
if ! psql -p $SRC -d $DB -tAc "select 1 from pgbench_accounts limit 1" >/dev/null 2>&1; then
  psql -p $SRC -qc "create database $DB" 2>/dev/null || true
  pgbench -p $SRC -i -s "$SCALE" -q $DB
fi
# The CDC part gives pgbench_history a key (below); the copy part wants the standard tables.
psql -p $SRC -d $DB -qc "alter table pgbench_history drop column if exists hid" 2>/dev/null
go build -o "$OUT/godwit" ./cmd/godwit
G="$OUT/godwit"
now() { date +%s.%N; }
reset_target() { psql -p $DST -qc "drop database if exists $DB with (force)" && psql -p $DST -qc "create database $DB"; }
lsn_ge() { [ "$(psql -p $SRC -tAc "select '$1'::pg_lsn >= '$2'::pg_lsn")" = t ]; }

log "== $(date -u +%FT%TZ) pgbench scale $SCALE, TX=$TX, $(nproc) cores, godwit flags: ${GODWIT_FLAGS:-none}"
PARTS=${PARTS:-copy cdc}
if [[ " $PARTS " == *" copy "* ]]; then
# --- copy ---
anchor_out=$(cd "$ANCHORS" && METHODS="${METHODS:-raw_pipe pgcopydb_clone}" DB=$DB bash pg-copy-anchors.sh)
log "$anchor_out"
reset_target
rm -f "$OUT/state.db"
s=$(now)
/usr/bin/time -f "%M" -o "$OUT/rss-copy" "$G" start bcopy --once --state "$OUT/state.db" \
  --source "postgres://postgres@127.0.0.1:$SRC/$DB" --target "postgres://postgres@127.0.0.1:$DST/$DB" ${GODWIT_FLAGS:-} 2>"$OUT/godwit-copy.log"
copy_s=$(echo "$(now) - $s" | bc)
log "godwit_once $copy_s"
log "godwit_once_peak_rss_mb $(( $(cat "$OUT/rss-copy") / 1024 ))"
pgcopydb_s=$(echo "$anchor_out" | awk '$1=="pgcopydb_clone"{print $2}')
raw_s=$(echo "$anchor_out" | awk '$1=="raw_pipe"{print $2}')
[ -n "$pgcopydb_s" ] && log "ratio copy godwit/pgcopydb = $(echo "scale=2; $copy_s / $pgcopydb_s" | bc)"
[ -n "$raw_s" ] && log "ratio copy godwit/raw_pipe = $(echo "scale=2; $copy_s / $raw_s" | bc)"

fi
[[ " $PARTS " == *" cdc "* ]] || exit 0
# --- CDC catch-up ---
psql -p $SRC -d $DB -qc "alter table pgbench_history add column hid bigserial primary key"
native_out=$(cd "$ANCHORS" && TX=$TX DB=$DB bash pg-cdc-anchor.sh 2>/dev/null)
log "$native_out"
reset_target
rm -f "$OUT/state.db"
"$G" start bcdc --state "$OUT/state.db" --source "postgres://postgres@127.0.0.1:$SRC/$DB" \
  --target "postgres://postgres@127.0.0.1:$DST/$DB" 2>"$OUT/godwit-cdc.log" &
pid=$!
applied() { psql -p $DST -d $DB -tAc "select coalesce(substr(applied_pos, 5), '0/0') from _godwit.migrations where name = 'bcdc'" 2>/dev/null || echo 0/0; }
cur=$(psql -p $SRC -d $DB -tAc "select pg_current_wal_lsn()")
until [ "$(psql -p $DST -d $DB -tAc "select stage from _godwit.migrations where name='bcdc'" 2>/dev/null)" = consistent ] && lsn_ge "$(applied)" "$cur"; do sleep 0.5; done
kill -TERM $pid; wait $pid || true
pgbench -p $SRC -n -c 4 -j 2 -t $((TX/4)) $DB >/dev/null 2>&1
end=$(psql -p $SRC -d $DB -tAc "select pg_current_wal_lsn()")
s=$(now)
GODWIT_CPUPROFILE=${CDC_PROFILE:-} /usr/bin/time -f "%M" -o "$OUT/rss-cdc" "$G" resume bcdc --state "$OUT/state.db" 2>>"$OUT/godwit-cdc.log" &
until lsn_ge "$(applied)" "$end"; do sleep 0.05; done
cdc_s=$(echo "$(now) - $s" | bc)
pkill -TERM -x godwit || true; wait || true
log "godwit_cdc_catchup $cdc_s $((TX*4))"
log "godwit_cdc_peak_rss_mb $(( $(cat "$OUT/rss-cdc") / 1024 ))"
native_s=$(echo "$native_out" | awk '{print $2}')
log "ratio cdc rate godwit/native = $(echo "scale=2; $native_s / $cdc_s" | bc)"
"$G" cancel bcdc --state "$OUT/state.db" >/dev/null
psql -p $SRC -d $DB -qc "alter table pgbench_history drop column hid"
