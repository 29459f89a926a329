"""Run one benchmark run to completion in its runtime, and leave nothing behind.

The child runs in the foreground with its output streamed into the job's log; its exit code
decides. On failure, timeout, SIGINT, SIGTERM or SIGHUP the container is stopped and removed (or the
process group ended) before the launcher returns or raises. Only SIGKILL of the launcher
itself can leave a container, and even then `docker run --rm` removes it once it exits.
"""

import os
import re
import shlex
import signal
import subprocess
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from energybench.run.processes import signal_group
from energybench.job.isolation import container_cli
from energybench.job.isolation.commands import Command, build_command, mounts_for
from energybench.job.isolation.spec import HostFacts
from energybench.job.isolation.errors import (
    CAUSE_BAD_MOUNT,
    CAUSE_ENGINE_REFUSED,
    CAUSE_EXIT_NONZERO,
    CAUSE_INTERRUPTED,
    CAUSE_KILLED,
    CAUSE_RUNTIME_UNAVAILABLE,
    CAUSE_TIMEOUT,
    LaunchError,
)
from energybench.run.errors import EXIT_INTERRUPTED
from energybench.job.isolation.spec import (
    CONTAINER_RUNTIMES,
    HUB_CACHE_NONE,
    LaunchResult,
    LaunchSpec,
    PreparedLaunch,
)
from energybench.job.secrets import secrets_file

# `docker run` itself answers 125 when the engine could not create or start the container,
# and a process killed by SIGKILL (the kernel's OOM killer, or a stop's last resort) exits 137.
ENGINE_REFUSED_EXIT = 125
SIGKILL_EXIT = 128 + signal.SIGKILL
# What stops a workflow: Ctrl-C, systemd/CI/SLURM (TERM), a closed terminal or SSH session (HUP).
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# Signals a process raises itself when it crashes (a bad access, an abort, a failed assert).
_CRASH_SIGNALS = {
    signal.SIGSEGV,
    signal.SIGABRT,
    signal.SIGBUS,
    signal.SIGFPE,
    signal.SIGILL,
    signal.SIGSYS,
    signal.SIGTRAP,
}
_SIGNAL_NUMBERS = {int(number) for number in signal.Signals}


class _StopRequested(Exception):
    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def container_name_for(model_key: str) -> str:
    return f"energybench-{model_key}-{uuid.uuid4().hex[:10]}"


def launch(spec: LaunchSpec, host: HostFacts | None = None) -> LaunchResult:
    """Run the benchmark for `spec`; return on exit code 0, raise LaunchError otherwise."""
    return run_prepared(prepare(spec, host))


def prepare(spec: LaunchSpec, host: HostFacts | None = None) -> PreparedLaunch:
    """Everything short of starting the run: the resolved runtime, the checked image and its
    id, the container's name and the host paths (the command is built when the run starts,
    with its secrets file). Raises LaunchError when the run
    cannot start. The caller can tell the run how it is launched before it starts."""
    host = host or HostFacts.detect()
    runtime = container_cli.resolve_runtime(spec.runtime)
    image_id = container_name = None
    if runtime in CONTAINER_RUNTIMES:
        container_cli.require_daemon(runtime, spec.model_key)
        image_id = container_cli.require_runnable_image(
            runtime, spec.image_or_default, spec.model_key
        ).id
        container_name = container_name_for(spec.model_key)
    _prepare_host_paths(spec)
    return PreparedLaunch(spec, runtime, host, image_id, container_name)


