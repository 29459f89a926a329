#!/usr/bin/env bash
# Start a real one-node SLURM cluster on this machine (Debian 12, run as root).
#
# This host becomes both the controller and the only compute node, with one partition
# `debug` (the default). Accounting is off (no slurmdbd), so job status comes from
# `squeue`; profiles/slurm says so to Snakemake's executor.
#
# The node also advertises placeholder GPUs as a generic resource (gres `gpu`, default 2,
# set ENERGYBENCH_SLURM_FAKE_GPUS=0 for none). They are links to /dev/null, not GPUs: they let
# CI exercise the real GPU request path (`--gpus=N` from the executor plugin, SLURM's GPU
# scheduling and its CUDA_VISIBLE_DEVICES) on a machine without GPUs.
#
# Idempotent: running it again leaves a healthy cluster alone, and restarts the daemons
# only when the configuration it writes has changed.
set -euo pipefail

readonly FAKE_GPUS="${ENERGYBENCH_SLURM_FAKE_GPUS:-2}"
readonly READY_TIMEOUT_S="${ENERGYBENCH_SLURM_READY_TIMEOUT_S:-60}"
readonly SLURM_CONF=/etc/slurm/slurm.conf
readonly GRES_CONF=/etc/slurm/gres.conf
readonly FAKE_GPU_DIR=/run/energybench-fake-gpus
readonly LOG_DIR=/var/log/slurm

fail() {
    echo "start-slurm: $*" >&2
    exit 1
}

[[ $(id -u) -eq 0 ]] || fail "must run as root (it installs packages and starts system daemons)."

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge
fi

# --- munge: SLURM's authentication between its daemons and clients ---------------------
if [[ ! -s /etc/munge/munge.key ]]; then
    mungekey -c -f -k /etc/munge/munge.key
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
munge_works() { munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; }
if ! munge_works; then
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 50); do
        munge_works && break
        sleep 0.1
    done
    munge_works || fail "munged did not start; see /var/log/munge/munged.log."
fi

# --- configuration ------------------------------------------------------------------------
node=$(hostname -s)
cpus=$(nproc)
# slurmd refuses a node that claims more memory than it has: take the kernel's own total.
memory_mb=$(free -m | awk '/^Mem:/ {print $2}')

gres_line=""
node_gres=""
if ((FAKE_GPUS > 0)); then
    install -d -m 0755 "$FAKE_GPU_DIR"
    for ((i = 0; i < FAKE_GPUS; i++)); do
        # SLURM wants a character device per GPU; /dev/null is one and does nothing.
        ln -sfn /dev/null "$FAKE_GPU_DIR/gpu$i"
    done
    gres_line="GresTypes=gpu"
    node_gres="Gres=gpu:placeholder:$FAKE_GPUS"
fi

new_conf=$(mktemp)
new_gres=$(mktemp)
trap 'rm -f "$new_conf" "$new_gres"' EXIT
cat >"$new_conf" <<EOF
# Written by .ci/start-slurm.sh: a one-node test cluster. Edits here are overwritten.
ClusterName=energybench
SlurmctldHost=$node
SlurmUser=root
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
# No cgroups in this VM: track processes through /proc and do not bind tasks.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
# Share the node between jobs by cores and memory, and schedule GPUs (cons_tres).
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# A job that asks for no memory would otherwise take the whole node and run alone.
DefMemPerCPU=1024
# No slurmdbd: job status comes from squeue. Finished jobs stay visible to squeue for
# MinJobAge seconds, long enough for Snakemake's status polls to see how they ended.
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MinJobAge=300
# A node that was down comes back by itself once slurmd registers again.
ReturnToService=2
$gres_line
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory_mb $node_gres State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
{
    echo "# Written by .ci/start-slurm.sh: placeholder GPUs (links to /dev/null, not devices)."
    echo "AutoDetect=off"
    if ((FAKE_GPUS > 0)); then
        echo "NodeName=$node Name=gpu Type=placeholder File=$FAKE_GPU_DIR/gpu[0-$((FAKE_GPUS - 1))]"
    fi
} >"$new_gres"

config_changed=0
for pair in "$new_conf:$SLURM_CONF" "$new_gres:$GRES_CONF"; do
    if ! cmp -s "${pair%%:*}" "${pair##*:}"; then
        install -m 0644 "${pair%%:*}" "${pair##*:}"
        config_changed=1
    fi
done
install -d -m 0755 "$LOG_DIR" /var/lib/slurm/slurmctld /var/lib/slurm/slurmd

# --- daemons ----------------------------------------------------------------------------------
# Stop a daemon through its own pid file (never by name: other SLURMs may share the host).
stop_daemon() {
    local pid_file=$1 pid
    [[ -s $pid_file ]] || return 0
    pid=$(cat "$pid_file")
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    fi
    rm -f "$pid_file"
}

daemon_running() {
    local pid_file=$1
    [[ -s $pid_file ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null
}

if ((config_changed)); then
    stop_daemon /run/slurmd.pid
    stop_daemon /run/slurmctld.pid
fi
daemon_running /run/slurmctld.pid || slurmctld
daemon_running /run/slurmd.pid || slurmd

# --- wait for the node ----------------------------------------------------------------------
deadline=$((SECONDS + READY_TIMEOUT_S))
state=""
while ((SECONDS < deadline)); do
    state=$(sinfo --noheader --nodes="$node" --format=%T 2>/dev/null || true)
    case $state in
    idle | mixed | allocated) break ;;
    down* | drain*) scontrol update NodeName="$node" State=RESUME 2>/dev/null || true ;;
    esac
    sleep 1
done
case $state in
idle | mixed | allocated) ;;
*)
    tail -n 20 "$LOG_DIR/slurmctld.log" "$LOG_DIR/slurmd.log" >&2 || true
    fail "node $node is not ready after ${READY_TIMEOUT_S}s (sinfo says '${state:-no answer}'); \
the logs above are from $LOG_DIR."
    ;;
esac
echo "start-slurm: node $node is $state (partition debug, $cpus CPUs, ${memory_mb} MB, $FAKE_GPUS placeholder GPUs)."
