#!/usr/bin/env bash
# Applies .clang-format to the C++ sources (*.hpp, *.cpp) under include/ src/ tools/ test/ bench/
# examples/. With --check, changes nothing: lists the files that are not formatted and exits 1.
#
#   scripts/format.sh            # reformat in place
#   scripts/format.sh --check    # CI
#
# CLANG_FORMAT selects the binary (default: clang-format). Lines between `// clang-format off` and
# `// clang-format on` are left alone (hand-aligned tables).
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
case ${1:-} in
  --check) check=1 ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

clang_format=${CLANG_FORMAT:-clang-format}
command -v "$clang_format" > /dev/null || { echo "format: $clang_format not found (apt-get install clang-format)" >&2; exit 2; }

dirs=()
for d in include src tools test bench examples; do [[ -d $d ]] && dirs+=("$d"); done
mapfile -d '' files < <(find "${dirs[@]}" -type f \( -name '*.hpp' -o -name '*.cpp' \) -print0 | sort -z)
((${#files[@]})) || exit 0

if ((check)); then
  bad=()
  for f in "${files[@]}"; do
    "$clang_format" --style=file --dry-run --Werror "$f" > /dev/null 2>&1 || bad+=("$f")
  done
  if ((${#bad[@]})); then
    echo "format: ${#bad[@]} of ${#files[@]} files need scripts/format.sh:" >&2
    printf '  %s\n' "${bad[@]}" >&2
    exit 1
  fi
  echo "format: ${#files[@]} files formatted"
else
  "$clang_format" --style=file -i "${files[@]}"
  echo "format: formatted ${#files[@]} files"
fi