def run_prepared(prepared: PreparedLaunch) -> LaunchResult:
    """Start a prepared run and supervise it to the end (see the module's docstring)."""
    spec, runtime, host = prepared.spec, prepared.runtime, prepared.host
    image_id, container_name = prepared.image_id, prepared.container_name
    container_secrets = spec.secret_names if runtime in CONTAINER_RUNTIMES else ()
    spec.log_path.parent.mkdir(parents=True, exist_ok=True)
    started, started_wall = time.monotonic(), time.time()
    with (
        secrets_file(container_secrets, host.environ) as secrets_path,
        open(spec.log_path, "ab") as log_file,
    ):
        command = build_command(
            spec,
            runtime,
            host,
            image_ref=image_id,
            container_name=container_name,
            secrets_path=secrets_path,
        )
        image_note = f" image={spec.image_or_default} ({image_id})" if image_id else ""
        log_file.write(
            f"[energybench.job.isolation] model={spec.model_key} runtime={runtime}{image_note}\n"
            f"[energybench.job.isolation] $ {shlex.join(command.argv)}\n".encode()
        )
        log_file.flush()
        exit_code, pid = _supervise(spec, runtime, command, container_name, log_file)
    duration_s = time.monotonic() - started
    if exit_code != 0:
        raise _exit_error(spec, runtime, exit_code, started, started_wall, container_name, pid)
    return LaunchResult(
        model_key=spec.model_key,
        runtime=runtime,
        exit_code=exit_code,
        duration_s=duration_s,
        image=prepared.image,
        image_id=image_id,
        container_name=container_name,
        command=command.argv,
    )


def _prepare_host_paths(spec: LaunchSpec) -> None:
    spec.run_dir.mkdir(parents=True, exist_ok=True)
    if spec.hub_cache != HUB_CACHE_NONE:
        # Created here, not by the engine, so the cache belongs to the user rather than root.
        spec.hf_home_or_default.mkdir(parents=True, exist_ok=True)
    missing = [str(m.path) for m in mounts_for(spec) if not m.path.exists()]
    if missing:
        raise LaunchError(
            f"model {spec.model_key!r}: cannot give the run access to {', '.join(missing)}: "
            "no such file or directory on this machine.",
            model_key=spec.model_key,
            cause=CAUSE_BAD_MOUNT,
        )


def _supervise(
    spec: LaunchSpec, runtime: str, command: Command, container_name: str | None, log_file
) -> tuple[int, int]:
    """The child's exit code and process id."""
    child = None
    stopped = False
    with _StopSignals() as stop_signals:
        try:
            # Held until `child` is known: a stop that lands inside Popen would otherwise
            # orphan a `docker run` that goes on to start its container.
            with stop_signals.deferred():
                # A session of its own: a Ctrl-C meant for us reaches the child only through
                # our orderly stop below, never half-way through it.
                child = subprocess.Popen(
                    command.argv,
                    # Never written: its end tells the run that this launcher is gone.
                    stdin=subprocess.PIPE,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    env=command.child_environment(os.environ),
                    start_new_session=True,
                )
            return child.wait(timeout=spec.timeout_s), child.pid
        except FileNotFoundError:
            raise LaunchError(
                f"model {spec.model_key!r}: cannot start the {runtime} runtime: the "
                f"`{command.argv[0]}` command is not installed on this machine.",
                model_key=spec.model_key,
                cause=CAUSE_RUNTIME_UNAVAILABLE,
            ) from None
        except subprocess.TimeoutExpired:
            stopped = True
            with stop_signals.ignored():
                _stop(spec, runtime, child, container_name)
            raise LaunchError(
                f"model {spec.model_key!r}: the run did not finish within {spec.timeout_s:g} s "
                f"(its timeout_s) and was stopped; see {spec.log_path}.",
                model_key=spec.model_key,
                cause=CAUSE_TIMEOUT,
            ) from None
        except (_StopRequested, KeyboardInterrupt) as stop:
            stopped = True
            signum = stop.signum if isinstance(stop, _StopRequested) else signal.SIGINT
            with stop_signals.ignored():
                _stop(spec, runtime, child, container_name)
            what = "container" if container_name else "process"
            raise LaunchError(
                f"model {spec.model_key!r}: the run was interrupted "
                f"({signal.Signals(signum).name}) and its {what} was stopped.",
                model_key=spec.model_key,
                cause=CAUSE_INTERRUPTED,
                exit_code=128 + signum,
            ) from None
        finally:
            if container_name:
                with stop_signals.ignored():
                    # After a stop, a create request the killed client already sent may
                    # still be landing: keep watching for a moment.
                    settle_s = 2.0 if stopped else 0.0
                    container_cli.ensure_container_gone(runtime, container_name, settle_s=settle_s)


