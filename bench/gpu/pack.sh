#!/usr/bin/env bash
# Builds the self-contained bundle that runs `bench deepcache` on a GPU machine without internet or Node:
#   <out>/node                       Node 22 binary (from node_modules/node)
#   <out>/bench/bench.mjs            bench/main.ts bundled by esbuild (onnxruntime-node and sharp left external)
#   <out>/node_modules/onnxruntime-node, onnxruntime-common   (linux/x64 binaries only)
#   <out>/node_modules/sharp, @img/*, detect-libc, semver (sharp's runtime deps)
#   <out>/clip/bpe_simple_vocab_16e6.txt.gz                    CLIP merges (the synthetic model's tokenizer)
#   <out>/run.sh                     the runner (bench/gpu/run.sh)
# CUDA: onnxruntime-node does not ship the CUDA EP; put libonnxruntime_providers_{cuda,shared}.so of
# Microsoft.ML.OnnxRuntime.Gpu.Linux 1.30.0 in CUDA_EP_DIR (or run this where `npm`'s install script can reach
# nuget.org: it then fetches them into the bundle). Without them run.sh uses the WebGPU provider (Vulkan).
# Usage: bench/gpu/pack.sh [out-dir]   (default .cache/bench-gpu; then tar it: tar -C .cache -cf bench-gpu.tar bench-gpu)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${1:-$ROOT/.cache/bench-gpu}"
rm -rf "$OUT" && mkdir -p "$OUT/bench" "$OUT/node_modules/@img" "$OUT/clip"
cd "$ROOT"
cp node_modules/node/bin/node "$OUT/node"
npx esbuild bench/main.ts --bundle --platform=node --format=esm --target=node22 \
  --external:onnxruntime-node --external:sharp \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
  --outfile="$OUT/bench/bench.mjs" --log-level=warning
for m in onnxruntime-common sharp detect-libc semver; do cp -r "node_modules/$m" "$OUT/node_modules/"; done
mkdir -p "$OUT/node_modules/onnxruntime-node/bin/napi-v6/linux"
cp -r node_modules/onnxruntime-node/{dist,lib,script,package.json} "$OUT/node_modules/onnxruntime-node/"
cp -r node_modules/onnxruntime-node/bin/napi-v6/linux/x64 "$OUT/node_modules/onnxruntime-node/bin/napi-v6/linux/"
cp -r node_modules/@img/sharp-linux-x64 node_modules/@img/sharp-libvips-linux-x64 "$OUT/node_modules/@img/"
[ -d node_modules/@img/colour ] && cp -r node_modules/@img/colour "$OUT/node_modules/@img/"
cp gpu-backend/src/tokenizer/vocab/bpe_simple_vocab_16e6.txt.gz "$OUT/clip/"
cp bench/gpu/run.sh "$OUT/run.sh"
BIN="$OUT/node_modules/onnxruntime-node/bin/napi-v6/linux/x64"
if [ -n "${CUDA_EP_DIR:-}" ]; then
  cp "$CUDA_EP_DIR"/libonnxruntime_providers_{cuda,shared}.so "$BIN/"
elif [ "${FETCH_CUDA_EP:-0}" = 1 ]; then
  (cd "$OUT/node_modules/onnxruntime-node" && ONNXRUNTIME_NODE_INSTALL=cuda12 "$OUT/node" script/install.js) \
    || echo "pack: could not fetch the CUDA EP (no network?); run.sh will use WebGPU" >&2
fi
ls "$BIN"
du -sh "$OUT"
