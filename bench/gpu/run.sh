#!/usr/bin/env bash
# Runs `bench deepcache` from the bundle made by bench/gpu/pack.sh, on a GPU machine (or on CPU for a dry run).
#   PROVIDER   cuda | webgpu | cpu   (default: cuda when the CUDA EP libraries are in the bundle, else webgpu)
#   BENCH_ARGS extra arguments (default "--size 512": 512², 50 PLMS steps); e.g. "--quick --size 256"
#   WORK       where the synthetic model (3.4 GB, built once, ~1.5 min) and results go (default /tmp/bench-gpu-work)
#   OUT        if set, results and the log are copied there
# CUDA 12 runtime libraries (cudart, cuBLAS, cuDNN 9, cuFFT, cuRAND) are taken from PyTorch's pip wheels
# (site-packages/nvidia/*/lib) when present, else from the system library path.
set -euo pipefail
B="$(cd "$(dirname "$0")" && pwd)"
BIN="$B/node_modules/onnxruntime-node/bin/napi-v6/linux/x64"
WORK="${WORK:-/tmp/bench-gpu-work}"
mkdir -p "$WORK/models" "$WORK/results"
if [ -z "${PROVIDER:-}" ]; then
  if [ -f "$BIN/libonnxruntime_providers_cuda.so" ]; then PROVIDER=cuda; else PROVIDER=webgpu; fi
fi
if [ "$PROVIDER" = cuda ]; then
  PY="$(command -v python3 || command -v python || true)"
  if [ -n "$PY" ]; then
    NV="$("$PY" -c 'import nvidia, os; print(os.path.dirname(nvidia.__path__[0]) if hasattr(nvidia, "__path__") else "")' 2>/dev/null || true)"
    if [ -n "$NV" ]; then
      for d in "$NV"/nvidia/*/lib; do LD_LIBRARY_PATH="$d:${LD_LIBRARY_PATH:-}"; done
      export LD_LIBRARY_PATH
    fi
  fi
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$WORK/results/gpu.txt" || true
export PROVIDER BENCH_MODEL_ROOT="$WORK/models" BENCH_RESULTS_DIR="$WORK/results" BENCH_CLIP_BPE="$B/clip/bpe_simple_vocab_16e6.txt.gz"
echo "provider $PROVIDER, args ${BENCH_ARGS:---size 512}" >&2
# shellcheck disable=SC2086
"$B/node" "$B/bench/bench.mjs" deepcache --provider "$PROVIDER" ${BENCH_ARGS:---size 512} 2>&1 | tee "$WORK/results/deepcache-$PROVIDER.log"
if [ -n "${OUT:-}" ]; then cp -r "$WORK/results/." "$OUT/"; fi