def _stop(
    spec: LaunchSpec, runtime: str, child: subprocess.Popen | None, container_name: str | None
) -> None:
    if container_name:
        container_cli.stop_container(runtime, container_name, spec.stop_grace_s)
    if child is None:
        return
    if child.poll() is None:
        signal_group(child.pid, signal.SIGTERM)
    try:
        child.wait(timeout=spec.stop_grace_s)
    except subprocess.TimeoutExpired:
        signal_group(child.pid, signal.SIGKILL)
        child.wait()


class _StopSignals:
    """While active, the stop signals raise _StopRequested, except inside `deferred()`,
    which holds one back until its block has finished, and inside `ignored()`, which drops
    them so that a clean-up finishes even if Ctrl-C is pressed again or TERM re-sent."""

    def __init__(self):
        self._mode = "raise"
        self._pending: int | None = None
        self._previous = {}

    def __enter__(self):
        # Handlers can only be installed from the main thread; elsewhere (a Snakemake `run:`
        # block) the main thread gets KeyboardInterrupt and the finally clauses clean up.
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self._handle) for s in _STOP_SIGNALS}
        return self

    def __exit__(self, *exc_info):
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum, _frame):
        if self._mode == "raise":
            raise _StopRequested(signum)
        if self._mode == "defer" and self._pending is None:
            self._pending = signum

    @contextmanager
    def _in_mode(self, mode: str):
        outer, self._mode = self._mode, mode
        try:
            yield
        finally:
            self._mode = outer

    @contextmanager
    def deferred(self):
        with self._in_mode("defer"):
            yield
        if self._pending is not None:
            raise _StopRequested(self._pending)

    def ignored(self):
        return self._in_mode("ignore")


def _last_log_line(path: Path) -> str:
    with open(path, "rb") as f:
        f.seek(max(0, path.stat().st_size - 4096))
        lines = [line.strip() for line in f.read().decode(errors="replace").splitlines()]
    lines = [line for line in lines if line and not line.startswith("[energybench.job.isolation]")]
    return lines[-1][:300] if lines else "(the run printed nothing)"


_KERNEL_LOG_LINE = re.compile(r"^\[\s*(\d+\.\d+)\]\s*(.*)$")
_OOM_WORDS = ("out of memory", "oom-kill", "oom_reaper", "memory cgroup out of memory")


def kernel_oom_record(
    since: float, kernel_log: str | None = None, pid: int | None = None
) -> str | None:
    """The kernel log's out-of-memory line written since ``since`` (time.monotonic(), which
    runs on the kernel log's clock), naming the killed process ``pid`` where it is given;
    "" when there is none; None when the log is unreadable."""
    if kernel_log is None:
        try:
            kernel_log = subprocess.run(
                ["dmesg"], capture_output=True, text=True, timeout=10, check=True
            ).stdout
        except (OSError, subprocess.SubprocessError):
            return None
    for line in reversed(kernel_log.splitlines()):
        match = _KERNEL_LOG_LINE.match(line)
        if not match or float(match.group(1)) < since:
            continue
        text = match.group(2)
        if pid is not None and not re.search(rf"\b(?:process |pid=){pid}\b", text):
            continue  # another process's, maybe another workflow's
        if any(word in text.lower() for word in _OOM_WORDS):
            return text.strip()[:200]
    return ""


