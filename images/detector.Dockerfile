# cameo-detector (CPU): video from S3 -> who appears when, written to S3 and DynamoDB.
# It carries FFmpeg's runtime libraries, ONNX Runtime from the pinned PyPI wheel, and
# the two prepared face models (sha256 checked at build), with their licences in /licenses.
#
#   docker build -f images/detector.Dockerfile .      from source, anywhere
#   make images                                        here, from host-built binaries
#                                                      (stage `host`, context `stage`: hack/images)
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
    && cargo build --release --locked -p cameo-detector --features cloud \
    && hack/images stage detector /stage

FROM ${BASE_IMAGE} AS runtime
# Debian's point releases bring the security fixes, so packages follow the release
# rather than a pinned version.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libavcodec59 libavformat59 libavutil57 libswscale6 \
    && apt-get clean && rm -rf /var/lib/apt/lists/*
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="cameo-detector" \
      org.opencontainers.image.description="Finds who appears when in a video (CPU)" \
      org.opencontainers.image.source="https://github.com/cameo-dev/cameo" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0 AND MIT AND LGPL-2.1-or-later"
# Everything the detector writes (gallery embeddings, scratch) goes under /tmp, an
# emptyDir in its pods, so the root filesystem stays read-only.
ENV ORT_DYLIB_PATH=/opt/cameo/lib/libonnxruntime.so \
    CAMEO_MODELS_DIR=/opt/cameo/models \
    CAMEO_CACHE_DIR=/tmp/cameo/embeddings \
    HOME=/tmp
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
