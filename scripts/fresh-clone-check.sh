#!/usr/bin/env bash
# A new user's first hour, checked: clone this checkout's HEAD (commits only) into a temporary folder that
# holds nothing else, so `..` is empty, then run the README's "Two commands on a fresh machine" there,
# exactly as the README spells them, with none of onnxruntime-node's install settings from this shell.
# Catches tests or code that read outside the clone and anything needed but not committed.
#
#   scripts/fresh-clone-check.sh            (.ci/run calls it after npm test)
#
# KEEP=1 keeps the temporary folder for a look after a failure. Exit status: the first failing command's.
set -euo pipefail

src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/ofserve-fresh.XXXXXX")"
if [ "${KEEP:-0}" = "1" ]; then
  trap 'echo "fresh-clone-check: kept $tmp"' EXIT
else
  trap 'rm -rf "$tmp"' EXIT
fi
say() { echo "fresh-clone-check: $*"; }

# The README's fresh-machine commands: the first sh block under its heading, comments dropped.
mapfile -t commands < <(awk '
  /^## Two commands on a fresh machine/ { section = 1; next }
  section && /^## / { exit }
  section && /^```sh/ { block = 1; next }
  block && /^```/ { exit }
  block { sub(/[[:space:]]+#.*$/, ""); if ($0 != "") print }
' "$src/README.md")
[ "${#commands[@]}" -ge 2 ] || { say "README.md has no 'Two commands on a fresh machine' sh block with two commands"; exit 1; }

if [ -n "$(git -C "$src" status --porcelain --untracked-files=no)" ]; then
  say "note: uncommitted changes in $src are not part of the check (it clones HEAD)"
fi
head="$(git -C "$src" rev-parse HEAD)"
clone="$tmp/home/ofserve"
mkdir -p "$tmp/home"
git clone --quiet --no-checkout "$src" "$clone"
git -C "$clone" fetch --quiet "$src" "$head"
git -C "$clone" checkout --quiet --detach "$head"
say "clone of $head in $clone (its parent holds nothing else)"

# A user's shell has none of the settings CI or this checkout's npm may have exported.
unset ONNXRUNTIME_NODE_INSTALL ONNXRUNTIME_NODE_INSTALL_CUDA npm_config_onnxruntime_node_install npm_config_onnxruntime_node_install_cuda
while IFS= read -r var; do unset "$var"; done < <(env | sed -n 's/^\(npm_[A-Za-z0-9_]*\)=.*/\1/p')

cd "$clone"
for cmd in "${commands[@]}"; do
  say "\$ $cmd"
  started=$SECONDS
  bash -c "$cmd"
  say "ok in $((SECONDS - started)) s: $cmd"
done
if [ -n "$(ls -A "$tmp/home" | grep -vx ofserve)" ]; then
  say "something was written beside the clone: $(ls -A "$tmp/home" | tr '\n' ' ')"
  exit 1
fi
say "passed"
