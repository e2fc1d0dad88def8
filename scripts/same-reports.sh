#!/usr/bin/env bash
# Byte-identity check for refactors: runs every scenario in scenarios/ and scripts/identity/
# in virtual time at BASE (a commit) and in the working tree, and compares the JSON reports
# byte for byte. A refactor that changes no behaviour must print "identical" for every file.
#
#   scripts/same-reports.sh BASE [--skip NAME ...]     e.g. scripts/same-reports.sh main~3
#
# Scenario files are always taken from the working tree, so both sides run the same input.
# Scenarios are run with --mode sim (a udp scenario is timed by the wall clock and cannot be
# identical); runs a scenario itself puts in another mode are left out of the comparison.
# Reports are kept in $OUT (default /tmp/same-reports) for diffing.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
base=${1:?usage: same-reports.sh BASE [--skip NAME ...]}
shift
skip=()
while [ $# -gt 0 ]; do
  case "$1" in
    --skip) skip+=("$2"); shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
out=${OUT:-/tmp/same-reports}
rm -rf "$out" && mkdir -p "$out/base" "$out/head"

wt=$(mktemp -d /tmp/same-reports-base.XXXXXX)
git -C "$top" worktree add -q --detach "$wt" "$base" || exit 2
trap 'git -C "$top" worktree remove --force "$wt" >/dev/null 2>&1' EXIT
ln -s "$top/node_modules" "$wt/node_modules"

files=()
for f in "$top"/scenarios/*.yaml "$top"/scripts/identity/*.yaml; do
  name=$(basename "$f" .yaml)
  for s in "${skip[@]+"${skip[@]}"}"; do [ "$s" = "$name" ] && continue 2; done
  files+=("$f")
done

# keeps the runs the scenario made in sim (a run may carry its own `mode`)
normalise() {
  node -e '
    const fs = require("fs");
    const r = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    r.runs = r.runs.filter((x) => x.mode === undefined || x.mode === "sim");
    fs.writeFileSync(process.argv[1], JSON.stringify(r, null, 1));
  ' "$1"
}

run_one() { # tree side file
  local name; name=$(basename "$3" .yaml)
  (cd "$1" && node bin/ina.js run "$3" --mode sim --quiet --json "$out/$2/$name.json" >"$out/$2/$name.txt" 2>&1)
  echo $? >"$out/$2/$name.rc"
  [ -s "$out/$2/$name.json" ] && normalise "$out/$2/$name.json"
}

status=0
for f in "${files[@]}"; do
  name=$(basename "$f" .yaml)
  run_one "$wt" base "$f" &
  run_one "$top" head "$f" &
  wait
  if [ ! -s "$out/base/$name.json" ] || [ ! -s "$out/head/$name.json" ]; then
    echo "$name: NO REPORT (base exit $(cat "$out/base/$name.rc"), head exit $(cat "$out/head/$name.rc"); see $out)"
    status=1
  elif cmp -s "$out/base/$name.json" "$out/head/$name.json"; then
    echo "$name: identical"
  else
    echo "$name: DIFFERENT (diff $out/base/$name.json $out/head/$name.json)"
    status=1
  fi
done
exit $status
