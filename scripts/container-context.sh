#!/usr/bin/env bash
# Stages the build context of ./Containerfile in DIR (default build/container): DIR/app holds bin/,
# dist/, proto/, templates/, package.json and the production dependencies copied from node_modules
# (the lock file names them; nothing is downloaded), with onnxruntime-node's binaries for
# linux-x64 only. Run `npm run build` first, or pass --build.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=build/container
BUILD=0
for arg in "$@"; do
  case "$arg" in
    --build) BUILD=1 ;;
    -*) echo "container-context.sh: unknown flag $arg" >&2; exit 2 ;;
    *) OUT=$arg ;;
  esac
done
if [ "$BUILD" = 1 ]; then npm run build --silent; fi
[ -f dist/cli.js ] || { echo "container-context.sh: dist/ is missing; run npm run build (or pass --build)" >&2; exit 1; }
[ -d node_modules ] && [ -f package-lock.json ] || { echo "container-context.sh: node_modules/ is missing; run npm ci" >&2; exit 1; }

APP="$OUT/app"
rm -rf "$OUT"
mkdir -p "$APP/node_modules"
cp -r bin dist proto templates package.json "$APP/"
# Production packages only, each at its place in the tree (nested copies included): every lock file
# entry not marked dev that is installed (optional packages of other platforms are not).
node -e '
  const lock = JSON.parse(require("fs").readFileSync("package-lock.json", "utf8"));
  for (const [key, entry] of Object.entries(lock.packages ?? {}))
    if (key.startsWith("node_modules/") && !entry.dev && !entry.devOptional && require("fs").existsSync(key)) console.log(key);
' | while read -r rel; do
  mkdir -p "$APP/$(dirname "$rel")"
  # -L: node_modules may be a link to a shared checkout; the image needs the files themselves. A nested
  # package lands inside its parent's copy, which already brought it along: skip it then.
  [ -e "$APP/$rel" ] || cp -rL "$rel" "$APP/$rel"
done
# onnxruntime-node ships binaries for every platform; the image runs linux-x64 on the CPU.
ORT="$APP/node_modules/onnxruntime-node/bin"
if [ -d "$ORT" ]; then
  find "$ORT" -mindepth 2 -maxdepth 2 -type d ! -name linux -exec rm -rf {} +
  find "$ORT" -mindepth 3 -maxdepth 3 -type d ! -name x64 -exec rm -rf {} +
  find "$ORT" -name 'libonnxruntime_providers_*' -delete
fi
# nested node_modules/.bin links and caches are not needed at run time
find "$APP/node_modules" -name .bin -prune -exec rm -rf {} + 2>/dev/null || true
echo "staged $(du -sh "$APP" | cut -f1) in $OUT (build with: podman build -f Containerfile $OUT)"
