#!/usr/bin/env bash
# WebGPU check for a machine with an NVIDIA GPU (the `device` tool's
# nvidia-h200), in one run of under 8 minutes:
#
#   1. sets up what it needs: the Vulkan loader (.gl/*.deb, carried), the
#      NVIDIA ICD when the loader finds none, Deno (.tools/deno.xz, carried,
#      when there is no deno on PATH) and the npm packages
#      (.tools/deno_dir.tar.xz, carried: nothing can be downloaded there);
#   2. runs the WebGPU parity test of p2p's kernels against the cpu backend
#      (backend/kernels/webgpu_conv_grads_test.ts);
#   3. runs the bench's WebGPU rows (stock and p2p kernels) at 256² and 128²,
#      with PyTorch CUDA side by side when python3 has torch with CUDA;
#   4. writes everything under $OUT (table_small.md, table_full.md, parity.log,
#      bench_*.log, env.txt).
#
# Prepare here (on the machine without the GPU), once:
#   bench/device_check.sh --pack
# which writes .tools/deno.xz and .tools/deno_dir.tar.xz and downloads the
# Vulkan loader packages into .gl/ (both folders are git-ignored); then call
# the device tool with carry [".tools", ".gl"] and the command
#   bash bench/device_check.sh
#
# `bash bench/device_check.sh --tiny` runs the same steps with one timed run
# at 128² only (an end-to-end check, e.g. on llvmpipe).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-$ROOT/out/device_check}
mkdir -p "$OUT"
TINY=0

pack() {
  mkdir -p .tools .gl
  local deno_bin
  deno_bin=$(command -v deno || true)
  [ -n "$deno_bin" ] || deno_bin=$(npx -y deno@2.9.6 eval 'console.log(Deno.execPath())')
  [ -s .tools/deno.xz ] || xz -T0 -6 -c "$deno_bin" >.tools/deno.xz
  # The npm packages the lockfile names, without source maps, minified
  # bundles and types (the device run skips type checking).
  local cache=${DENO_DIR:-$HOME/.cache/deno}
  local list
  list=$(python3 - <<'EOF'
import json
lock = json.load(open("deno.lock"))
for key in lock["npm"]:
    name, _, rest = key[1:].partition("@") if key.startswith("@") else key.partition("@")
    name = ("@" + name) if key.startswith("@") else name
    print(f"npm/registry.npmjs.org/{name}/{rest.split('_')[0]}")
    print(f"npm/registry.npmjs.org/{name}/registry.json")
EOF
  )
  # shellcheck disable=SC2086
  (cd "$cache" && tar --ignore-failed-read -cf - \
    --exclude='*.map' --exclude='*.min.js' --exclude='*.html' \
    --exclude='*.es2017.js' --exclude='*.fesm.js' --exclude='miniprogram' \
    --exclude='*.d.ts' --exclude='*.tsbuildinfo' \
    $list 2>/dev/null) | xz -T0 -6 >.tools/deno_dir.tar.xz
  if ! ls .gl/*.deb >/dev/null 2>&1; then
    mkdir -p /tmp/amd64/partial
    local o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
    # shellcheck disable=SC2086
    apt-get $o update >/dev/null && (cd .gl && apt-get $o download libvulkan1)
  fi
  du -sh .tools/* .gl
}

case "${1:-}" in
--pack)
  pack
  exit
  ;;
--tiny) TINY=1 ;;
esac

log() { echo "device_check: $*" | tee -a "$OUT/env.txt"; }
START=$(date +%s)
: >"$OUT/env.txt"

# 1. Set-up.
if ls .gl/*.deb >/dev/null 2>&1 && ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] &&
  ! ls /usr/share/vulkan/icd.d/nvidia* /etc/vulkan/icd.d/nvidia* >/dev/null 2>&1; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
DENO=$(command -v deno || true)
if [ -z "$DENO" ]; then
  if [ -s .tools/deno.xz ]; then
    xz -dc .tools/deno.xz >/tmp/deno && chmod +x /tmp/deno && DENO=/tmp/deno
  else
    DENO="npx -y deno@2.9.6"
  fi
fi
FLAGS=""
if [ -s .tools/deno_dir.tar.xz ] && [ ! -d /tmp/p2p_deno_dir/npm ]; then
  mkdir -p /tmp/p2p_deno_dir && xz -dc .tools/deno_dir.tar.xz | tar -xf - -C /tmp/p2p_deno_dir
fi
if [ -d /tmp/p2p_deno_dir/npm ]; then
  export DENO_DIR=/tmp/p2p_deno_dir
  FLAGS="--cached-only --no-check"
fi
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
log "deno: $($DENO --version | head -1); DENO_DIR=${DENO_DIR:-default}"
log "GPU: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || echo 'no nvidia-smi')"
log "Vulkan loader: $(ldconfig -p 2>/dev/null | grep -m1 'libvulkan\.so\.1' || echo none); VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}"
PROBE='import { probeGpu } from "./backend/select_backend.ts";
const p = await probeGpu();
console.log(p.adapter ? p.description + (p.software ? " (software)" : "") : "none: " + p.description);'
# shellcheck disable=SC2086
log "WebGPU adapter: $(timeout 60 $DENO eval $FLAGS --ext=ts "$PROBE" 2>/dev/null | tail -1)"

# 2. Parity of p2p's WebGPU kernels with the cpu backend.
timeout 150 $DENO test -A $FLAGS backend/kernels/webgpu_conv_grads_test.ts 2>&1 |
  tee "$OUT/parity.log" | tail -5
log "parity test exit: ${PIPESTATUS[0]}"

# 3. The bench's WebGPU rows, PyTorch CUDA beside them when there is one.
TORCH="--no-torch"
export P2P_PYTHON=${P2P_PYTHON:-$(command -v python3 || echo /usr/bin/python3)}
if "$P2P_PYTHON" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  TORCH="--torch-device cuda"
fi
log "PyTorch: $("$P2P_PYTHON" -c 'import torch; print(torch.__version__, torch.cuda.is_available())' 2>&1 | tail -1) ($P2P_PYTHON)"
# One bench run a configuration, 128² first, so that a slow 256² run cannot
# take the 128² table with it when the time limit stops it.
if [ "$TINY" = 1 ]; then
  RUNS="small"
  ARGS="--webgpu-steps 1 --steps 1 --warmup 0"
else
  RUNS="small full"
  ARGS="--webgpu-steps 5 --steps 5 --warmup 2"
fi
for cfg in $RUNS; do
  left=$((460 - ($(date +%s) - START)))
  [ "$cfg" = small ] && [ "$RUNS" != small ] && left=$((left / 2))
  if [ "$left" -lt 30 ]; then
    log "bench $cfg skipped: ${left}s left"
    continue
  fi
  # shellcheck disable=SC2086
  timeout "$left" $DENO run -A $FLAGS bench/bench.ts --config none --threads none \
    --webgpu "$cfg" $ARGS $TORCH >"$OUT/table_$cfg.md" 2>"$OUT/bench_$cfg.log"
  log "bench $cfg exit: $? (limit ${left}s)"
  cat "$OUT/table_$cfg.md"
done
log "done in $(($(date +%s) - START)) s"
