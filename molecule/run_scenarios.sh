#!/usr/bin/env bash
# Every Molecule scenario, MOLECULE_JOBS at a time (default 3; each boots a sandbox of its
# own), the slowest first. One log per scenario under build/molecule/; prints each result
# and the tail of every failed scenario's log; exits 1 when any failed. Needs root.
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=${MOLECULE_JOBS:-3}
logs=build/molecule
mkdir -p "$logs"
slowest_first=(provision_bare fleet fleet_trixie)
scenarios=("${slowest_first[@]}")
for file in molecule/*/molecule.yml; do
  name=$(basename "$(dirname "$file")")
  [[ " ${slowest_first[*]} " == *" $name "* ]] || scenarios+=("$name")
done
run_one() {
  local started=$SECONDS
  if molecule -c molecule/shared/base.yml test -s "$1" >"build/molecule/$1.log" 2>&1; then
    echo "PASS $1 ($((SECONDS - started)) s)"
  else
    echo "FAIL $1 ($((SECONDS - started)) s): build/molecule/$1.log"
  fi
}
export -f run_one
printf '%s\n' "${scenarios[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one {}' | tee "$logs/summary.txt"
failed=0
while read -r verdict name _; do
  [[ $verdict == FAIL ]] || continue
  failed=1
  echo "=== $name: the last 80 lines of build/molecule/$name.log"
  tail -n 80 "$logs/$name.log"
done <"$logs/summary.txt"
exit "$failed"
