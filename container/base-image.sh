#!/usr/bin/env bash
# The local base image for `make container-test` where no registry of base images can be reached:
# Debian 12 (python3 is 3.11) made by debootstrap from Debian's packages. The root file system is
# cached as a tarball, so a second machine run, or a run after `podman system reset`, skips it.
set -euo pipefail
IMAGE=${1:-localhost/jobagent-base:bookworm}
CACHE=${JOBAGENT_MOCK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jobagent-mock}
TARBALL=$CACHE/base-bookworm.tar
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if podman image exists "$IMAGE"; then
    exit 0
fi
if [ ! -s "$TARBALL" ]; then
    mkdir -p "$CACHE"
    rootfs=$(mktemp -d "$CACHE/rootfs.XXXXXX")
    trap 'rm -rf "$rootfs"' EXIT
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates,curl \
        bookworm "$rootfs" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
        { tail -20 "$CACHE/debootstrap.log" >&2; exit 1; }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -cf "$TARBALL.part" . && mv "$TARBALL.part" "$TARBALL"
fi
podman import --quiet "$TARBALL" "$IMAGE" >/dev/null
