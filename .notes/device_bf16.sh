#!/bin/bash
# Device check of the AVX512-BF16 product path (kernels/avx512_bf16.cpp).
#
# The device image has CMake and a compiler but none of the project's libraries (TBB, gtest,
# libpng, ...), and nothing can be installed there. So the programs are built here, generic
# x86-64 (the kernels choose their instruction set at run time), and carried with the shared
# libraries they load:
#   here:        bash .notes/device_bf16.sh prepare     # fills build-bf16/dev (git-ignored)
#   run tool:    command "bash .notes/device_bf16.sh run", carry ["build-bf16/dev"], timeout_s 480
# The run prints the CPU, the tests (the library reads no environment, so the test programs run
# with the path as they set it: test_kernels_bf16 turns it on, the others leave it off), the register peaks and the
# gemm bench on 16 and 2 threads with the path on and off; full logs go to $OUT. "peaks" (a second,
# short run) measures the instruction peaks with 8/16/28 chains on 1-16 threads and the vision
# shapes on 1 and 16 threads.
set -u
D=build-bf16/dev

if [ "${1:-}" = prepare ]; then
  set -e
  cmake -S . -B build-bf16 -DCMAKE_BUILD_TYPE=Release -DDOCLING_BUILD_BENCH=ON >/dev/null
  T="test_kernels_bf16 test_model_kernels test_model_oracle bench_gemm_bench bench_bf16_peak"
  cmake --build build-bf16 -j2 --target $T
  rm -rf $D && mkdir -p $D/lib
  for t in $T; do cp build-bf16/tests/$t $D/ 2>/dev/null || cp build-bf16/bench/$t $D/; done
  for t in $T; do ldd $D/$t; done | awk '/=> \// {print $3}' | sort -u |
    grep -v -E '/(libc|libm|libgcc_s|libstdc\+\+|ld-linux[^/]*)\.so' | xargs -I{} cp -L {} $D/lib/
  du -sh $D
  exit 0
fi

[ "${1:-}" = run ] || [ "${1:-}" = peaks ] || { echo "usage: $0 prepare|run|peaks"; exit 2; }
OUT=${OUT:-/tmp/bf16-out}
mkdir -p "$OUT"
export LD_LIBRARY_PATH=$PWD/$D/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
# The tests read DOCLING_TEST_DATA=/work/main/tests/data (compiled in).
[ -e /work/main/tests/data ] || { mkdir -p /work && ln -sfn "$PWD" /work/main; }
lscpu | grep -E "Model name|^CPU\(s\)|Thread\(s\) per core|Core\(s\) per socket|L2 cache|L3 cache"
grep -m4 -E "^(cpu family|model|stepping|cpu MHz)" /proc/cpuinfo | tr '\n' ' '; echo
echo "flags: $(grep -o -w -E 'avx512f|avx512_bf16|avx512_vnni|amx_bf16|amx_tile' /proc/cpuinfo | sort | uniq -c | tr '\n' ' ')"

t0=$(date +%s)
if [ "$1" = peaks ]; then  # instruction peaks by thread count, and the vision shapes once more
  for t in 1 2 8 16; do timeout 60 $D/bench_bf16_peak --threads $t; done
  for t in 1 16; do
    for v in 1 0; do
      echo "=== vision shapes, $t threads, DOCLING_BF16_DOT=$v"
      DOCLING_BF16_DOT=$v timeout 100 $D/bench_gemm_bench --no-libs --threads $t --only vision 2>&1 | grep -E "^vision"
    done
  done
  echo "done in $(($(date +%s) - t0)) s"
  exit 0
fi
LOG=$OUT/tests.log
run_test() {  # run_test 1|0|- PROGRAM: summary lines here, whole log appended to $LOG
  echo "=== $2 DOCLING_BF16_DOT=$1" | tee -a "$LOG"
  local tmp=/tmp/bf16-test.log
  if [ "$1" = - ]; then timeout 150 "$D/$2" >$tmp 2>&1; else DOCLING_BF16_DOT=$1 timeout 150 "$D/$2" >$tmp 2>&1; fi
  echo "exit $? ($(($(date +%s) - t0)) s)"
  cat $tmp >>"$LOG"
  grep -E '^\[  (PASSED|FAILED|SKIPPED) |Failure$|actual:|avx512-bf16:|portable:|differ' $tmp | head -40
}
run_test - test_kernels_bf16
run_test - test_model_kernels
run_test - test_model_oracle

for t in 16 2; do
  echo "=== peaks, $t threads"
  timeout 60 $D/bench_bf16_peak --threads $t
  for v in 1 0; do
    echo "=== bench_gemm_bench --no-libs --threads $t DOCLING_BF16_DOT=$v ($(($(date +%s) - t0)) s)"
    for only in vision prefill; do
      DOCLING_BF16_DOT=$v timeout 100 $D/bench_gemm_bench --no-libs --threads $t --only "$only" 2>&1
    done | tee "$OUT/gemm_t${t}_bf16-$v.log" | grep -v -E '^(threads|shape)|at the end'
  done
done
echo "done in $(($(date +%s) - t0)) s"
