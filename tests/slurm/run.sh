#!/usr/bin/env bash
# Shards proven on a real Slurm cluster (issue 15): a one-node cluster on localhost (munged,
# slurmctld, slurmd; config, munge key and state in a private folder), then
#   A. `sbatch --array=0-2 --wait` over a folder of PDFs and a .tar.gz of PDFs, the shard taken
#      from the array's environment, into ONE output folder: every document converted exactly
#      once over the three shard ledgers, `status` complete, outputs equal to one process's;
#   B. deploy/slurm/convert.sbatch as an array of 4 tasks, one cancelled with scancel while
#      converting and resubmitted alone (`SHARDS=4 sbatch --array=1`): the same checks.
#
#   tests/slurm/run.sh DOCLING_CPP REPO_ROOT STATE_DIR
#
# Installs Debian's slurm-wlm and munge with apt-get when missing (as root). Exits 77 (ctest's
# SKIP_RETURN_CODE) with a message when they cannot be installed or the daemons cannot start
# here. Stops the daemons and removes STATE_DIR on exit (kept on failure, for the logs).
set -uo pipefail

CLI=${1:?usage: run.sh DOCLING_CPP REPO_ROOT STATE_DIR}
ROOT=${2:?usage: run.sh DOCLING_CPP REPO_ROOT STATE_DIR}
S=${3:?usage: run.sh DOCLING_CPP REPO_ROOT STATE_DIR}
CLI=$(readlink -f "$CLI")
SKIP=77

