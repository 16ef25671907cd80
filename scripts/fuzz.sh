#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/, clang with ASan+UBSan) and runs each for SECONDS (default 10)
# from its seed corpus, copied to a temporary folder so the repository is not modified.
#   scripts/fuzz.sh [SECONDS] [HARNESS...]     e.g. scripts/fuzz.sh 60 doctags pdf
# Exit 1 when any harness finds a crash, leak, timeout or out-of-memory input; the reproducer's path
# is printed (rerun it with: build-fuzz/fuzz_<harness> <reproducer>).
# Environment: FUZZ_BUILD (build folder, default build-fuzz), FUZZ_NO_BUILD=1 (use it as it is),
# FUZZ_CORPUS_DIR (keep the grown corpora there, one folder per harness, instead of a temporary copy),
# FUZZ_JOBS (harnesses run at once, default 1), FUZZ_NICE (nice level, default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
shift || true
all=(doctags docling_json safetensors tokenizer chunk_tokenizer config pdf image)
harnesses=("$@")
((${#harnesses[@]})) || harnesses=("${all[@]}")
build=${FUZZ_BUILD:-build-fuzz}
jobs=${FUZZ_JOBS:-1}
nice_level=${FUZZ_NICE:-10}

# Longest input per harness: real seeds fit, and one execution stays fast.
declare -A max_len=([doctags]=16384 [docling_json]=65536 [safetensors]=4096 [tokenizer]=8192
                    [chunk_tokenizer]=4096 [config]=8192 [pdf]=32768 [image]=32768)

if [[ ${FUZZ_NO_BUILD:-0} != 1 ]]; then
  command -v clang++ >/dev/null || { echo "fuzz: clang++ not found (apt-get install clang)"; exit 2; }
  cmake -S fuzz -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  nice -n "$nice_level" cmake --build "$build" -j"$(nproc)" --target "${harnesses[@]/#/fuzz_}"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
artifacts=$(realpath -m "$build")/artifacts
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
# fontconfig (loaded by Poppler) keeps its cache for the life of the process: not a leak of ours.
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_one() {
  local h=$1 corpus
  [[ -n ${max_len[$h]:-} ]] || { echo "fuzz: no harness '$h' (one of: ${all[*]})"; return 2; }
  if [[ -n ${FUZZ_CORPUS_DIR:-} ]]; then
    corpus=$FUZZ_CORPUS_DIR/$h
    mkdir -p "$corpus"
  else
    corpus=$tmp/corpus-$h
    mkdir -p "$corpus"
  fi
  cp -n fuzz/corpus/"$h"/* "$corpus"/ 2>/dev/null || true
  mkdir -p "$artifacts/$h"
  local dict=()
  [[ -f fuzz/$h.dict ]] && dict=(-dict="fuzz/$h.dict")
  local log=$tmp/$h.log rc=0
  nice -n "$nice_level" "$build/fuzz_$h" "$corpus" "${dict[@]}" -max_total_time="$seconds" \
    -max_len="${max_len[$h]}" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$artifacts/$h/" >"$log" 2>&1 || rc=$?
  local stats
  stats=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
  if ((rc != 0)); then
    tail -n 60 "$log"
    local repro
    repro=$(grep -oE "Test unit written to [^ ]+" "$log" | tail -1 | sed 's/Test unit written to //')
    echo "FUZZ FINDING in $h (exit $rc): reproducer ${repro:-(none written)}"
    echo "  rerun: $build/fuzz_$h ${repro:-}"
    return 1
  fi
  echo "fuzz $h: ${seconds}s, ${stats:-?} runs, $(ls "$corpus" | wc -l) corpus files, no finding"
}

failed=0
if ((jobs <= 1)); then
  for h in "${harnesses[@]}"; do run_one "$h" || failed=1; done
else
  pids=()
  for h in "${harnesses[@]}"; do
    while (($(jobs -rp | wc -l) >= jobs)); do wait -n || failed=1; done
    run_one "$h" &
  done
  while (($(jobs -rp | wc -l))); do wait -n || failed=1; done
fi
((failed == 0)) || { echo "fuzz: FINDINGS (reproducers under $artifacts)"; exit 1; }
echo "fuzz: ${#harnesses[@]} harnesses, ${seconds}s each, no finding"
