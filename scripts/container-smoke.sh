#!/usr/bin/env bash
# Builds the ofserve image offline and runs it the ways Triton's image is run:
#   (a) the seed's `docker run … -v repo:/models IMAGE tritonserver --model-store /models`
#   (b) KServe's `tritonserver --model-store=/mnt/models --grpc-port=9000 --http-port=8080 --allow-grpc=true
#       --allow-http=true`, the repository at /mnt/models
# each time checking /v2/health/ready, one classification over HTTP and one over gRPC (the host's
# `ofserve classify` against the container's ports) and the metrics endpoint. Records the image size and
# the time to ready in bench/results/container.json. Cleans up its images and containers.
#
# Offline: the base is Debian minbase from the mirror apt already uses (mmdebstrap, or debootstrap) with
# this machine's own `node` copied in, imported with `podman import`; no registry is contacted. When podman
# or mmdebstrap/debootstrap are missing and we are root, they are installed with apt-get.
# Where the machine cannot run containers at all, the script says so and still builds the image.
#
# Env: OFSERVE_CONTAINER_CACHE (default .cache/container) keeps the base rootfs tarball between runs;
# OFSERVE_CONTAINER_RESULTS (default bench/results/container.json) is where the numbers go.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
IMAGE=localhost/ofserve:smoke
BASE_IMAGE=localhost/ofserve-base:smoke
RESULTS=${OFSERVE_CONTAINER_RESULTS:-bench/results/container.json}
READY_TIMEOUT_S=${OFSERVE_READY_TIMEOUT_S:-600}
log() { echo "[container-smoke] $*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# podman run on this kind of host: raising rlimits is not permitted, cgroups are hybrid (so none for the
# container), and only the host network works. --read-only as deploy/kubernetes runs it
# (readOnlyRootFilesystem; podman mounts a tmpfs on /tmp as the Deployment's emptyDir does).
RUN_OPTS=(--network host --cgroups=disabled --ulimit nofile=20000:20000 --ulimit nproc=4096:4096 --read-only)

# ── the part that runs containers: inside `unshare -m` after umounting the cgroup2 tree ─────────────
if [ "${1:-}" = "--inside-unshare" ]; then
  WORK=$2
  if mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then umount /sys/fs/cgroup/unified; fi
  cleanup_containers() { podman rm -f -t 5 ofserve-smoke-seed ofserve-smoke-kserve >/dev/null 2>&1 || true; }
  trap cleanup_containers EXIT
  if ! probe=$(podman run --rm "${RUN_OPTS[@]}" "$IMAGE" --version 2>&1); then
    log "this machine cannot run containers: ${probe//$'\n'/ }"
    exit 10
  fi
  log "image runs: ofserve $probe"

  scenario() {
    local name=$1 mount=$2 http=$3 grpc=$4 metrics=$5
    shift 5
    log "($name) podman run … $IMAGE $*"
    local t0 cid
    t0=$(now)
    cid=$(podman run -d "${RUN_OPTS[@]}" --name "ofserve-smoke-$name" -v "$WORK/models:$mount:ro" "$IMAGE" "$@")
    local deadline=$((SECONDS + READY_TIMEOUT_S))
    until curl -sf -o /dev/null "http://127.0.0.1:$http/v2/health/ready"; do
      if [ "$(podman inspect -f '{{.State.Running}}' "$cid" 2>/dev/null)" != "true" ] || [ $SECONDS -ge $deadline ]; then
        log "($name) not ready; container log:"
        podman logs "$cid" >&2 || true
        return 1
      fi
      sleep 0.5
    done
    local ready
    ready=$(elapsed "$t0")
    log "($name) ready after ${ready}s"

    node bin/ofserve.js classify templates/images/red.png -m color_classifier -u "http://127.0.0.1:$http" --json >"$WORK/$name-http.json"
    local label
    label=$(node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(r.images[0].predictions[0].label)' "$WORK/$name-http.json")
    [ "$label" = red ] || { log "($name) HTTP classification of red.png gave '$label', expected 'red'"; return 1; }
    log "($name) HTTP classify red.png → $label"

    node bin/ofserve.js classify templates/images/cat.jpg -m resnet50_oneflow -i grpc -u "127.0.0.1:$grpc" --top 3 --json >"$WORK/$name-grpc.json"
    local count
    count=$(node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(r.images[0].predictions.length)' "$WORK/$name-grpc.json")
    [ "$count" = 3 ] || { log "($name) gRPC classification gave $count classes, expected 3"; return 1; }
    log "($name) gRPC classify cat.jpg with resnet50_oneflow → 3 classes"

    curl -sf "http://127.0.0.1:$metrics/metrics" >"$WORK/$name-metrics.txt"
    for model in color_classifier resnet50_oneflow; do
      grep -q "^nv_inference_request_success{model=\"$model\",version=\"1\"} 1\$" "$WORK/$name-metrics.txt" || {
        log "($name) metrics lack nv_inference_request_success 1 for $model:"
        grep nv_inference_request_success "$WORK/$name-metrics.txt" >&2 || true
        return 1
      }
    done
    log "($name) metrics count one success per model"
    podman stop -t 30 "$cid" >/dev/null
    podman rm -f "$cid" >/dev/null
    echo "$name $ready" >>"$WORK/ready.txt"
  }

  # (a) the seed's command line; non-default host ports because the host network is shared
  scenario seed /models 18000 18001 18002 \
    tritonserver --model-store /models --http-port 18000 --grpc-port 18001 --metrics-port 18002
  # (b) KServe's exact arguments (metrics moved off 8002 for the shared host network)
  scenario kserve /mnt/models 8080 9000 18082 \
    tritonserver --model-store=/mnt/models --grpc-port=9000 --http-port=8080 --allow-grpc=true --allow-http=true --metrics-port=18082
  exit 0
fi

# ── tools ─────────────────────────────────────────────────────────────────────────────────────────
need=()
command -v podman >/dev/null || need+=(podman)
command -v mmdebstrap >/dev/null || command -v debootstrap >/dev/null || need+=(mmdebstrap)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing ${need[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq "${need[@]}" >/dev/null || { apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; }
  else
    log "needs ${need[*]} (apt-get install ${need[*]} as root)"
    exit 1
  fi
fi

WORK=$(mktemp -d /tmp/ofserve-container.XXXXXX)
cleanup() {
  podman rmi -f "$IMAGE" "$BASE_IMAGE" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
T_ALL=$(now)

# ── base image: Debian minbase + this machine's node ───────────────────────────────────────────────
suite=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
suite=${suite:-bookworm}
mirror=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
[ -n "$mirror" ] || mirror=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
mirror=${mirror:-http://deb.debian.org/debian}
node_bin=$(readlink -f "$(command -v node)")
node_version=$(node --version)
CACHE=${OFSERVE_CONTAINER_CACHE:-$REPO/.cache/container}
mkdir -p "$CACHE"
base_tar="$CACHE/base-$suite-minbase.tar"
t0=$(now)
if [ ! -s "$base_tar" ]; then
  log "making a $suite minbase rootfs from $mirror (cached in $base_tar)"
  if command -v mmdebstrap >/dev/null; then
    mmdebstrap --quiet --variant=minbase --format=tar \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
      --dpkgopt='path-exclude=/usr/share/info/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
      "$suite" "$base_tar.part.tar" "$mirror"
  else
    debootstrap --variant=minbase "$suite" "$WORK/rootfs" "$mirror" >/dev/null
    rm -rf "$WORK/rootfs/var/cache/apt/archives"/*.deb "$WORK/rootfs/var/lib/apt/lists"/*
    tar -C "$WORK/rootfs" -cf "$base_tar.part.tar" .
    rm -rf "$WORK/rootfs"
  fi
  mv "$base_tar.part.tar" "$base_tar"
fi
# node goes in at import time, so the cached rootfs serves any node version
mkdir -p "$WORK/node/usr/local/bin"
cp "$node_bin" "$WORK/node/usr/local/bin/node"
cp "$base_tar" "$WORK/base.tar"
tar -C "$WORK/node" -rf "$WORK/base.tar" ./usr/local/bin/node
podman import --quiet --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  "$WORK/base.tar" "$BASE_IMAGE" >/dev/null
rm -f "$WORK/base.tar"
base_s=$(elapsed "$t0")
base_size=$(podman image inspect --format '{{.Size}}' "$BASE_IMAGE")
log "base image $BASE_IMAGE: $((base_size / 1000000)) MB with node $node_version (${base_s}s)"

# ── the image ───────────────────────────────────────────────────────────────────────────────────────
t0=$(now)
scripts/container-context.sh --build "$WORK/context" >&2
podman build --quiet --isolation chroot --network host -f Containerfile --build-arg "BASE=$BASE_IMAGE" -t "$IMAGE" "$WORK/context" >/dev/null
build_s=$(elapsed "$t0")
image_size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
log "image $IMAGE: $((image_size / 1000000)) MB (context + build ${build_s}s)"
rm -rf "$WORK/context"

# ── run it ──────────────────────────────────────────────────────────────────────────────────────────
node bin/ofserve.js init --example -o "$WORK/models" --json >/dev/null
chmod -R a+rX "$WORK"
ran=true
rc=0
export IMAGE READY_TIMEOUT_S
unshare -m --propagation private bash "$0" --inside-unshare "$WORK" || rc=$?
if [ $rc = 10 ]; then
  ran=false
elif [ $rc != 0 ]; then
  log "FAILED (exit $rc)"
  exit $rc
fi

seed_ready=$(awk '$1 == "seed" { print $2 }' "$WORK/ready.txt" 2>/dev/null || true)
kserve_ready=$(awk '$1 == "kserve" { print $2 }' "$WORK/ready.txt" 2>/dev/null || true)
total_s=$(elapsed "$T_ALL")
mkdir -p "$(dirname "$RESULTS")"
node -e '
  const [ran, imageSize, baseSize, baseS, buildS, seed, kserve, total, nodeVersion, suite] = process.argv.slice(1);
  const num = (s) => (s === "" ? null : Number(s));
  const result = {
    what: "scripts/container-smoke.sh: offline image build, then the seed and KServe command lines",
    date: new Date().toISOString(),
    machine: `${require("os").cpus().length} cores, ${require("os").platform()} ${require("os").release()}`,
    base: `debian ${suite} minbase + node ${nodeVersion}`,
    image_size_bytes: Number(imageSize),
    base_size_bytes: Number(baseSize),
    base_seconds: num(baseS),
    build_seconds: num(buildS),
    containers_ran: ran === "true",
    time_to_ready_seconds: { seed_command_line: num(seed), kserve_command_line: num(kserve) },
    total_seconds: num(total),
  };
  require("fs").writeFileSync(process.argv[11], JSON.stringify(result, null, 2) + "\n");
' "$ran" "$image_size" "$base_size" "$base_s" "$build_s" "${seed_ready:-}" "${kserve_ready:-}" "$total_s" "$node_version" "$suite" "$RESULTS"
if [ "$ran" = true ]; then
  log "OK: image $((image_size / 1000000)) MB; ready in ${seed_ready}s (seed) and ${kserve_ready}s (KServe); ${total_s}s in all → $RESULTS"
else
  log "image built ($((image_size / 1000000)) MB) but not run: this machine cannot run containers → $RESULTS"
fi