def _oom_evidence(
    runtime: str, container_name: str | None, pid: int | None, started: float, started_wall: float
) -> str | None:
    """The kernel's word that the run was killed for memory: the container engine's `oom`
    event for its container where the engine records them, else the kernel log's line naming
    the run's process (any such line for a container, whose processes we do not know); ""
    when there is none; None when it cannot be told."""
    if container_name:
        engine = container_cli.oom_event(runtime, container_name, started_wall)
        if engine is not None:
            return f"{runtime} recorded an out-of-memory kill of the container" if engine else ""
        return kernel_oom_record(started)
    return kernel_oom_record(started, pid=pid)


def _killed_message(spec: LaunchSpec, runtime: str, exit_code: int, record: str) -> str:
    """A SIGKILL with the kernel's evidence of an out-of-memory kill: the model's failure."""
    limit = (
        f"the container's memory limit was {spec.memory}"
        if spec.memory and runtime in CONTAINER_RUNTIMES
        else "no memory limit was set, so the machine itself ran out"
    )
    return (
        f"the run was killed by the kernel's out-of-memory killer (exit {exit_code}; "
        f"{record!r}): {limit}. Give it more memory or a smaller batch"
    )


def _stopping_signal(runtime: str, exit_code: int) -> int | None:
    """The signal from outside that ended the run, or None. A process killed by a signal exits
    with minus its number, a container's init (and a shell) with 128 plus it; a signal the
    run raises itself by crashing is the model's failure, any other came from outside. A
    container's client killed by any signal is an outside stop: the container never crashed."""
    if exit_code < 0 and runtime in CONTAINER_RUNTIMES:
        return -exit_code
    signum = -exit_code if exit_code < 0 else exit_code - 128
    if signum not in _SIGNAL_NUMBERS or signum in _CRASH_SIGNALS:
        return None
    return signum


def _stopped_message(signum: int, exit_code: int, evidence: str | None) -> str:
    what = (
        "the kernel log shows no out-of-memory kill since the run started"
        if evidence == ""
        else "whether it ran out of memory could not be told (the kernel log is unreadable here)"
    )
    why = f"; {what}" if signum == signal.SIGKILL else ""
    return (
        f"the run was stopped from outside ({signal.Signals(signum).name}, exit "
        f"{exit_code}): by a user, a scheduler or the end of its workflow{why}"
    )


def _exit_error(
    spec: LaunchSpec,
    runtime: str,
    exit_code: int,
    started: float,
    started_wall: float,
    container_name: str | None,
    pid: int | None = None,
) -> LaunchError:
    """What a non-zero exit means. A stop from outside (a signal to the run, its container or
    the container's client) is an interruption, to be redone, not a failure of the model;
    a SIGKILL is the model's failure only on the kernel's evidence that it ran out of memory."""
    where = f"see {spec.log_path}; last line: {_last_log_line(spec.log_path)}"
    signum = _stopping_signal(runtime, exit_code)
    evidence = (
        _oom_evidence(runtime, container_name, pid, started, started_wall)
        if signum == signal.SIGKILL
        else None
    )
    code = exit_code
    if exit_code == EXIT_INTERRUPTED:
        message = f"the run stopped because the disk is full (exit {exit_code}); {where}"
        cause = CAUSE_INTERRUPTED
    elif runtime in CONTAINER_RUNTIMES and exit_code == ENGINE_REFUSED_EXIT:
        message = f"{runtime} could not start the container (exit 125); {where}"
        cause = CAUSE_ENGINE_REFUSED
    elif evidence:
        message = f"{_killed_message(spec, runtime, exit_code, evidence)}; {where}"
        cause = CAUSE_KILLED
    elif signum is not None:
        message = f"{_stopped_message(signum, exit_code, evidence)}; {where}"
        cause, code = CAUSE_INTERRUPTED, 128 + signum
    else:
        message = f"the run exited with code {exit_code}; {where}"
        cause = CAUSE_EXIT_NONZERO
    return LaunchError(
        f"model {spec.model_key!r}: {message}",
        model_key=spec.model_key,
        cause=cause,
        exit_code=code,
    )
