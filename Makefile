# cameo: `make demo` and `make test` work on a fresh machine; both run `make setup` first.
# Everything built or downloaded lives outside the clone, under $(CAMEO_CACHE).

CAMEO_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/cameo
export CAMEO_CACHE
export CARGO_TARGET_DIR ?= $(CAMEO_CACHE)/target
export ORT_DYLIB_PATH ?= $(CAMEO_CACHE)/lib/libonnxruntime.so
export CAMEO_MODELS_DIR ?= $(CAMEO_CACHE)/models
export CAMEO_TESTDATA ?= $(CAMEO_CACHE)/testdata
export CAMEO_S3S_FS ?= $(CAMEO_CACHE)/bin/s3s-fs

PYTHON := $(CAMEO_CACHE)/venv/bin/python
DETECTOR := $(CARGO_TARGET_DIR)/release/cameo-detector
OUT := out

.PHONY: setup test-tools testdata demo test lint bench cpu-paths schema crds lambda deploy images push test-images

## setup: Debian packages, Python venv (ONNX Runtime), face models and photos (idempotent)
setup:
	hack/setup.sh

## test-tools: setup, and what only the tests need (s3s-fs, a strict S3)
test-tools:
	hack/setup.sh --test-tools

## testdata: synthesise the test and demo videos from photos, with their ground truth
testdata: setup
	$(PYTHON) hack/synth.py $(CAMEO_CACHE)/photos $(CAMEO_TESTDATA) testdata

## demo: who appears when in the demo video, against a gallery of other photos
demo: setup
	$(PYTHON) hack/synth.py $(CAMEO_CACHE)/photos $(CAMEO_TESTDATA) testdata demo
	cargo build --release --locked -p cameo-detector
	@mkdir -p $(OUT)
	$(DETECTOR) detect --video $(CAMEO_TESTDATA)/demo.mp4 --gallery $(CAMEO_TESTDATA)/galleries/demo \
		--json $(OUT)/demo.json --report $(OUT)/demo.html --timeline $(OUT)/demo.png
	@echo
	@echo "Ground truth (testdata/scenarios/demo.json; of these only Barack Obama is in the gallery):"
	@$(PYTHON) hack/show_truth.py $(CAMEO_TESTDATA)/demo.truth.json
	@echo "Wrote $(OUT)/demo.html (open it in a browser), $(OUT)/demo.json (results), $(OUT)/demo.faces/ and $(OUT)/demo.png"

## test: lint, then every test: unit, the detector on real models and videos, and the
## operator, the ingest and the cloud data path on a local Kubernetes control plane
## (built once, ~15 minutes on 2 cores) with moto for S3, SQS and DynamoDB, whose
## buckets, queues and table Terraform applies (and destroys at the end)
test: test-tools testdata lint test-images
	hack/with-cluster --destroy cargo test --release --locked --workspace --features cameo-detector/cloud

# The images the tests run from the local registry (named as the chart's defaults name them).
test-images: test-tools
	REGISTRY=127.0.0.1:5000/cameo hack/images build

