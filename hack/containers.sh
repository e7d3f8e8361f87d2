# Sourced by hack/images and hack/with-cluster: podman and buildah with cameo's
# configuration, and image storage under $CAMEO_CACHE, away from the machine's own.
cameo_cache="${CAMEO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cameo}"
cameo_hack="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$cameo_cache/containers"
# Run state belongs to one storage: key it by the storage's path.
cameo_runroot="/tmp/cameo-containers-$(id -u)-$(printf '%s' "$cameo_cache" | sha256sum | cut -c1-12)"
cat >"$cameo_cache/containers/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$cameo_cache/containers/storage"
runroot = "$cameo_runroot"
CONF
export CONTAINERS_CONF="$cameo_hack/containers.conf"
export CONTAINERS_REGISTRIES_CONF="$cameo_hack/registries.conf"
export CONTAINERS_STORAGE_CONF="$cameo_cache/containers/storage.conf"
