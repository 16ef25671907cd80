#!/usr/bin/env bash
# kill -9 at random moments, resume each time: the archive must end exactly as an
# uninterrupted run leaves it (issue 15).
#
#   tests/kill_resume.sh DOCLING_CPP TEST_DATA [KILLS] [SEED]
#
# A corpus of small PDFs (the test data's PDFs under many names, a broken one, an empty one)
# is converted once without interruption (the reference), then again under a loop that starts
# `convert` (resume is the default), kills it with SIGKILL after a random delay, and starts it
# again, until KILLS (default 20) kills landed while it ran; then one last run finishes. The
# outputs must equal the reference byte for byte; the ledger too, but for its timing fields
# and its order (workers finish in any order); every input has exactly one line; no temporary
# file is left. Delays are drawn from [0, max) where max is a third of the reference run
# (doubled after five kills in a row that got nothing done), so the kills land at start-up, in conversions,
# in the middle of writing files and between a rename and its ledger line.
set -euo pipefail

CLI=${1:?usage: kill_resume.sh DOCLING_CPP TEST_DATA [KILLS] [SEED]}
DATA=${2:?usage: kill_resume.sh DOCLING_CPP TEST_DATA [KILLS] [SEED]}
KILLS=${3:-20}
SEED=${4:-$$}
RANDOM=$SEED

# Memory-backed when there is one: each document's files are fsync'ed, which a disk makes
# the slow part, and a kill acts the same on either.
TMP=${TMPDIR:-/tmp}
[ -d /dev/shm ] && [ -w /dev/shm ] && TMP=/dev/shm
WORK=$(mktemp -d "$TMP/docling_kill_resume.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export HOME=$WORK/home
mkdir -p "$HOME"
unset DOCLING_MODEL XDG_CACHE_HOME DOCLING_KV DOCLING_WEIGHTS DOCLING_ISA DOCLING_INT8_ACTIVATIONS DOCLING_BF16_DOT
unset SLURM_ARRAY_TASK_ID JOB_COMPLETION_INDEX

fail() { echo "kill_resume: FAILED (seed $SEED): $*" >&2; exit 1; }
now_ms() { date +%s%3N; }
ledger_lines() { cat "$1"/docling-cpp.ledger*.jsonl 2> /dev/null | wc -l || true; }

# --- the corpus: 8 copies of each test PDF in three folders, plus two that fail -------------
IN=$WORK/in
for c in $(seq 0 7); do
  d=$IN/part$((c % 3))
  mkdir -p "$d"
  for f in "$DATA"/pdfs/*.pdf; do cp "$f" "$d/$(basename "$f" .pdf)-$c.pdf"; done
done
printf '%%PDF-1.4 not really\n' > "$IN/part0/broken.pdf"
: > "$IN/part1/empty.pdf"
N=$(find "$IN" -name '*.pdf' | wc -l)

ARGS=(--pipeline text --to md,json,doctags --threads 2 -q)

# --- the reference ------------------------------------------------------------------------------
t0=$(now_ms)
rc=0
"$CLI" convert "$IN" -o "$WORK/ref" "${ARGS[@]}" 2> "$WORK/ref.err" || rc=$?
REF_MS=$(( $(now_ms) - t0 ))
[ "$rc" = 1 ] || fail "the reference run exited $rc (expected 1: two inputs fail)"

# The ledger without its timing fields, in a fixed order.
normalized() { sed -E 's/,"seconds":[-0-9.eE+]+//; s/,"finished":[-0-9.eE+]+//' "$1"/docling-cpp.ledger*.jsonl | sort; }

# --- kill, resume, repeat -----------------------------------------------------------------------
OUT=$WORK/out
kills=0 runs=0 stale=0 idle=0 max_ms=$(( REF_MS / 3 + 20 ))
while [ "$kills" -lt "$KILLS" ]; do
  runs=$((runs + 1))
  [ "$runs" -le 400 ] || fail "400 runs and only $kills kills landed"
  before=$(ledger_lines "$OUT")
  "$CLI" convert "$IN" -o "$OUT" "${ARGS[@]}" 2> "$WORK/run.err" &
  pid=$!
  delay=$(( RANDOM % max_ms ))
  sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
  kill -9 "$pid" 2> /dev/null || true
  rc=0
  { wait "$pid"; } 2> /dev/null || rc=$?
  grep -q "stale temporary" "$WORK/run.err" && stale=$((stale + 1))
  if grep -q "error:" "$WORK/run.err" && ! grep -q "broken.pdf\|empty.pdf" "$WORK/run.err"; then
    cat "$WORK/run.err" >&2
    fail "run $runs printed an error"
  fi
  [ -z "${KILL_RESUME_VERBOSE:-}" ] || echo "run $runs: delay $delay ms, rc $rc, lines $before -> $(ledger_lines "$OUT")" >&2
  if [ "$rc" = 137 ]; then
    kills=$((kills + 1))
    after=$(ledger_lines "$OUT")
    # Five kills in a row with nothing done: start-up takes longer than the delays, wait longer.
    if [ "$after" -gt "$before" ]; then idle=0; else idle=$((idle + 1)); fi
    [ "$idle" -lt 5 ] || { max_ms=$(( max_ms * 2 )); idle=0; }
  elif [ "$rc" = 0 ] || [ "$rc" = 1 ]; then
    # It finished before the kill: check this round, then start another from nothing.
    diff -r -q -x 'docling-cpp.ledger*' "$WORK/ref" "$OUT" > /dev/null || fail "round ended with outputs unlike the reference"
    [ "$(normalized "$OUT")" = "$(normalized "$WORK/ref")" ] || fail "round ended with a ledger unlike the reference"
    rm -rf "$OUT"
  else
    cat "$WORK/run.err" >&2
    fail "run $runs exited $rc"
  fi
done

# --- the last run finishes; then compare --------------------------------------------------------
rc=0
"$CLI" convert "$IN" -o "$OUT" "${ARGS[@]}" 2> "$WORK/run.err" || rc=$?
grep -q "stale temporary" "$WORK/run.err" && stale=$((stale + 1))
[ "$rc" = 1 ] || { cat "$WORK/run.err" >&2; fail "the finishing run exited $rc"; }

diff -r -x 'docling-cpp.ledger*' "$WORK/ref" "$OUT" || fail "outputs differ from the uninterrupted run"
if ! diff <(normalized "$WORK/ref") <(normalized "$OUT"); then fail "ledgers differ (timing fields aside)"; fi
lines=$(cat "$OUT"/docling-cpp.ledger*.jsonl | wc -l)
unique=$(sed -E 's/^\{"input":("([^"\\]|\\.)*").*/\1/' "$OUT"/docling-cpp.ledger*.jsonl | sort -u | wc -l)
[ "$lines" = "$N" ] && [ "$unique" = "$N" ] || fail "$lines ledger lines for $unique inputs, expected $N of each"
left=$(find "$OUT" \( -name '*.tmp*' -o -name '.dl*' \) | wc -l)
[ "$left" = 0 ] || fail "temporary files left: $(find "$OUT" \( -name '*.tmp*' -o -name '.dl*' \) | head -3)"

echo "kill_resume: ok: $N documents, $kills kills in $runs runs (seed $SEED; delays up to ${max_ms} ms," \
     "reference run ${REF_MS} ms); $stale run(s) found temporaries of a kill in mid-write and removed them"
