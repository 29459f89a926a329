"""Interruption is not failure: a run stopped from outside leaves no report, so the next run
redoes it; a failure of the model itself stays a kept `failed` report."""

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import REPO_ROOT, copy_workflow
from energybench.run import benchmark
from energybench.job import model_job
from energybench.plan.config import load_yaml, resolve_model
from energybench.job.isolation.errors import (
    CAUSE_EXIT_NONZERO,
    CAUSE_INTERRUPTED,
    LaunchError,
)
from energybench.run.errors import EXIT_INTERRUPTED, out_of_space
from energybench.job.workflow_guard import (
    WORKFLOW_PID_ENV,
    ResultsDirBusy,
    lock_results_dir,
    stop_when_workflow_ends,
)

CONFIG = load_yaml(REPO_ROOT / "config/config.yaml")
RUN_CONFIG = resolve_model("m", {"tiny": {}}, CONFIG["defaults"], CONFIG["measurement"])
DISK_FULL = OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(WORKFLOW_PID_ENV, raising=False)
    path = tmp_path / "results/runs/m"
    path.mkdir(parents=True)
    (path / "power_timeline.csv").write_text("t,w\n0,1\n")  # an earlier run's
    return path


def job_with(monkeypatch, run_dir, outcome):
    """run_model_job with a stand-in for the isolated run: ``outcome(report_path)``, the
    report path of the attempt (energybench.job.history)."""

    def fake_prepare(spec):
        arguments = spec.benchmark_args
        return SimpleNamespace(
            runtime="process",
            image=None,
            image_id=None,
            container_name=None,
            report=Path(arguments[arguments.index("--output") + 1]),
        )

    def fake_run(prepared):
        return outcome(prepared.report)

    monkeypatch.setattr(model_job, "prepare", fake_prepare)
    monkeypatch.setattr(model_job, "run_prepared", fake_run)
    return model_job.run_model_job(
        RUN_CONFIG,
        str(run_dir / "benchmark_report.json"),
        str(run_dir.parent.parent / "logs/m.log"),
        gpus=0,
    )


def interrupted(report_path, code=128 + signal.SIGTERM):
    report_path.write_text('{"status": "succeeded"}')  # a report the run wrote just in time
    raise LaunchError(
        "model 'm': the run was interrupted (SIGTERM)",
        model_key="m",
        cause=CAUSE_INTERRUPTED,
        exit_code=code,
    )


def test_interrupted_job_leaves_no_report_and_exits_non_zero(monkeypatch, run_dir, capsys):
    with pytest.raises(model_job.JobInterrupted) as stop:
        job_with(monkeypatch, run_dir, interrupted)
    assert stop.value.code == 128 + signal.SIGTERM
    assert sorted(p.name for p in run_dir.iterdir()) == ["history"]  # the stale file too
    assert list((run_dir / "history").iterdir()) == []  # the attempt is discarded
    assert "model m INTERRUPTED" in capsys.readouterr().err


def test_model_failure_stays_a_kept_failed_report_naming_model_and_cause(
    monkeypatch, run_dir, capsys
):
    def fails(report_path):
        raise LaunchError(
            "model 'm': the engine exited with code 1; last line: CUDA error",
            model_key="m",
            cause=CAUSE_EXIT_NONZERO,
            exit_code=1,
        )

    assert job_with(monkeypatch, run_dir, fails) == "failed"
    report = json.loads((run_dir / "benchmark_report.json").read_text())
    assert report["status"] == "failed" and "model 'm'" in report["error"]["message"]
    assert "CUDA error" in report["error"]["message"]
    assert "model m FAILED: model 'm': the engine exited with code 1" in capsys.readouterr().err
    assert not (run_dir / "power_timeline.csv").exists()  # nothing stale beside it


def test_failure_the_run_reported_itself_is_named_on_the_console(monkeypatch, run_dir, capsys):
    def own_failed_report(report_path):
        from energybench.run.provenance import Launch, collect
        from energybench.run.report import Report, write_report

        write_report(
            report_path,
            Report.failed(
                "m", RUN_CONFIG, RuntimeError("bad weights"), collect(None, Launch("process", None))
            ).to_dict(),
        )
        raise LaunchError("model 'm': exit 1", model_key="m", cause=CAUSE_EXIT_NONZERO)

    assert job_with(monkeypatch, run_dir, own_failed_report) == "failed"
    message = json.loads((run_dir / "benchmark_report.json").read_text())["error"]["message"]
    assert message == "model 'm': bad weights"
    assert "model m FAILED: model 'm': bad weights" in capsys.readouterr().err