say() { echo "slurm: $*"; }
skip() { echo "slurm: SKIPPED: $*"; exit $SKIP; }
failed=0
fail() {
  failed=1
  echo "slurm: FAILED: $*" >&2
  for f in "$S"/log/*.log "$S"/job-*.out; do
    [ -f "$f" ] && { echo "--- $f (last lines)" >&2; tail -n 15 "$f" >&2; }
  done
  exit 1
}

# --- packages -----------------------------------------------------------------------------------
if ! command -v slurmctld > /dev/null || ! command -v slurmd > /dev/null || ! command -v sbatch > /dev/null ||
   ! command -v munged > /dev/null; then
  [ "$(id -u)" = 0 ] || skip "slurm-wlm and munge are not installed, and installing them needs root"
  command -v apt-get > /dev/null || skip "slurm-wlm and munge are not installed, and there is no apt-get"
  say "installing slurm-wlm and munge (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends slurm-wlm munge > /tmp/docling_slurm_apt.log 2>&1; then
    apt-get update -qq > /dev/null 2>&1
    apt-get install -y -q --no-install-recommends slurm-wlm munge > /tmp/docling_slurm_apt.log 2>&1 ||
      skip "apt-get could not install slurm-wlm and munge (see /tmp/docling_slurm_apt.log)"
  fi
fi
[ "$(id -u)" = 0 ] || skip "slurmd must run as root to start jobs; run this test as root"
command -v qpdf > /dev/null || skip "qpdf is needed to make the long PDFs of part B (scripts/setup.sh installs it)"

# --- the cluster --------------------------------------------------------------------------------
rm -rf "$S"
mkdir -p "$S"/log "$S"/ctld "$S"/slurmd "$S"/munge
chmod 700 "$S"/munge
# A Unix socket path holds at most 107 bytes: a deep build tree gets a short private folder.
SOCKDIR=$S/munge
if [ ${#SOCKDIR} -gt 80 ]; then SOCKDIR=$(mktemp -d /tmp/docling_munge.XXXXXX); fi
SOCK=$SOCKDIR/munge.socket
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2> /dev/null || break; sleep 0.1; done
    kill -9 "$p" 2> /dev/null
  done
  [ -f "$S/munge/munged.pid" ] && kill "$(cat "$S/munge/munged.pid")" 2> /dev/null
  [ "$SOCKDIR" != "$S/munge" ] && rm -rf "$SOCKDIR"
  if [ "$failed" = 0 ]; then rm -rf "$S"; else echo "slurm: state and logs kept in $S" >&2; fi
}
trap cleanup EXIT
trap 'failed=1; exit 1' INT TERM

head -c 1024 /dev/urandom > "$S/munge/munge.key"
chmod 400 "$S/munge/munge.key"
munged --force --key-file="$S/munge/munge.key" --socket="$SOCK" --pid-file="$S/munge/munged.pid" \
  --log-file="$S/log/munged.log" --seed-file="$S/munge/munged.seed" ||
  skip "munged does not start here (see $S/log/munged.log)"
munge -n -S "$SOCK" | unmunge -S "$SOCK" > /dev/null 2>&1 || skip "munge does not work here"

HOST=$(hostname -s)
PORT=$((20000 + RANDOM % 20000))
export SLURM_CONF=$S/slurm.conf
: > "$S/plugstack.conf"
cat > "$SLURM_CONF" << EOF
# A one-node cluster on localhost for tests/slurm/run.sh: no cgroups, no accounting.
ClusterName=doclingtest
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCK
StateSaveLocation=$S/ctld
SlurmdSpoolDir=$S/slurmd
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$S/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SwitchType=switch/none
MpiDefault=none
ReturnToService=2
MinJobAge=600
# Four CPUs whatever the machine has (config_overrides: not drained for having fewer), so
# the four tasks of part B run at once.
SlurmdParameters=config_overrides
NodeName=dcnode NodeAddr=127.0.0.1 NodeHostname=$HOST CPUs=4 State=UNKNOWN
PartitionName=debug Nodes=dcnode Default=YES MaxTime=INFINITE State=UP
EOF

slurmctld -D -i -f "$SLURM_CONF" > "$S/log/slurmctld.out" 2>&1 &
PIDS+=($!)
slurmd -D -f "$SLURM_CONF" -N dcnode > "$S/log/slurmd.out" 2>&1 &
PIDS+=($!)
up=0
for _ in $(seq 150); do
  if sinfo -h -n dcnode -o %T 2> /dev/null | grep -qE '^(idle|mixed|allocated)'; then up=1; break; fi
  for p in "${PIDS[@]}"; do kill -0 "$p" 2> /dev/null || skip "a Slurm daemon exited at start: $(tail -n 3 "$S"/log/*.out "$S"/log/slurm*.log 2> /dev/null | tr '\n' ' ')"; done
  sleep 0.2
done
[ "$up" = 1 ] || skip "the node did not come up in 30 s: $(sinfo -h -N 2>&1 | head -n 3 | tr '\n' ' ') $(tail -n 3 "$S/log/slurmctld.log" | tr '\n' ' ')"
say "cluster up: $(sinfo -h -o '%P %D %T %C')"

# --- the corpus -----------------------------------------------------------------------------------
# 13 documents: the samples' and test data's PDFs, copies with other bytes (a comment after
# %%EOF, which readers ignore), and a .tar.gz holding four more.
IN=$S/in
mkdir -p "$IN/papers" "$S/packed/more"
cp "$ROOT"/samples/*.pdf "$IN/"
for f in code_and_formula multi_page normal_4pages right_to_left_01; do cp "$ROOT/tests/data/pdfs/$f.pdf" "$IN/papers/"; done
for k in 1 2; do
  for f in "$ROOT"/samples/article.pdf "$ROOT"/samples/report.pdf; do
    { cat "$f"; printf '%% copy %d\n' "$k"; } > "$IN/papers/$(basename "$f" .pdf)-copy$k.pdf"
  done
done
cp "$ROOT"/tests/data/pdfs/{ocr_test,2305.03393v1-pg9}.pdf "$S/packed/"
for k in 1 2; do { cat "$ROOT/samples/article.pdf"; printf '%% packed %d\n' "$k"; } > "$S/packed/more/article-$k.pdf"; done
tar --sort=name -C "$S/packed" -czf "$IN/packed.tar.gz" .
N=$(("$(find "$IN" -name '*.pdf' | wc -l)" + 4))
say "corpus: $N documents ($(find "$IN" -name '*.pdf' | wc -l) files, 4 in packed.tar.gz)"

# The reference: one process.
"$CLI" convert "$IN" -o "$S/ref" --pipeline text -q > /dev/null 2> "$S/log/ref.log" || fail "the single-process run failed"

cat > "$S/job.sh" << 'EOF'
#!/bin/bash
# One array task: the shard comes from the array (SLURM_ARRAY_TASK_ID and _COUNT), or from
# --shard ID/SHARDS when SHARDS is set (a task resubmitted alone: its array has one task).
exec "$CLI" convert "$IN" -o "$OUT" --pipeline text -q --threads 1 ${SHARDS:+--shard "$SLURM_ARRAY_TASK_ID/$SHARDS"}
EOF
chmod +x "$S/job.sh"
export CLI

# Every document in exactly one ledger line, every ledger a shard's, status complete, the
# outputs those of one process.
check() {
  local out=$1 shards=$2 dups
  local lines
  lines=$(cat "$out"/docling-cpp.ledger.*-of-"$shards".jsonl | wc -l)
  [ "$(find "$out" -maxdepth 1 -name 'docling-cpp.ledger*' | wc -l)" = "$shards" ] ||
    fail "$out: expected $shards shard ledgers, found: $(ls "$out" | grep ledger | tr '\n' ' ')"
  [ "$lines" = "$N" ] || fail "$out: $lines ledger lines for $N documents"
  dups=$(sed -E 's/^\{"input":"([^"]*)".*/\1/' "$out"/docling-cpp.ledger.*.jsonl | sort | uniq -d)
  [ -z "$dups" ] || fail "$out: converted more than once: $dups"
  "$CLI" status "$out" --inputs "$IN" > "$S/status.txt" 2>&1 || fail "$out: status is not complete: $(cat "$S/status.txt")"
  # (scanned pages are PARTIAL with the text pipeline: no text layer; nothing fails)
  grep -qE "$N document\(s\) in $shards ledger\(s\): [0-9]+ succeeded, [0-9]+ partial, 0 failed, 0 missing" "$S/status.txt" ||
    fail "$out: status says: $(cat "$S/status.txt")"
  diff -r -x 'docling-cpp.ledger*' -x 'progress.*.json' "$S/ref" "$out" > "$S/diff.txt" || fail "$out: outputs differ from one process's: $(head -n 5 "$S/diff.txt")"
}