## lint: the web app (ESLint, tsc --checkJs), formatting, clippy, the Helm chart (lint, schema validation, checkov) and
## terraform/ (fmt, validate, tofu test, tflint, checkov; OpenTofu and the AWS provider
## are built once, ~15 minutes on 2 cores)
lint: setup
	hack/setup.sh --web-tools
	cd web && node_modules/.bin/eslint . && node_modules/.bin/tsc -p jsconfig.json
	cargo fmt --all --check
	cargo clippy --release --locked --workspace --all-targets --features cameo-detector/cloud -- -D warnings
	cargo clippy --release --locked -p cameo-detector --all-targets -- -D warnings
	hack/check-chart
	hack/check-terraform
	$(CAMEO_CACHE)/venv/bin/hadolint images/*.Dockerfile

## bench: detector throughput beside OpenCV and its accuracy on every scenario; the
## operator under 500 VideoJobs; the API's latency, start-up and Lambda zip; the ingest
## on 1,000 upload events; late binding over 1,000 videos; the web app's video page and
## upload in Chromium (Markdown)
bench: testdata lambda
	$(PYTHON) hack/synth.py $(CAMEO_CACHE)/photos $(CAMEO_TESTDATA) testdata bench_only_shots_720p
	cargo bench --locked -p cameo-detector --bench pipeline
	cargo bench --locked -p cameo-detector --bench accuracy
	hack/with-cluster cargo bench --locked -p cameo-operator --bench scale
	hack/with-cluster cargo bench --locked -p cameo-operator --features cameo-detector/cloud --bench cloud
	CAMEO_LAMBDA_ZIP=$(LAMBDA_ZIP) hack/with-cluster cargo bench --locked -p cameo-api --bench api
	hack/with-cluster cargo bench --locked -p cameo-ingest --bench ingest
	cargo build --locked --release -p cameo-detector --features cloud
	CAMEO_DETECTOR_BIN=$(DETECTOR) hack/with-cluster cargo bench --locked -p cameo-api --bench late_binding
	hack/with-cluster cargo bench --locked -p cameo-api --bench web

REGISTRY ?= 127.0.0.1:5000/cameo
# Empty: all of them (hack/images).
IMAGES ?=

## images: the container images (images/*.Dockerfile), built here offline from host
## binaries on a Debian base made once from Debian's packages: cameo-operator,
## cameo-ingest, cameo-detector and its CUDA variant (cameo-detector:*-cuda), tagged
## <appVersion>-<commit> and <appVersion> under $(REGISTRY) (default the local registry
## the chart's defaults name); prints their sizes. `make images REGISTRY=... push`
## pushes them (IMAGES="operator detector" for some)
images: setup
	hack/setup.sh --image-tools
	REGISTRY=$(REGISTRY) $(if $(TAG),TAG=$(TAG)) hack/images build $(IMAGES)

## push: the images to $(REGISTRY) (after `make images`; log in to it first)
push:
	REGISTRY=$(REGISTRY) $(if $(TAG),TAG=$(TAG)) hack/images push $(IMAGES)

LAMBDA_ZIP := $(CARGO_TARGET_DIR)/lambda/cameo-api/bootstrap.zip

## lambda: the API's Lambda zip (provided.al2023, x86_64) with the web app's files beside
## bootstrap, which Terraform deploys: $(LAMBDA_ZIP)
lambda:
	hack/setup.sh --lambda-tools
	PATH="$$(dirname "$$(readlink -f $(CAMEO_CACHE)/bin/cargo-lambda)"):$$PATH" \
		CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_STRIP=symbols cargo lambda build --release --locked \
		-p cameo-api --bin cameo-api --target x86_64-unknown-linux-gnu --output-format zip --lambda-dir $(CARGO_TARGET_DIR)/lambda
	hack/pack-app $(LAMBDA_ZIP)
	@ls -l $(LAMBDA_ZIP)

## deploy: cameo on AWS (terraform apply, images, device plugin, autoscaler, helm, smoke
## check); safe to rerun. Reads terraform/cameo.tfvars (see terraform/cameo.tfvars.example)
deploy:
	hack/deploy

## cpu-paths: the demo's results on this CPU and on an emulated AVX2-only one (QEMU),
## which must be identical (hack/cpu-paths; about 4 minutes)
cpu-paths: demo
	hack/cpu-paths

## schema: regenerate the committed JSON Schema of the results document
schema:
	cargo run --release --locked -p cameo-detector -- schema > detector/schema/results.v1.json

## crds: regenerate the VideoJob CRD (crds/ and the chart's copy) from the Rust types
crds:
	cargo run --release --locked -p cameo-operator -- crd > crds/videojob.yaml
	cp crds/videojob.yaml charts/cameo/files/videojob.crd.yaml
