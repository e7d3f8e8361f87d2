# cameo-ingest: S3 upload events to VideoJobs, and VideoJob states to the results table.
#
#   docker build -f images/ingest.Dockerfile .        from source, anywhere
#   make images                                        here, from host-built binaries
#                                                      (stage `host`, context `stage`: hack/images)
ARG RUST_IMAGE=rust:1.95-bookworm
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${RUST_IMAGE} AS builder
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p cameo-ingest \
    && hack/images stage ingest /stage

FROM ${BASE_IMAGE} AS runtime
# Debian's point releases bring the security fixes, so packages follow the release
# rather than a pinned version.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && apt-get clean && rm -rf /var/lib/apt/lists/*
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="cameo-ingest" \
      org.opencontainers.image.description="Turns cameo uploads into VideoJobs and their states into the results table" \
      org.opencontainers.image.source="https://github.com/cameo-dev/cameo" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0"
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/cameo-ingest"]

FROM runtime AS host
# `stage` is a build context (buildah --build-context stage=DIR), not a stage: the
# folder hack/images lays out with exactly what the image adds, in place.
# hadolint ignore=DL3022,DL3067
COPY --from=stage / /

FROM runtime AS source
COPY --from=builder /stage/ /
