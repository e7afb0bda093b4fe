# syntax=docker/dockerfile:1.7
#
# GPU backend image: Node 22 + onnxruntime-node with the CUDA 12 execution provider on CUDA 12.8 + cuDNN 9.
# Build context is the repository root (see docs/deployment.md):
#   docker build -f infra/docker/gpu-backend.Dockerfile -t <registry>/image-api/gpu-backend:<version> .
# BuildKit reads the ignore rules from gpu-backend.Dockerfile.dockerignore next to this file.

# Runtime base: NVIDIA's CUDA 12.8.1 runtime image with cuDNN 9 ("-cudnn-" tags carry cuDNN 9 from CUDA 12.4 on).
# onnxruntime-node 1.30's CUDA EP is built for CUDA 12.x + cuDNN 9.x; CUDA minor-version compatibility lets it
# run on any 12.x runtime. Pin by digest in CI: --build-arg CUDA_IMAGE=nvidia/cuda@sha256:<digest>.
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04
# Same Ubuntu release as the runtime base, so the Node binary and npm's prebuilt addons see the same glibc.
ARG BUILD_IMAGE=ubuntu:22.04
# The Node release the repository pins (devDependency "node") and tests with.
ARG NODE_VERSION=22.23.3

# ---------------------------------------------------------------------------------------------------------
# Node from the official tarball, checked against the release's SHASUMS256.txt.
FROM ${BUILD_IMAGE} AS node-dist
ARG NODE_VERSION
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl xz-utils \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /tmp/node
RUN curl -fsSLO "https://nodejs.org/dist/v${NODE_VERSION}/node-v${NODE_VERSION}-linux-x64.tar.xz" \
 && curl -fsSLO "https://nodejs.org/dist/v${NODE_VERSION}/SHASUMS256.txt" \
 && grep " node-v${NODE_VERSION}-linux-x64.tar.xz\$" SHASUMS256.txt | sha256sum -c - \
 && mkdir -p /opt/node \
 && tar -xJf "node-v${NODE_VERSION}-linux-x64.tar.xz" -C /opt/node --strip-components=1 --no-same-owner \
 && rm -rf /opt/node/include /opt/node/share \
 && /opt/node/bin/node --version

# ---------------------------------------------------------------------------------------------------------
# Bundle the backend's TypeScript (gpu-backend/src + shared) into one ESM file. Needs the dev tools
# (esbuild, tsx), so this stage installs everything; install scripts are skipped (nothing here needs them).
FROM ${BUILD_IMAGE} AS build
COPY --from=node-dist /opt/node /opt/node
ENV PATH=/opt/node/bin:$PATH
WORKDIR /src
# npm workspaces: the lockfile covers every workspace, so npm ci needs each workspace's manifest.
COPY package.json package-lock.json ./
COPY shared/package.json ./shared/
COPY edge/package.json ./edge/
COPY gpu-backend/package.json ./gpu-backend/
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY shared ./shared
COPY gpu-backend/src ./gpu-backend/src
COPY infra/docker ./infra/docker
RUN node --import tsx infra/docker/bundle-backend.ts /out/gpu-backend.mjs

# ---------------------------------------------------------------------------------------------------------
# Production dependencies only, plus onnxruntime-node's CUDA 12 provider libraries from NuGet.
FROM ${BUILD_IMAGE} AS prod-deps
COPY --from=node-dist /opt/node /opt/node
ENV PATH=/opt/node/bin:$PATH
WORKDIR /app
COPY package.json package-lock.json ./
COPY shared/package.json ./shared/
COPY edge/package.json ./edge/
COPY gpu-backend/package.json ./gpu-backend/
# -w: the backend workspace's production dependencies only (none of the edge's, none of the tools').
# The workspace links under node_modules/@image-api are dropped: the bundle already holds that code.
# --ignore-scripts: the only install script that matters is onnxruntime-node's, run explicitly below so a
# failed download fails the build (npm's install-script policy may otherwise skip it).
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund -w @image-api/gpu-backend \
 && rm -rf node_modules/@image-api
# ONNXRUNTIME_NODE_INSTALL_CUDA=v12 forces the linux/x64 "cuda12" manifest (script/install-utils.js);
# the script downloads Microsoft.ML.OnnxRuntime.Gpu.Linux <same version> and extracts the provider .so files.
RUN ONNXRUNTIME_NODE_INSTALL_CUDA=v12 node node_modules/onnxruntime-node/script/install.js \
 && for lib in libonnxruntime_providers_cuda.so libonnxruntime_providers_shared.so; do \
      test -s "node_modules/onnxruntime-node/bin/napi-v6/linux/x64/${lib}" || { echo "missing ${lib}" >&2; exit 1; }; \
    done \
 && rm -rf node_modules/onnxruntime-node/bin/napi-v6/win32 node_modules/onnxruntime-node/bin/napi-v6/darwin \
           node_modules/onnxruntime-node/bin/napi-v6/linux/arm64

# ---------------------------------------------------------------------------------------------------------
FROM ${CUDA_IMAGE} AS runtime
# tini as PID 1: forwards SIGTERM to node (graceful drain) and reaps probe processes.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin app \
 && mkdir -p /models \
 && chown app:app /models
COPY --from=node-dist /opt/node /opt/node
WORKDIR /app
# Code and dependencies stay owned by root and read-only for the service user.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /out/ ./dist/
COPY infra/docker/health-probe.mjs ./dist/health-probe.mjs
# Writable paths the service may need under a read-only root filesystem: only /tmp (an emptyDir in k8s).
ENV PATH=/opt/node/bin:$PATH \
    NODE_ENV=production \
    HOME=/tmp \
    CUDA_CACHE_PATH=/tmp/cuda-cache \
    PORT=8790 \
    MODEL_DIR=/models \
    EXECUTION_PROVIDERS=cuda
VOLUME ["/models"]
USER 10001:10001
EXPOSE 8790
HEALTHCHECK --interval=15s --timeout=5s --start-period=600s --retries=3 \
  CMD ["node", "/app/dist/health-probe.mjs", "live"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--enable-source-maps", "/app/dist/gpu-backend.mjs"]
