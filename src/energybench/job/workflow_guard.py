"""What ties a job to the workflow that started it, and a results directory to one workflow.

- A job's run must die with its Snakemake. Snakemake killed with SIGKILL (the OOM killer, a
  SLURM limit on the workflow, `kill -9`) cannot stop its jobs, and a job left running would
  write a `succeeded` report into a job Snakemake has marked incomplete, or measure beside the
  rerun. So the workflow process records its pid (`mark_workflow_process`), and each job
  watches it (`stop_when_workflow_ends`): when it ends, the job stops its run as if it had
  received SIGTERM.
- The same holds one level down: a run stops when the job that launched it dies
  (`stop_when_launcher_ends`), e.g. when the OOM killer or a scheduler kills the job itself.
- Two workflows writing one results directory (two checkouts sharing `RESULTS_DIR`) would
  measure each other's load. Snakemake's own lock covers one working directory only, so the
  workflow holds an exclusive lock on the results directory while it runs
  (`lock_results_dir`); the kernel releases it when the process ends, however it ends.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

WORKFLOW_PID_ENV = "ENERGYBENCH_WORKFLOW_PID"
# Set by the launcher for the run it starts: the run's stdin is a pipe the launcher holds, and
# its end (EOF) means the launcher is gone.
LIFELINE_ENV = "ENERGYBENCH_LIFELINE"
LOCK_NAME = ".energybench.lock"
_POLL_S = 1.0
_held_locks: list = []  # open lock files, kept for the life of the workflow process


class ResultsDirBusy(RuntimeError):
    """Another running workflow writes this results directory."""


def mark_workflow_process() -> None:
    """Called where the workflow is parsed: jobs started from here watch this process, and a
    hang-up (a closed terminal or SSH session) stops it as Ctrl-C does, so Snakemake marks
    its running jobs incomplete and releases its lock instead of dying on the spot."""
    os.environ[WORKFLOW_PID_ENV] = str(os.getpid())
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGHUP, signal.default_int_handler)


def _wait_for_exit(pid: int, stop: threading.Event) -> bool:
    """Block until process ``pid`` has ended (True) or ``stop`` is set (False)."""
    try:
        fd = os.pidfd_open(pid)  # cannot mistake a reused pid for the workflow
    except ProcessLookupError:
        return True
    except OSError:  # kernels before 5.3: poll the pid
        while not stop.wait(_POLL_S):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            except PermissionError:
                pass
        return False
    try:
        while not stop.is_set():
            if select.select([fd], [], [], _POLL_S)[0]:
                return True
        return False
    finally:
        os.close(fd)


@contextlib.contextmanager
def stop_when_workflow_ends(model: str) -> Iterator[None]:
    """While active, the end of the workflow process sends this process SIGTERM, which the
    isolation layer handles by stopping the run and leaving no report."""
    pid = int(os.environ.get(WORKFLOW_PID_ENV) or 0)
    if not pid or pid == os.getpid():
        yield  # not started by the workflow (a run by hand, a test)
        return
    stop = threading.Event()

    def watch():
        if _wait_for_exit(pid, stop) and not stop.is_set():
            print(
                f"energybench: model {model}: the workflow (pid {pid}) has ended; stopping "
                "this run so that nothing keeps measuring or writing",
                file=sys.stderr,
            )
            os.kill(os.getpid(), signal.SIGTERM)

    watcher = threading.Thread(target=watch, name="workflow-watch", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()


def results_dir_problem(results_dir: str | Path) -> str | None:
    """Why ``results_dir`` cannot hold results, or None."""
    path = Path(results_dir)
    if path.exists() and not path.is_dir():
        return f"RESULTS_DIR {results_dir} is a file, not a directory; point it at a directory"
    return None


def stop_when_launcher_ends(environ=os.environ) -> None:
    """In the run: when the job that launched it dies (even by SIGKILL, which it cannot pass
    on), end this run with SIGTERM, as the launcher would have. The launcher holds the write
    end of the run's stdin; containers get it through `-i`."""
    if environ.pop(LIFELINE_ENV, None) != "stdin":
        return

    def watch():
        # The raw descriptor, not sys.stdin: a daemon thread blocked in a buffered read holds
        # its lock, and the interpreter aborts at exit when it finds that lock taken.
        with contextlib.suppress(OSError):
            while os.read(0, 4096):
                pass
        print(
            "energybench: the job that launched this run has ended; stopping the run",
            file=sys.stderr,
        )
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="launcher-watch", daemon=True).start()


def lock_results_dir(results_dir: str | Path, workdir: str | Path) -> None:
    """Hold an exclusive lock on ``results_dir`` until this process ends; ResultsDirBusy when
    another workflow holds it, naming that workflow."""
    results_dir = Path(results_dir)
    if results_dir_problem(results_dir):
        raise ResultsDirBusy(results_dir_problem(results_dir))
    results_dir.mkdir(parents=True, exist_ok=True)
    lock = open(results_dir / LOCK_NAME, "a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read().strip() or "another workflow"
        lock.close()
        raise ResultsDirBusy(
            f"the results directory {results_dir.resolve()} is in use by {holder}; two "
            "workflows measuring at once would measure each other's load. Wait for it to end, "
            "or give this one its own RESULTS_DIR"
        ) from None
    lock.truncate(0)
    lock.write(
        json.dumps(
            {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "workdir": str(Path(workdir).resolve()),
            }
        )
        + "\n"
    )
    lock.flush()
    _held_locks.append(lock)