# --- A: an array of 3, the shard from the environment --------------------------------------------
t0=$(date +%s)
timeout 300 sbatch --wait --array=0-2 --cpus-per-task=1 -o "$S/job-a-%a.out" -D "$S" \
  --export=ALL,OUT="$S/out_a",IN="$IN" "$S/job.sh" > "$S/sbatch-a.txt" 2>&1 ||
  fail "sbatch --array=0-2 --wait: $(cat "$S/sbatch-a.txt")"
check "$S/out_a" 3
for i in 0 1 2; do
  [ -s "$S/out_a/docling-cpp.ledger.$i-of-3.jsonl" ] || fail "shard $i of 3 converted nothing"
done
say "A: 3 array tasks, $N documents, each converted once, status complete, outputs as one process ($(($(date +%s) - t0)) s)"

# --- B: an array of 4, one task cancelled while converting, resubmitted alone --------------------
# Four long PDFs (the test data pages repeated: several seconds each) give the tasks time.
for k in 0 1 2 3 4 5 6 7; do
  qpdf --empty --pages $(for _ in $(seq 12); do echo "$ROOT/tests/data/pdfs/normal_4pages.pdf" "$ROOT/tests/data/pdfs/code_and_formula.pdf"; done) -- "$IN/long-$k.pdf" 2> "$S/log/qpdf.log" ||
    fail "qpdf could not make a long PDF"
done
N=$((N + 8))
rm -rf "$S/ref"
"$CLI" convert "$IN" -o "$S/ref" --pipeline text -q > /dev/null 2> "$S/log/ref.log" || fail "the single-process run failed"
MINE=$("$CLI" convert "$IN" -o "$S/out_b" --shard 1/4 --dry-run --pipeline text -q | wc -l)
t0=$(date +%s)
# The deployment script itself; its #SBATCH defaults (8 tasks, 8 CPUs, 16G) resized to this node.
export PATH=$(dirname "$CLI"):$PATH
SB=(--cpus-per-task=1 --mem=0 -D "$S")
JOB=$(sbatch --parsable --array=0-3 "${SB[@]}" -o "$S/job-b-%a.out" "$ROOT/deploy/slurm/convert.sbatch" "$IN" "$S/out_b" \
  --pipeline text) || fail "sbatch --array=0-3 failed: $JOB"
# Cancel task 1 once it has finished a document (so it is in the middle of its shard).
L1=$S/out_b/docling-cpp.ledger.1-of-4.jsonl
for _ in $(seq 600); do
  [ -s "$L1" ] && break
  sleep 0.05
done
scancel "${JOB}_1" || fail "scancel ${JOB}_1 failed"
for _ in $(seq 600); do
  [ -z "$(squeue -h -j "$JOB" 2> /dev/null)" ] && break
  sleep 0.5
done
[ -z "$(squeue -h -j "$JOB")" ] || fail "the array did not finish: $(squeue -j "$JOB")"
done1=$(wc -l < "$L1" 2> /dev/null || echo 0)
state=$(scontrol show job "${JOB}_1" 2> /dev/null | grep -o 'JobState=[A-Z]*' | head -n 1)
if [ "$state" = JobState=CANCELLED ] && [ "$done1" -lt "$MINE" ]; then
  say "B: task 1 cancelled after $done1 of its $MINE documents"
else
  say "B: note: the cancel landed after task 1 had finished its shard ($state, $done1 of $MINE documents)"
fi
SHARDS=4 timeout 300 sbatch --wait --array=1 "${SB[@]}" -o "$S/job-b-again.out" "$ROOT/deploy/slurm/convert.sbatch" \
  "$IN" "$S/out_b" --pipeline text > "$S/sbatch-b.txt" 2>&1 ||
  fail "the resubmitted task failed: $(cat "$S/sbatch-b.txt")"
check "$S/out_b" 4
say "B: 4 array tasks, one cancelled and resubmitted: $N documents, each converted once, status complete ($(($(date +%s) - t0)) s)"
say "PASSED"
