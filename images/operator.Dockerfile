# cameo-operator: reconciles VideoJobs into detector Jobs (talks to the Kubernetes API only).
#
#   docker build -f images/operator.Dockerfile .      from source, anywhere
#   make images                                        here, from host-built binaries
#                                                      (stage `host`, context `stage`: hack/images)
ARG RUST_IMAGE=rust:1.95-bookworm
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${RUST_IMAGE} AS builder
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p cameo-operator \
    && hack/images stage operator /stage

FROM ${BASE_IMAGE} AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="cameo-operator" \
      org.opencontainers.image.description="Runs cameo VideoJobs as Kubernetes Jobs on GPU nodes" \
      org.opencontainers.image.source="https://github.com/cameo-dev/cameo" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0"
# The chart's numeric user; the root filesystem stays read-only (nothing is written).
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/cameo-operator"]

FROM runtime AS host
# `stage` is a build context (buildah --build-context stage=DIR), not a stage: the
# folder hack/images lays out with exactly what the image adds, in place.
# hadolint ignore=DL3022,DL3067
COPY --from=stage / /

FROM runtime AS source
COPY --from=builder /stage/ /
