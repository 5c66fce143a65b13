#!/usr/bin/env bash
# Fills .carry/ (git-ignored) with what scripts/device-check.sh needs on a GPU machine that has CUDA but no
# Node: this machine's node binary (xz -9), node's N-API headers, and the node_modules that vitest needs
# (its dependency closure only: the whole node_modules is far over the 64 MiB a device call may carry).
#
#   scripts/prepare-device-carry.sh        then run the device with carry: [".carry"]
#
# Environment: CARRY_EXTRA_PACKAGES="a b" adds packages (and their dependencies) to the node_modules subset.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
carry="$root/.carry"
die() { echo "prepare-device-carry: $*" >&2; exit 1; }
step() { echo "prepare-device-carry: $*"; }

command -v node >/dev/null || die "node not found on PATH"
command -v xz >/dev/null || die "xz not found (apt-get install xz-utils)"
git check-ignore -q .carry/ || die ".carry/ is not git-ignored: add '.carry/' to .gitignore first, or it would travel twice"
[ -d node_modules/vitest ] || die "node_modules/vitest missing: run npm ci here first"
mkdir -p "$carry"

# 1. node: recompressed only when the binary changed (xz -9 of ~99 MB takes about a minute).
node_bin="$(readlink -f "$(command -v node)")"
stamp="$(node --version) $(stat -c '%s %Y' "$node_bin")"
if [ -f "$carry/node.xz" ] && [ "$(cat "$carry/node.stamp" 2>/dev/null)" = "$stamp" ]; then
  step "node.xz is current ($(node --version))"
else
  step "compressing $node_bin ($(node --version), $(($(stat -c %s "$node_bin") / 1048576)) MiB) with xz -9 ..."
  xz -9 -T0 -c "$node_bin" > "$carry/node.xz.tmp"
  mv "$carry/node.xz.tmp" "$carry/node.xz"
  echo "$stamp" > "$carry/node.stamp"
fi
# The device checks glibc against this.
ldd --version | head -1 > "$carry/node.glibc"

# 2. N-API headers: node_api.h and what it includes (not the 54 MB of V8/OpenSSL beside them).
node_include="${NODE_INCLUDE:-/usr/include/node}"
[ -f "$node_include/node_api.h" ] || die "node_api.h not found in $node_include (set NODE_INCLUDE)"
rm -rf "$carry/node-include"
mkdir -p "$carry/node-include"
for h in node_api.h node_api_types.h js_native_api.h js_native_api_types.h; do
  cp "$node_include/$h" "$carry/node-include/$h"
done
step "copied N-API headers from $node_include"

# 3. node_modules: vitest's dependency closure (plus CARRY_EXTRA_PACKAGES), as one tar.xz.
list="$(node --input-type=module -e '
import { readFileSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
const root = process.cwd();
const seen = new Set();
const resolve = (name, from) => {
  for (let d = from; ; d = dirname(d)) {
    const p = join(d, "node_modules", name);
    if (existsSync(join(p, "package.json"))) return p;
    if (dirname(d) === d) return null;
  }
};
const walk = (dir) => {
  if (!dir || seen.has(dir)) return;
  seen.add(dir);
  const pj = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  for (const n of Object.keys({ ...pj.dependencies, ...pj.optionalDependencies, ...pj.peerDependencies })) walk(resolve(n, dir));
};
for (const name of ["vitest", ...process.argv.slice(1)]) {
  const p = resolve(name, root);
  if (!p) { console.error("missing package " + name); process.exit(1); }
  walk(p);
}
console.log([...seen].map((d) => d.slice(root.length + 1)).sort().join("\n"));
' ${CARRY_EXTRA_PACKAGES:-})"
count="$(echo "$list" | wc -l)"
echo "$list" | tar -cJf "$carry/node_modules.tar.xz.tmp" -T -
mv "$carry/node_modules.tar.xz.tmp" "$carry/node_modules.tar.xz"
step "packed $count packages into node_modules.tar.xz"

# 4. Will it fit? The device takes tracked + untracked-not-ignored files + carried paths, 64 MiB in all.
tree_bytes="$( (git ls-files -z --cached --others --exclude-standard | xargs -0 -r stat -c %s 2>/dev/null || true) | awk '{s += $1} END {print s + 0}')"
carry_bytes="$(du -sb "$carry" | cut -f1)"
total=$((tree_bytes + carry_bytes))
step "working tree $((tree_bytes / 1048576)) MiB + .carry $((carry_bytes / 1048576)) MiB = $((total / 1048576)) MiB (limit 64 MiB)"
ls -la "$carry"
[ "$total" -lt $((64 * 1048576)) ] || die "over the 64 MiB a device call may carry"
step "ready: run the device with command 'bash scripts/device-check.sh' and carry [\".carry\"]"
