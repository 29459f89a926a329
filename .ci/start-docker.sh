#!/usr/bin/env bash
# Start a Docker engine for the integration tests (run as root; safe to run again).
#
# CI machines have no container registry and no init system we can rely on, so the engine is
# Debian's docker.io started as a plain background dockerd. If an engine already answers,
# nothing is done.
set -euo pipefail

DOCKERD_LOG=${DOCKERD_LOG:-/tmp/energybench-dockerd.log}
DOCKER_START_TIMEOUT_S=${DOCKER_START_TIMEOUT_S:-60}

if docker info >/dev/null 2>&1; then
    echo "start-docker: a Docker engine already answers"
    exit 0
fi

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if ((${#missing[@]})); then
    echo "start-docker: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# A previous dockerd that died uncleanly leaves its pid file behind and refuses to start again.
if [[ -f /var/run/docker.pid ]] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
fi

echo "start-docker: starting dockerd (log: $DOCKERD_LOG)"
nohup dockerd >"$DOCKERD_LOG" 2>&1 &
dockerd_pid=$!

for ((waited = 0; waited < DOCKER_START_TIMEOUT_S; waited++)); do
    if docker info >/dev/null 2>&1; then
        echo "start-docker: engine answers after ${waited}s ($(docker version --format '{{.Server.Version}}'))"
        exit 0
    fi
    if ! kill -0 "$dockerd_pid" 2>/dev/null; then
        echo "start-docker: dockerd exited during start-up; last lines of $DOCKERD_LOG:" >&2
        tail -n 20 "$DOCKERD_LOG" >&2
        exit 1
    fi
    sleep 1
done
echo "start-docker: dockerd (pid $dockerd_pid) did not answer 'docker info' within" \
    "${DOCKER_START_TIMEOUT_S}s; see $DOCKERD_LOG" >&2
exit 1
