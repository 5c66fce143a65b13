#!/usr/bin/env bash
# One device run of the native GPU backend, from a bare GPU machine with CUDA and a PyTorch venv but no
# Node: unpack the carried node and node_modules, find cuDNN and cuBLAS, build the addon, run the plain
# smoke test, run the GPU tests (which also time batch 1 and 8), and leave logs and numbers in $OUT.
#
# Here, first:  scripts/prepare-device-carry.sh
# Then the device tool:  command "bash scripts/device-check.sh", carry [".carry"]
#
# Files written to $OUT (at most 8, the device tool's limit): device-check.log (everything), build.log,
# smoke.log, vitest.log, gpu-report.jsonl (one JSON line per check/timing), nvidia-smi.txt, env.txt.
# Exit status: 0 only when the build, the smoke test and the GPU tests all passed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
OUT="${OUT:-$root/device-out}"
mkdir -p "$OUT"
exec > >(tee -a "$OUT/device-check.log") 2>&1

t0=$(date +%s)
step() { echo; echo "=== [$(( $(date +%s) - t0 ))s] $*"; }
die() { echo "device-check: FATAL: $*"; exit 1; }
carry="$root/.carry"

step "0. machine"
uname -a
(nvidia-smi 2>&1 || echo "nvidia-smi failed") | tee "$OUT/nvidia-smi.txt"
ls -l /dev/nvidia* 2>/dev/null || echo "warning: no /dev/nvidia* device nodes"
ldd --version | head -1
[ -f "$carry/node.glibc" ] && echo "node was built against: $(cat "$carry/node.glibc")"

step "1. prerequisites carried in .carry/ (made by scripts/prepare-device-carry.sh)"
[ -d "$carry" ] || die ".carry/ is missing: run scripts/prepare-device-carry.sh here and pass carry [\".carry\"]"
for f in node.xz node-include/node_api.h node-include/js_native_api.h node_modules.tar.xz; do
  [ -f "$carry/$f" ] || die ".carry/$f is missing: rerun scripts/prepare-device-carry.sh"
done
ls -la "$carry"

step "2. node"
command -v xz >/dev/null || die "xz is not installed on this machine (needed to unpack .carry/node.xz)"
nodedir=/tmp/ofs-node/bin
mkdir -p "$nodedir"
xz -dc "$carry/node.xz" > "$nodedir/node"
chmod +x "$nodedir/node"
export PATH="$nodedir:$PATH"
node --version || die "the carried node does not run here (glibc or architecture mismatch?)"

step "3. node_modules (vitest's closure)"
if [ -d node_modules/vitest ]; then
  echo "node_modules/vitest already present; not unpacking"
else
  tar -xJf "$carry/node_modules.tar.xz"
fi
[ -f node_modules/vitest/vitest.mjs ] || die "node_modules/vitest/vitest.mjs missing after unpacking"
du -sh node_modules

step "4. CUDA toolkit"
if ! command -v nvcc >/dev/null; then
  for d in /usr/local/cuda/bin /usr/local/cuda-13.0/bin /usr/local/cuda-*/bin; do
    if [ -x "$d/nvcc" ]; then export PATH="$d:$PATH"; break; fi
  done
fi
command -v nvcc >/dev/null || die "nvcc not found (looked on PATH and in /usr/local/cuda*/bin)"
nvcc --version | tail -2
command -v g++ >/dev/null || die "g++ not found"

