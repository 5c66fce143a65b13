#!/usr/bin/env bash
# Builds the native GPU addon: native/src/*.cc with g++ and native/src/*.cu with nvcc, linked by nvcc into
# one shared object with the CUDA runtime static (the target needs only the NVIDIA driver) and N-API symbols
# left undefined (node provides them when it loads the addon). cuDNN and cuBLAS are not linked: the addon
# dlopens them at run time.
#
#   scripts/build-native.sh [--out DIR]     default DIR: native/build/Release
#
# Environment: NODE_INCLUDE (default /usr/include/node; must hold node_api.h), CUDA_HOME (default: from
# `which nvcc`), NVCC_GENCODE (default: sm_90 machine code + compute_80 PTX), CXX (default g++),
# OFSERVE_NATIVE_DEBUG=1 for -O0 -g.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/native/build/Release"
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "build-native: unknown argument $1" >&2; exit 2 ;;
  esac
done

die() { echo "build-native: $*" >&2; exit 1; }

command -v nvcc >/dev/null 2>&1 || die "nvcc not found on PATH (install the CUDA toolkit, or add /usr/local/cuda/bin to PATH)"
# nvcc may be a wrapper script on PATH; ask nvcc itself where its toolkit is.
cuda_top="$(nvcc --dryrun -c -x cu /dev/null -o /dev/null 2>&1 | sed -n 's/^#\$ TOP=//p' | head -1)"
cuda_home="${CUDA_HOME:-$(cd "${cuda_top:-$(dirname "$(readlink -f "$(command -v nvcc)")")/..}" && pwd)}"
node_include="${NODE_INCLUDE:-/usr/include/node}"
[ -f "$node_include/node_api.h" ] || die "node_api.h not found in $node_include (set NODE_INCLUDE to node's include/node directory)"
[ -f "$cuda_home/include/cuda_runtime.h" ] || die "cuda_runtime.h not found in $cuda_home/include (set CUDA_HOME)"
cxx="${CXX:-g++}"
command -v "$cxx" >/dev/null 2>&1 || die "C++ compiler $cxx not found"
gencode="${NVCC_GENCODE:--gencode arch=compute_90,code=sm_90 -gencode arch=compute_80,code=compute_80}"
if [ "${OFSERVE_NATIVE_DEBUG:-0}" = "1" ]; then opt="-O0 -g"; else opt="-O2"; fi

src="$root/native/src"
obj="$out/obj"
mkdir -p "$obj"
echo "build-native: nvcc $(nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p'), $cxx $($cxx -dumpversion), node headers $node_include -> $out"

common=(-std=c++17 $opt -fPIC -fvisibility=hidden -fvisibility-inlines-hidden -Wall -Wextra -Wno-unused-parameter -I"$cuda_home/include" -I"$node_include")
pids=()
for f in "$src"/*.cc; do
  o="$obj/$(basename "${f%.cc}").o"
  "$cxx" "${common[@]}" -c "$f" -o "$o" &
  pids+=($!)
done
# shellcheck disable=SC2086
nvcc -std=c++17 $opt $gencode -Xcompiler -fPIC,-fvisibility=hidden -I"$node_include" -c "$src/kernels.cu" -o "$obj/kernels.o" &
pids+=($!)
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=1; done
[ "$failed" = 0 ] || die "compilation failed (see the errors above)"

# shellcheck disable=SC2086
nvcc -shared $gencode -cudart static -o "$out/ofserve_native.node" "$obj"/*.o -ldl -lpthread -lrt
echo "build-native: wrote $out/ofserve_native.node ($(stat -c %s "$out/ofserve_native.node") bytes)"