def test_full_disk_while_writing_the_failed_report_is_an_interruption(monkeypatch, run_dir):
    def fails(report_path):
        raise LaunchError("model 'm': exit 1", model_key="m", cause=CAUSE_EXIT_NONZERO)

    def disk_full(*args, **kwargs):
        raise DISK_FULL

    monkeypatch.setattr(model_job, "write_report", disk_full)
    with pytest.raises(model_job.JobInterrupted) as stop:
        job_with(monkeypatch, run_dir, fails)
    assert stop.value.code == EXIT_INTERRUPTED
    assert not (run_dir / "benchmark_report.json").exists()


def test_full_disk_while_writing_the_run_config_is_an_interruption(monkeypatch, run_dir, capsys):
    def disk_full(*args, **kwargs):
        raise DISK_FULL

    monkeypatch.setattr(model_job, "write_json_atomic", disk_full)
    with pytest.raises(model_job.JobInterrupted) as stop:
        job_with(monkeypatch, run_dir, lambda report_path: pytest.fail("the run started"))
    assert stop.value.code == EXIT_INTERRUPTED
    assert not (run_dir / "benchmark_report.json").exists()
    assert "model m INTERRUPTED: [Errno 28] No space left on device" in capsys.readouterr().err


def test_benchmark_stops_without_a_report_when_the_disk_is_full(monkeypatch, tmp_path):
    def measure(cfg, run_dir, launch):
        try:
            raise DISK_FULL
        except OSError as exc:
            raise RuntimeError("could not save the timeline") from exc

    monkeypatch.setattr(benchmark, "measure", measure)
    output = tmp_path / "m" / "benchmark_report.json"
    assert benchmark.run(RUN_CONFIG, output) == EXIT_INTERRUPTED
    assert not output.exists()
    assert out_of_space(RuntimeError("x")) is False
    assert out_of_space(
        RuntimeError(
            "[enforce fail at inline_container.cc:603] . "
            "PytorchStreamWriter failed writing file data/0: file "
            "write failed: No space left on device"
        )
    )


def test_full_disk_exit_is_read_as_an_interruption(tmp_path):
    from energybench.job.isolation.supervise import _exit_error
    from energybench.job.isolation.spec import LaunchSpec

    spec = LaunchSpec(
        model_key="m",
        runtime="process",
        benchmark_args=[],
        log_path=tmp_path / "l",
        run_dir=tmp_path,
    )
    (tmp_path / "l").write_text("no space left\n")
    error = _exit_error(spec, "process", EXIT_INTERRUPTED, 0.0, 0.0, None, pid=1)
    assert error.cause == CAUSE_INTERRUPTED


def test_the_job_stops_its_run_when_its_workflow_dies(monkeypatch):
    workflow = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    monkeypatch.setenv(WORKFLOW_PID_ENV, str(workflow.pid))
    received = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
    try:
        with stop_when_workflow_ends("m"):
            time.sleep(0.3)
            assert received == []
            workflow.kill()
            workflow.wait()
            deadline = time.monotonic() + 5
            while not received and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert received == [signal.SIGTERM]


def test_a_results_directory_serves_one_workflow_at_a_time(tmp_path):
    results = tmp_path / "shared-results"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from energybench.job.workflow_guard import "
            "lock_results_dir; lock_results_dir(sys.argv[1], '/elsewhere/checkout'); "
            "print('locked', flush=True); time.sleep(60)",
            str(results),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(
            ResultsDirBusy,
            match=rf"in use by .*\"pid\": {holder.pid}.*"
            r"/elsewhere/checkout.*own RESULTS_DIR",
        ):
            lock_results_dir(results, tmp_path)
    finally:
        holder.kill()  # even SIGKILL releases it
        holder.wait()
    lock_results_dir(results, tmp_path)


def test_results_dir_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "results").write_text("")
    with pytest.raises(ResultsDirBusy, match="is a file, not a directory"):
        lock_results_dir(tmp_path / "results", tmp_path)


# --- the real workflow ------------------------------------------------------------------------

SNAKEMAKE = [sys.executable, "-m", "snakemake", "--cores", "1", "--resources", "gpu=1", "--"]
TARGET = "results/runs/tiny-llama-2l/benchmark_report.json"