step "5. cuDNN 9 and cuBLAS libraries"
libdirs=()
for py in python3 /opt/torch/.venv/bin/python3; do
  if command -v "$py" >/dev/null 2>&1; then
    # nvidia is a namespace package (no __file__): use its __path__.
    mapfile -t nv < <("$py" -c 'import nvidia; print("\n".join(nvidia.__path__))' 2>/dev/null || true)
    for d in "${nv[@]:-}"; do [ -n "$d" ] && [ -d "$d" ] && libdirs+=("$d"); done
    [ ${#libdirs[@]} -gt 0 ] && { echo "nvidia packages via $py: ${libdirs[*]}"; break; }
  fi
done
find_lib() {  # $1 = glob; prints the first directory holding it
  local hit=""
  if [ ${#libdirs[@]} -gt 0 ]; then hit="$(find "${libdirs[@]}" -name "$1" 2>/dev/null | head -1)"; fi
  if [ -z "$hit" ]; then
    echo "  ($1 not under the nvidia packages; searching / ...)" >&2
    hit="$(timeout 120 find / -xdev \( -path /proc -o -path /sys \) -prune -o -name "$1" -print 2>/dev/null | head -1 || true)"
  fi
  [ -n "$hit" ] && dirname "$hit"
}
if [ -n "${OFSERVE_CUDA_LIBS:-}" ]; then
  echo "using the given OFSERVE_CUDA_LIBS=$OFSERVE_CUDA_LIBS (no search)"
else
  cudnn_dir="$(find_lib 'libcudnn.so.9' || true)"
  cublas_dir="$(find_lib 'libcublas.so.13' || true)"
  [ -n "$cublas_dir" ] || cublas_dir="$(find_lib 'libcublas.so.12' || true)"
  [ -n "$cudnn_dir" ] || die "libcudnn.so.9 not found on this machine (set OFSERVE_CUDA_LIBS to its directory)"
  [ -n "$cublas_dir" ] || die "libcublas.so.13 / .12 not found on this machine (set OFSERVE_CUDA_LIBS to its directory)"
  echo "cuDNN:  $cudnn_dir"; ls "$cudnn_dir" | grep -E '^libcudnn' | head -20
  echo "cuBLAS: $cublas_dir"; ls "$cublas_dir" | grep -E '^libcublas' | head -5
  export OFSERVE_CUDA_LIBS="$cudnn_dir:$cublas_dir"
fi
# Their own dependencies (cublasLt, nvrtc for cuDNN's runtime-compiled engines) may sit in sibling dirs.
extra=""
if [ ${#libdirs[@]} -gt 0 ]; then
  for d in "${libdirs[@]}"; do
    for l in "$d"/*/lib; do [ -d "$l" ] && extra="$extra:$l"; done
  done
fi
export LD_LIBRARY_PATH="$OFSERVE_CUDA_LIBS$extra${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
{
  echo "OFSERVE_CUDA_LIBS=$OFSERVE_CUDA_LIBS"
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  echo "PATH=$PATH"
  echo "node $(node --version)"
  nvcc --version | tail -1
} | tee "$OUT/env.txt"

status=0
step "6. build the addon"
if NODE_INCLUDE="$carry/node-include" bash scripts/build-native.sh 2>&1 | tee "$OUT/build.log"; then
  echo "build: OK"
else
  die "the addon did not build (see build.log)"
fi

step "7. smoke test (plain node, no node_modules)"
if node native/test/smoke.mjs 2>&1 | tee "$OUT/smoke.log"; then
  echo "smoke: passed"
else
  echo "smoke: FAILED"
  status=1
fi

step "8. GPU tests with vitest (correctness against CPU references, then timings)"
: > "$OUT/gpu-report.jsonl"
if OFSERVE_GPU=1 OFSERVE_GPU_REPORT="$OUT/gpu-report.jsonl" \
  node node_modules/vitest/vitest.mjs run test/gpu --reporter=verbose 2>&1 | tee "$OUT/vitest.log"; then
  echo "vitest: passed"
else
  echo "vitest: FAILED"
  status=1
fi

step "9. summary"
node -e '
const fs = require("fs");
const lines = fs.readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
for (const r of lines) {
  if (r.medianMs !== undefined) console.log(`${r.what.padEnd(34)} batch ${String(r.batch).padStart(2)}  median ${r.medianMs.toFixed(2).padStart(8)} ms  min ${r.minMs.toFixed(2).padStart(8)} ms  ${r.imagesPerSecond.toFixed(0).padStart(6)} img/s`);
  else if (r.relativeError !== undefined) console.log(`${(r.check + (r.batch ? " batch " + r.batch : "")).padEnd(34)} relative error ${r.relativeError.toExponential(2)}`);
  else console.log(JSON.stringify(r));
}' "$OUT/gpu-report.jsonl" || true
grep -E "Tests +[0-9]|Test Files" "$OUT/vitest.log" || true
echo "device-check: $([ $status = 0 ] && echo PASSED || echo FAILED) in $(( $(date +%s) - t0 ))s"
exit $status
