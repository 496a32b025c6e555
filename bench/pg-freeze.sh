#!/usr/bin/env bash
# Cutover write freeze under load: $N cutovers (default 10) of a pgbench database (scale $SCALE,
# default 10) while pgbench runs ~$RATE transactions/s on the source. Each round starts a fresh
# migration, waits until it is consistent, runs `godwit complete --skip-verify`, and records
# freeze_ms (fence to switch). Prints every freeze and the p50/p99/max; appends to bench/out/.
# pgbench stops at the fence (its writes are refused), so each round starts it again.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd); ANCHORS=${ANCHORS:-$ROOT/bench/anchors}
N=${N:-10}; SCALE=${SCALE:-10}; RATE=${RATE:-500}; DB=freezebench
export PGHOST=127.0.0.1 PGUSER=postgres
SRC=55432; DST=55433; OUT=$ROOT/bench/out; mkdir -p "$OUT"
bash "$ANCHORS/pg-up.sh" >/dev/null
if ! psql -p $SRC -d $DB -tAc "select 1 from pgbench_accounts limit 1" >/dev/null 2>&1; then
  psql -p $SRC -qc "create database $DB" 2>/dev/null || true
  pgbench -p $SRC -i -s "$SCALE" -q $DB
  psql -p $SRC -d $DB -qc "alter table pgbench_history add column hid bigserial primary key"
fi
go build -o "$OUT/godwit" ./cmd/godwit
G="$OUT/godwit"; S="$OUT/freeze-state.db"
freezes=()
for i in $(seq 1 "$N"); do
  psql -p $DST -qc "drop database if exists $DB with (force)" && psql -p $DST -qc "create database $DB"
  rm -f "$S"
  pgbench -p $SRC -n -c 4 -j 2 -R "$RATE" -T 600 $DB >/dev/null 2>&1 &
  pgb=$!
  "$G" start f$i --state "$S" --source "postgres://postgres@127.0.0.1:$SRC/$DB" --target "postgres://postgres@127.0.0.1:$DST/$DB" 2>>"$OUT/freeze.log" &
  run=$!
  until "$G" status f$i --state "$S" --json 2>/dev/null | grep -q '"consistent":true'; do sleep 0.5; done
  sleep 2   # replicate live load for a moment
  # Measure the load actually running on the source just before the cutover.
  h1=$(psql -p $SRC -d $DB -tAc "select count(*) from pgbench_history"); sleep 1
  h2=$(psql -p $SRC -d $DB -tAc "select count(*) from pgbench_history")
  "$G" complete f$i --state "$S" --skip-verify >>"$OUT/freeze.log" 2>&1 || { echo "round $i: complete failed" >&2; tail -3 "$OUT/freeze.log" >&2; }
  ms=$("$G" status f$i --state "$S" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["freeze_ms"])')
  freezes+=("$ms"); echo "round $i freeze_ms $ms (source load before the cutover: $((h2 - h1)) tps)"
  wait $run || true
  kill $pgb 2>/dev/null || true; wait $pgb 2>/dev/null || true
  "$G" delete f$i --state "$S" >/dev/null
done
printf '%s\n' "${freezes[@]}" | sort -n | awk -v n="$N" -v rate="$RATE" -v date="$(date -u +%FT%TZ)" '
  {v[NR]=$1} END {p50=v[int((NR+1)/2)]; p99=v[NR]; printf "== %s freeze over %d cutovers at ~%d tps: p50 %d ms, p99 %d ms, max %d ms\n", date, NR, rate, p50, p99, v[NR]}' | tee -a "$OUT/pg-results.txt"
