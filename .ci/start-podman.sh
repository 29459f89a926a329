#!/usr/bin/env bash
# Make podman usable for the integration tests (run as root; safe to run again).
#
# Podman needs no daemon, but on these VMs its containers fail to start
# ("error setting rlimit type 7: operation not permitted") unless it is told not to set
# default rlimits, and `--init` needs catatonit. Both are fixed here, system-wide.
set -euo pipefail

CONF=/etc/containers/containers.conf
MARKER="# written by energybench .ci/start-podman.sh"

missing=()
command -v podman >/dev/null 2>&1 || missing+=(podman)
[[ -x /usr/libexec/podman/catatonit ]] || missing+=(catatonit)
if ((${#missing[@]})); then
    echo "start-podman: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [[ ! -e $CONF ]]; then
    mkdir -p "$(dirname "$CONF")"
    printf '%s\n[containers]\ndefault_ulimits = []\npids_limit = 0\n' "$MARKER" >"$CONF"
    echo "start-podman: wrote $CONF"
elif ! grep -qF "$MARKER" "$CONF"; then
    echo "start-podman: $CONF exists and was not written by this script; leaving it as is" \
        "(it needs default_ulimits = [] and pids_limit = 0 under [containers])" >&2
fi

podman info >/dev/null
echo "start-podman: podman $(podman version --format '{{.Client.Version}}') ready"
