#!/bin/bash
# Device check of the model at the AVX-512 level (the device host is a Xeon; this machine is
# AVX2 only): the model's kernel, oracle, batching and int8 tests.
# The device image lacks the project's libraries, so programs are built here and carried:
#   here:      bash .notes/device_check.sh prepare    # fills build/dev (git-ignored)
#   run tool:  command "bash .notes/device_check.sh run", carry ["build/dev"], timeout_s 420
set -u
D=build/dev
T="test_model_kernels test_model_oracle test_batch_decode test_model_int8 test_kernels_bf16"
if [ "${1:-}" = prepare ]; then
  set -e
  cmake --build build -j2 --target $T
  rm -rf $D && mkdir -p $D/lib
  for t in $T; do cp build/tests/$t $D/; done
  for t in $D/test_*; do ldd $t; done | awk '/=> \// {print $3}' | sort -u |
    grep -v -E '/(libc|libm|libgcc_s|libstdc\+\+|ld-linux[^/]*)\.so' | xargs -I{} cp -L {} $D/lib/
  du -sh $D
  exit 0
fi
[ "${1:-}" = run ] || { echo "usage: $0 prepare|run"; exit 2; }
export LD_LIBRARY_PATH=$PWD/$D/lib
[ -e /work/main/tests/data ] || { mkdir -p /work && ln -sfn "$PWD" /work/main; }
lscpu | grep -E "Model name|^CPU\(s\)"
echo "flags: $(grep -o -w -E 'avx512f|avx512_bf16|avx512_vnni|amx_bf16|f16c' /proc/cpuinfo | sort | uniq -c | tr '\n' ' ')"
for t in $T; do
  echo "=== $t"
  timeout 150 $D/$t 2>&1 | grep -E '^\[  (PASSED|FAILED|SKIPPED) |Failure$|actual:|^f16 KV|logits' | head -20
done
