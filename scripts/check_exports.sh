#!/usr/bin/env bash
# Fails when libdocling.so exports a symbol outside its public API. The API is what the headers in
# include/docling/ mark DOCLING_API: classes (`class DOCLING_API Engine`) and functions
# (`DOCLING_API const char* version();`), and the C API's functions marked DOCLING_C_API. Accepted:
#   - docling::F(...) for a marked function F; docling::C::... for a marked class C (members,
#     constructors), except its private docling::C::Impl; typeinfo / typeinfo name / vtable of C;
#   - the C functions declared DOCLING_C_API (by name: C has no namespaces).
# Nothing else: not internal docling:: code, not third-party names, and not instantiations of
# standard-library templates (std::vector<std::string>::_M_realloc_insert, ...), which visibility
# alone leaves exported (namespace std has default visibility; GCC does not hide enum types, so
# std::vector<an internal enum> too): cmake/libdocling.map keeps them local, and this check says
# whether it still does.
# Usage: check_exports.sh LIB.so HEADER_DIR | --self-test
set -euo pipefail

# Names marked DOCLING_API in the headers: "class NAME" and "func NAME" lines.
api_names() {
  find "$1" -maxdepth 1 \( -name '*.h' -o -name '*.hpp' \) -exec cat {} + |
    sed -n -e 's/^[[:space:]]*\(class\|struct\)[[:space:]]\+DOCLING_API[[:space:]]\+\([A-Za-z_][A-Za-z0-9_]*\).*/class \2/p' \
           -e '/^[[:space:]]*DOCLING_\(C_\)\{0,1\}API[[:space:]]/{s/(.*//;s/.*[^A-Za-z0-9_]\([A-Za-z_][A-Za-z0-9_]*\)[[:space:]]*$/func \1/p}' |
    sort -u
}

# Reads "TYPE MANGLED<TAB>DEMANGLED" lines; prints the rejected ones, a summary, returns 1 if any.
judge() {
  local names=$1
  awk -F'\t' '
    FNR == NR { if ($0 ~ /^class /) cls[substr($0, 7)] = 1; else fn[substr($0, 6)] = 1; next }
    {
      split($1, a, " "); type = a[1]; mangled = a[2]; name = $2; ok = 0
      if (mangled !~ /^_Z/) ok = (mangled in fn)
      else {
        n = name
        sub(/^(typeinfo name for|typeinfo for|vtable for|VTT for) /, "", n)
        if (n ~ /^docling::/) {
          rest = substr(n, 10); id = rest; sub(/[^A-Za-z0-9_].*/, "", id)
          after = substr(rest, length(id) + 1)
          if (id in fn && after ~ /^\(/) ok = 1
          if (id in cls && (after == "" || after ~ /^::/) && after !~ /^::Impl([^A-Za-z0-9_]|$)/) ok = 1
        }
      }
      if (ok) api++
      else {
        bad++; print "  not API: " type " " name
        if (name ~ /::Impl::/ && !hint++) print "    (a nested Impl takes its class'"'"'s visibility: define it as `struct DOCLING_HIDDEN C::Impl`)"
      }
    }
    END {
      printf "%d API symbols, %d others\n", api, bad
      exit bad > 0
    }' "$names" -
}

check_lib() {
  local lib=$1 hdr=$2 names
  names=$(mktemp); trap 'rm -f "$names"' RETURN
  api_names "$hdr" > "$names"
  [[ -s $names ]] || { echo "no DOCLING_API names found in $hdr"; return 1; }
  echo "$lib:"
  nm -D --defined-only "$lib" | awk 'NF == 3 { print $2 " " $3 }' |
    while IFS= read -r line; do printf '%s\t%s\n' "$line" "$(c++filt -- "${line#* }")"; done | judge "$names"
}

self_test() {
  local t; t=$(mktemp -d); trap 'rm -rf "$t"' RETURN
  mkdir -p "$t/include"
  cat > "$t/include/api.hpp" <<'H'
class DOCLING_API Engine {
DOCLING_API const char* version();  // comment
DOCLING_C_API docling_status docling_engine_new(const docling_engine_options* o,
H
  api_names "$t/include" > "$t/names"
  printf '%s\n' 'T _ZN7docling6Engine7convertEv' 'T _ZN7docling7versionEv' 'V _ZTIN7docling6EngineE' \
    'T docling_engine_new' \
    > "$t/good"
  local line
  with_names() { while IFS= read -r line; do printf '%s\t%s\n' "$line" "$(c++filt -- "${line#* }")"; done; }
  with_names < "$t/good" | judge "$t/names" >/dev/null || { echo "self-test: the API was rejected"; return 1; }
  for bad in 'T _ZN7docling6vision7DecoderC1Ev' 'T _ZN7docling6Engine4Impl3runEv' 'T _ZN7docling8versionsEv' \
             'T _ZNSt6vectorIiSaIiEE9push_backERKi' 'T poppler_thing' 'T docling_internal_helper' 'W _ZN3tbb6detail2d14taskD2Ev' \
             'u _ZZNSt19_Sp_make_shared_tag5_S_tiEvE5__tag' 'W _ZNSt6vectorIN7docling3TagESaIS1_EE12emplace_backIJS1_EEERS1_DpOT_' \
             'W _ZNSt6vectorIN7docling6EngineESaIS1_EE12emplace_backIJS1_EEERS1_DpOT_'; do
    if (cat "$t/good"; echo "$bad") | with_names | judge "$t/names" >/dev/null; then
      echo "self-test: accepted $bad"; return 1
    fi
  done
  echo "self-test passed"
}

if [[ ${1:-} == --self-test ]]; then self_test; else check_lib "$1" "$2"; fi
