#!/usr/bin/env bash
# Make the local base image of the CPU engine image, without any container registry.
#
# CI machines can pull nothing, so `FROM python:...` is impossible: debootstrap a minimal
# Debian root filesystem from the Debian mirror and import it as an image. Skipped when the
# tag already exists. Usage: build-cpu-base.sh [ENGINE] (docker or podman; default docker).
set -euo pipefail

ENGINE=${1:-docker}
BASE_IMAGE=${ENERGYBENCH_BASE_IMAGE:-energybench-base:bookworm}
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if "$ENGINE" image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    echo "build-cpu-base: $BASE_IMAGE already exists"
    exit 0
fi
command -v debootstrap >/dev/null 2>&1 || {
    echo "build-cpu-base: debootstrap is not installed (apt-get install -y debootstrap)" >&2
    exit 1
}

rootfs=$(mktemp -d /tmp/energybench-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT

echo "build-cpu-base: debootstrapping $SUITE into $rootfs"
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    "$SUITE" "$rootfs" "$MIRROR" >"$rootfs.log" 2>&1 || {
    echo "build-cpu-base: debootstrap failed; last lines of its log:" >&2
    tail -n 20 "$rootfs.log" >&2
    rm -f "$rootfs.log"
    exit 1
}
rm -f "$rootfs.log"
# The apt lists and package cache are dead weight in an image that never runs apt.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

echo "build-cpu-base: importing as $BASE_IMAGE"
tar -C "$rootfs" -c . | "$ENGINE" import - "$BASE_IMAGE" >/dev/null
echo "build-cpu-base: done ($("$ENGINE" image inspect --format '{{.Size}}' "$BASE_IMAGE") bytes)"