@pytest.fixture(scope="module")
def slow_workflow(tmp_path_factory):
    """The default workflow with a run that idles long enough to be interrupted."""
    workdir = copy_workflow(tmp_path_factory.mktemp("interrupt"))
    config = workdir / "config/config.yaml"
    config.write_text(config.read_text().replace("idle_seconds: 2", "idle_seconds: 120"))
    subprocess.run(
        [*SNAKEMAKE, "resources/models/tiny-llama-2l"],
        cwd=workdir,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return workdir


def start_and_wait_for_the_run(workdir):
    log = workdir / "logs/benchmark/tiny-llama-2l.log"
    log.unlink(missing_ok=True)
    workflow = subprocess.Popen(
        [*SNAKEMAKE, TARGET],
        cwd=workdir,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (log.exists() and "measuring idle power" in log.read_text()):
        assert time.monotonic() < deadline and workflow.poll() is None, workflow.stdout.read()
        time.sleep(0.5)
    return workflow


def rerun_plans_the_model(workdir):
    plan = subprocess.run(
        [*SNAKEMAKE[:-1], "--dry-run", "--", TARGET],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return "benchmark" in plan.stdout and "Nothing to be done" not in plan.stdout


@pytest.mark.e2e
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_to_the_workflow_leaves_the_model_to_be_redone(slow_workflow, signum, tmp_path):
    """systemd, a CI cancel or a SLURM limit signal the whole process group."""
    workflow = start_and_wait_for_the_run(slow_workflow)
    # Meanwhile another checkout pointed at the same results is refused before any job.
    other = copy_workflow(tmp_path)
    shared = slow_workflow / "results"
    refused = subprocess.run(
        SNAKEMAKE + [str(slow_workflow / TARGET)],
        cwd=other,
        text=True,
        env={**os.environ, "RESULTS_DIR": str(shared)},
        capture_output=True,
        timeout=120,
    )
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert f'is in use by {{"pid": {workflow.pid}' in refused.stderr
    assert not (other / "logs").exists() and not (other / "resources").exists()
    os.killpg(workflow.pid, signum)
    output = workflow.communicate(timeout=120)[0]
    assert not (slow_workflow / TARGET).exists(), output
    assert "INTERRUPTED" in output and "FAILED" not in output
    locks = slow_workflow / ".snakemake/locks"
    assert not (locks.exists() and list(locks.iterdir()))  # no --unlock needed
    assert rerun_plans_the_model(slow_workflow)


def descendants(pid: int) -> dict[int, str]:
    """{pid: command line} of every process below ``pid``."""
    found, frontier = {}, [pid]
    while frontier:
        parent = frontier.pop()
        children = subprocess.run(
            ["pgrep", "-P", str(parent)], capture_output=True, text=True
        ).stdout.split()
        for child in map(int, children):
            try:
                found[child] = (
                    Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                )
            except FileNotFoundError:
                continue
            frontier.append(child)
    return found


def wait_until_gone(pids, seconds=30):
    deadline = time.monotonic() + seconds
    while any(os.path.exists(f"/proc/{pid}") for pid in pids):
        assert time.monotonic() < deadline, "the run outlived the process that owned it"
        time.sleep(0.5)


@pytest.mark.e2e
def test_a_killed_job_takes_its_run_with_it(slow_workflow):
    """The OOM killer or a scheduler may kill the job's own process, not Snakemake."""
    workflow = start_and_wait_for_the_run(slow_workflow)
    processes = descendants(workflow.pid)
    # The job's Python process, not the shell that started it (its command names the step too).
    (job,) = [
        pid
        for pid, args in processes.items()
        if "energybench benchmark --settings" in args
        and Path(f"/proc/{pid}/comm").read_text().strip() != "bash"
    ]
    runs = [pid for pid, args in processes.items() if "energybench run --config" in args]
    assert runs
    os.kill(job, signal.SIGKILL)
    wait_until_gone(runs)
    output = workflow.communicate(timeout=120)[0]
    assert not (slow_workflow / TARGET).exists(), output
    assert rerun_plans_the_model(slow_workflow)


@pytest.mark.e2e
def test_a_killed_workflow_takes_its_run_with_it(slow_workflow):
    workflow = start_and_wait_for_the_run(slow_workflow)
    run_pids = [
        pid for pid, args in descendants(workflow.pid).items() if "energybench run --config" in args
    ]
    assert run_pids
    os.kill(workflow.pid, signal.SIGKILL)  # Snakemake alone: its job is left running
    workflow.communicate(timeout=60)
    wait_until_gone(run_pids)
    time.sleep(1)
    assert not (slow_workflow / TARGET).exists()
    subprocess.run(
        [*SNAKEMAKE[:-1], "--unlock"],
        cwd=slow_workflow,
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert rerun_plans_the_model(slow_workflow)


@pytest.mark.e2e
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
def test_a_run_killed_from_outside_is_redone_not_kept_as_failed(slow_workflow, signum):
    """An operator's `kill` of the run itself (its container's, for containers:
    tests/isolation/test_docker_runtime.py::test_a_stop_from_outside_is_an_interruption)."""
    workflow = start_and_wait_for_the_run(slow_workflow)
    (run,) = [
        pid for pid, args in descendants(workflow.pid).items() if "energybench run --config" in args
    ]
    os.kill(run, signum)
    output = workflow.communicate(timeout=120)[0]
    assert not (slow_workflow / TARGET).exists(), output
    assert "INTERRUPTED" in output and "FAILED" not in output
    assert "out-of-memory killer" not in output
    assert rerun_plans_the_model(slow_workflow)
