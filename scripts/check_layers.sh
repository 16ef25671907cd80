#!/usr/bin/env bash
# Fails when a source file includes a header from a higher layer. Data flows one way:
#   core < kernels < layout < vision < doctags < exporters < pipeline < cli
# include/docling/ (the public API) includes only itself and system headers, and the CLI
# includes only the public API. Usage: check_layers.sh [ROOT] | --self-test
set -euo pipefail

layers=(core kernels layout vision doctags exporters pipeline cli)
rank() {
  local i
  for i in "${!layers[@]}"; do [[ ${layers[$i]} == "$1" ]] && { echo "$i"; return; }; done
  echo -1
}

check() {
  local root=$1 bad=0 file dir inc target r_dir r_inc
  while IFS= read -r file; do
    dir=${file#"$root"/}; dir=${dir%%/*}
    r_dir=$(rank "$dir")
    while IFS= read -r inc; do
      target=${inc%%/*}
      r_inc=$(rank "$target")  # -1: the public API, or a system header like <sys/stat.h>
      if [[ $dir == include ]] && (( r_inc >= 0 )); then
        echo "$file: the public API includes \"$inc\""; bad=1; continue
      fi
      if [[ $dir == cli ]] && (( r_inc >= 0 )); then
        echo "$file: the CLI includes \"$inc\" (it may use include/docling/ only)"; bad=1; continue
      fi
      if (( r_dir >= 0 && r_inc > r_dir )); then
        echo "$file: $dir/ includes \"$inc\" from a higher layer ($target/)"; bad=1
      fi
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]\([a-z_]*\/[^">]*\)[">].*/\1/p' "$file")
  done < <(for d in include "${layers[@]}"; do
             [[ -d $root/$d ]] && find "$root/$d" \( -name '*.h' -o -name '*.hpp' -o -name '*.cpp' \)
           done | sort)
  return $bad
}

self_test() {
  local t; t=$(mktemp -d); trap 'rm -rf "$t"' RETURN
  mkdir -p "$t/core" "$t/layout" "$t/cli" "$t/include/docling"
  echo '#include "core/a.h"' > "$t/layout/ok.cpp"
  printf '#include <sys/stat.h>\n#include "docling/docling.hpp"\n' > "$t/cli/ok.cpp"
  check "$t" >/dev/null || { echo "self-test: a downward include was rejected"; return 1; }
  echo '#include "layout/b.h"' > "$t/core/up.cpp"
  if check "$t" >/dev/null; then echo "self-test: an upward include passed"; return 1; fi
  rm "$t/core/up.cpp"; echo '#include "pipeline/x.h"' > "$t/cli/main.cpp"
  if check "$t" >/dev/null; then echo "self-test: the CLI reached past the public API"; return 1; fi
  rm "$t/cli/main.cpp"; echo '#include "core/document.h"' > "$t/include/docling/api.hpp"
  if check "$t" >/dev/null; then echo "self-test: a public header included an internal one"; return 1; fi
  echo "self-test passed"
}

if [[ ${1:-} == --self-test ]]; then self_test; else check "$(cd "${1:-$(dirname "$0")/..}" && pwd)" && echo "layers: no upward includes"; fi
