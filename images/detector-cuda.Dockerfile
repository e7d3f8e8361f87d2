# cameo-detector, CUDA variant: the CPU image's content with ONNX Runtime's CUDA build
# (the onnxruntime-gpu wheel) and the CUDA and cuDNN runtime libraries from NVIDIA's PyPI
# wheels, on the same Debian base (no CUDA base image). The node brings the driver: the
# NVIDIA container toolkit of EKS's AL2023 NVIDIA AMI mounts it. `--device cuda` fails
# loudly where there is no GPU.
#
#   docker build -f images/detector-cuda.Dockerfile .     from source, anywhere
#   make images                                            here, from host-built binaries
#                                                          (stage `host`, context `stage`: hack/images)
ARG RUST_IMAGE=rust:1.95-bookworm
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${RUST_IMAGE} AS builder
ENV CAMEO_CACHE=/cache CARGO_TARGET_DIR=/cache/target
WORKDIR /src
COPY . .
# setup.sh installs FFmpeg's headers, then prepares ONNX Runtime and the models in a venv.
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends python3-venv && rm -rf /var/lib/apt/lists/*
RUN hack/setup.sh \
    && cargo build --release --locked -p cameo-detector --features cloud,cuda \
    && hack/images stage detector-cuda /stage

FROM ${BASE_IMAGE} AS runtime
# Debian's point releases bring the security fixes, so packages follow the release
# rather than a pinned version.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libavcodec59 libavformat59 libavutil57 libswscale6 \
    && apt-get clean && rm -rf /var/lib/apt/lists/*
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="cameo-detector-cuda" \
      org.opencontainers.image.description="Finds who appears when in a video (NVIDIA GPUs, CUDA 13)" \
      org.opencontainers.image.source="https://github.com/cameo-dev/cameo" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0 AND MIT AND LGPL-2.1-or-later AND LicenseRef-NVIDIA-CUDA"
# The container toolkit mounts the driver's compute libraries only when asked to.
# Everything the detector writes goes under /tmp (an emptyDir in its pods).
ENV ORT_DYLIB_PATH=/opt/cameo/lib/libonnxruntime.so \
    LD_LIBRARY_PATH=/opt/cameo/lib \
    CAMEO_MODELS_DIR=/opt/cameo/models \
    CAMEO_CACHE_DIR=/tmp/cameo/embeddings \
    HOME=/tmp \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/cameo-detector"]

FROM runtime AS host
# `stage` is a build context (buildah --build-context stage=DIR), not a stage: the
# folder hack/images lays out with exactly what the image adds, in place.
# hadolint ignore=DL3022,DL3067
COPY --from=stage / /
RUN sha256sum --strict --check /opt/cameo/models/SHA256SUMS

FROM runtime AS source
COPY --from=builder /stage/ /
RUN sha256sum --strict --check /opt/cameo/models/SHA256SUMS
