"""Unit tests of the runtime layer: command construction, runtime choice, and the process
runtime's lifecycle with a stand-in engine (no container engine needed)."""

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from energybench.job.isolation import container_cli, images, supervise
from energybench.job.isolation.spec import HostFacts
from energybench.job.isolation.commands import build_command, mounts_for
from energybench.job.isolation.errors import (
    CAUSE_BAD_MOUNT,
    CAUSE_EXIT_NONZERO,
    CAUSE_INTERRUPTED,
    CAUSE_KILLED,
    CAUSE_TIMEOUT,
    ImageBuildError,
    LaunchError,
)
from energybench.job.secrets import needed_secrets, withheld_secrets
from energybench.job.workflow_guard import LIFELINE_ENV
from energybench.job.isolation.supervise import (
    _StopRequested,
    _StopSignals,
    kernel_oom_record,
    launch,
)
from energybench.job.isolation.spec import (
    CPU_IMAGE_TAG,
    LaunchSpec,
    default_hf_home,
    default_image,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET = "hf_secret_value_never_on_a_command_line"
GPU_HOST = HostFacts(uid=1000, gid=1001, has_gpus=True, environ={"HF_TOKEN": SECRET})
CPU_HOST = HostFacts(uid=1000, gid=1001, has_gpus=False, environ={"HF_TOKEN": SECRET})


def make_spec(tmp_path, **overrides):
    fields = dict(
        model_key="tiny-llama",
        runtime="docker",
        benchmark_args=["run", "--config", str(tmp_path / "cfg" / "run.json"), "--output",
                     str(tmp_path / "runs" / "tiny-llama" / "benchmark_report.json")],
        log_path=tmp_path / "logs" / "tiny-llama.log",
        run_dir=tmp_path / "runs" / "tiny-llama",
        image="energybench:test",
        read_only_mounts=[tmp_path / "cfg", tmp_path / "models"],
        hf_home=tmp_path / "hf",
    )  # fmt: skip
    fields.update(overrides)
    return LaunchSpec(**fields)


def container_argv(spec, engine="docker", host=CPU_HOST):
    return list(
        build_command(
            spec, engine, host, image_ref="sha256:abc", container_name="energybench-x-1"
        ).argv
    )


def value_after(argv, flag):
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == flag]


# --- docker -----------------------------------------------------------------------------


def test_docker_runs_in_foreground_removed_named_labelled_as_the_caller(tmp_path):
    argv = container_argv(make_spec(tmp_path))
    assert argv[:3] == ["docker", "run", "--rm"]
    assert "-d" not in argv and "--detach" not in argv
    assert "--privileged" not in argv and not any(a.startswith("--privileged") for a in argv)
    assert value_after(argv, "--name") == ["energybench-x-1"]
    assert value_after(argv, "--label") == [
        "energybench.pipeline=1",
        "energybench.model=tiny-llama",
    ]
    assert value_after(argv, "--user") == ["1000:1001"]
    assert value_after(argv, "--shm-size") == ["8g"]
    assert value_after(argv, "--pull") == ["never"]
    assert "-i" in argv and "ENERGYBENCH_LIFELINE=stdin" in value_after(argv, "-e")
    # The image is run by the id that was checked, followed by the engine's arguments verbatim.
    image_at = argv.index("sha256:abc")
    assert argv[image_at + 1 :] == list(make_spec(tmp_path).benchmark_args)


def test_docker_mounts_same_paths_run_dir_and_cache_writable_rest_read_only(tmp_path):
    argv = container_argv(make_spec(tmp_path))
    mounts = value_after(argv, "--mount")
    assert (
        f"type=bind,source={tmp_path / 'runs' / 'tiny-llama'},target={tmp_path / 'runs' / 'tiny-llama'}"
        in mounts
    )
    assert f"type=bind,source={tmp_path / 'hf'},target={tmp_path / 'hf'}" in mounts
    assert f"type=bind,source={tmp_path / 'cfg'},target={tmp_path / 'cfg'},readonly" in mounts
    assert f"type=bind,source={tmp_path / 'models'},target={tmp_path / 'models'},readonly" in mounts
    assert len(mounts) == 4
    assert f"HF_HOME={tmp_path / 'hf'}" in value_after(argv, "-e")


@pytest.mark.parametrize("engine", ["docker", "apptainer"])
def test_the_hub_cache_is_mounted_only_as_far_as_the_run_needs_it(tmp_path, engine):
    cache = tmp_path / "hf"

    def mounted(access):
        spec = make_spec(tmp_path, runtime=engine, hub_cache=access)
        command = build_command(spec, engine, CPU_HOST, container_name="energybench-x-1")
        env = dict(
            value.split("=", 1)
            for value in value_after(list(command.argv), "-e")
            + value_after(list(command.argv), "--env")
        )
        return {m.path: m.read_only for m in mounts_for(spec)}.get(cache), env

    assert mounted("write") == (False, {"HF_HOME": str(cache), LIFELINE_ENV: "stdin"})
    assert mounted("read") == (
        True,
        {"HF_HOME": str(cache), "HF_HUB_OFFLINE": "1", LIFELINE_ENV: "stdin"},
    )
    # Neither the cache nor a token file a Hub login saved in it.
    assert mounted("none") == (
        None,
        {
            "HF_HOME": "/tmp/huggingface",
            "HF_HUB_OFFLINE": "1",
            "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
            LIFELINE_ENV: "stdin",
        },
    )


def test_a_process_run_without_the_hub_reads_no_saved_token(tmp_path):
    env = build_command(
        make_spec(tmp_path, runtime="process", hub_cache="none"), "process", CPU_HOST
    ).env
    assert env["HF_TOKEN_PATH"] == os.devnull and env["HF_HUB_OFFLINE"] == "1"
    env = build_command(make_spec(tmp_path, runtime="process"), "process", CPU_HOST).env
    assert "HF_TOKEN_PATH" not in env and "HF_HUB_OFFLINE" not in env


def test_nested_mounts_come_after_their_parents_and_run_dir_stays_writable(tmp_path):
    spec = make_spec(tmp_path, read_only_mounts=[tmp_path], run_dir=tmp_path / "runs" / "m")
    order = [(m.path, m.read_only) for m in mounts_for(spec)]
    assert order[0] == (tmp_path, True)
    assert (tmp_path / "runs" / "m", False) in order
    # A read-only request for the run dir itself does not make it read-only.
    spec = make_spec(tmp_path, read_only_mounts=[tmp_path / "runs" / "tiny-llama"])
    assert [m.read_only for m in mounts_for(spec) if m.path == spec.run_dir] == [False]


@pytest.mark.parametrize("engine", ["docker", "podman"])
def test_secrets_reach_containers_as_a_mounted_file_never_in_their_configuration(tmp_path, engine):
    secrets_path = tmp_path / "private" / "secrets.json"
    argv = list(
        build_command(
            make_spec(tmp_path, runtime=engine),
            engine,
            CPU_HOST,
            image_ref="sha256:abc",
            container_name="energybench-x-1",
            secrets_path=secrets_path,
        ).argv
    )
    assert value_after(argv, "-e")[-1] == f"ENERGYBENCH_SECRETS_FILE={secrets_path}"
    source = secrets_path.parent
    assert f"type=bind,source={source},target={source}" in value_after(argv, "--mount")
    assert not any("HF_TOKEN" in arg or SECRET in arg for arg in argv)
    without = container_argv(make_spec(tmp_path, runtime=engine), engine)
    assert not any("SECRETS" in arg or "HF_TOKEN" in arg for arg in without)


@pytest.mark.parametrize(
    ("gpus", "host", "expected"),
    [
        (["0", "1"], GPU_HOST, ['"device=0,1"']),
        (["3"], GPU_HOST, ['"device=3"']),
        (None, GPU_HOST, ["all"]),
        (None, CPU_HOST, []),
        ([], GPU_HOST, []),
    ],
)
def test_docker_gpus(tmp_path, gpus, host, expected):
    argv = container_argv(make_spec(tmp_path, gpus=gpus), host=host)
    assert value_after(argv, "--gpus") == expected


def test_docker_cpu_and_memory_limits_only_when_given(tmp_path):
    argv = container_argv(make_spec(tmp_path))
    assert "--cpus" not in argv and "--memory" not in argv
    argv = container_argv(make_spec(tmp_path, cpus=2.5, memory="12g", shm_size="2g"))
    assert value_after(argv, "--cpus") == ["2.5"]
    assert value_after(argv, "--memory") == ["12g"]
    assert value_after(argv, "--memory-swap") == ["12g"]
    assert value_after(argv, "--shm-size") == ["2g"]


def test_mount_path_that_would_split_the_mount_syntax_is_refused(tmp_path):
    spec = make_spec(tmp_path, read_only_mounts=[tmp_path / "a,b"])
    with pytest.raises(LaunchError, match="tiny-llama") as error:
        container_argv(spec)
    assert error.value.cause == CAUSE_BAD_MOUNT


# --- podman -----------------------------------------------------------------------------


def test_podman_uses_same_cli_with_cdi_gpus_and_keeps_rootless_user_id(tmp_path):
    argv = container_argv(
        make_spec(tmp_path, runtime="podman", gpus=["0", "2"]), "podman", GPU_HOST
    )
    assert argv[:3] == ["podman", "run", "--rm"]
    assert value_after(argv, "--device") == ["nvidia.com/gpu=0", "nvidia.com/gpu=2"]
    assert "--gpus" not in argv
    assert value_after(argv, "--userns") == ["keep-id"]
    assert value_after(argv, "--user") == ["1000:1001"]
    root = HostFacts(uid=0, gid=0, has_gpus=True)
    argv = container_argv(make_spec(tmp_path, runtime="podman"), "podman", root)
    assert "--userns" not in argv
    assert value_after(argv, "--device") == ["nvidia.com/gpu=all"]


# --- apptainer --------------------------------------------------------------------------


def test_apptainer_binds_same_paths_and_passes_secrets_through_the_environment(tmp_path):
    spec = make_spec(tmp_path, runtime="apptainer", image="/images/energybench.sif", gpus=["1"])
    command = build_command(spec, "apptainer", GPU_HOST)
    argv = list(command.argv)
    assert argv[:2] == ["apptainer", "exec"]
    assert "--nv" in argv and "--cleanenv" in argv
    binds = value_after(argv, "--bind")
    assert f"{tmp_path / 'cfg'}:{tmp_path / 'cfg'}:ro" in binds
    assert f"{spec.run_dir}:{spec.run_dir}" in binds
    assert "CUDA_VISIBLE_DEVICES=1" in value_after(argv, "--env")
    image_at = argv.index("/images/energybench.sif")
    assert argv[image_at + 1 :] == ["energybench", *spec.benchmark_args]
    assert not any(SECRET in arg for arg in argv)
    assert command.env == {"APPTAINERENV_HF_TOKEN": SECRET}


def test_apptainer_converts_an_image_name_and_skips_nv_without_gpus(tmp_path):
    argv = list(build_command(make_spec(tmp_path, runtime="apptainer"), "apptainer", CPU_HOST).argv)
    assert "docker-daemon://energybench:test" in argv
    assert "--nv" not in argv


# --- process ----------------------------------------------------------------------------


def test_process_runs_this_python_with_assigned_devices(tmp_path):
    spec = make_spec(tmp_path, runtime="process", gpus=["2", "3"])
    command = build_command(spec, "process", GPU_HOST)
    assert list(command.argv) == [sys.executable, "-m", "energybench", *spec.benchmark_args]
    assert command.env["CUDA_VISIBLE_DEVICES"] == "2,3"
    assert command.env["HF_HOME"] == str(tmp_path / "hf")
    unassigned = build_command(make_spec(tmp_path, runtime="process"), "process", GPU_HOST)
    assert "CUDA_VISIBLE_DEVICES" not in unassigned.env


@pytest.mark.parametrize("runtime", ["process", "docker", "apptainer"])
def test_no_runtime_hands_a_withheld_secret_to_its_child(tmp_path, runtime):
    environ = {"OTHER_KEY": SECRET, "APPTAINERENV_OTHER_KEY": SECRET, "PATH": "/bin"}
    spec = make_spec(
        tmp_path, runtime=runtime, withheld_secrets=("OTHER_KEY",), env_passthrough=("OTHER_KEY",)
    )
    command = build_command(
        spec, runtime, HostFacts(0, 0, False, environ), container_name="energybench-x-1"
    )
    assert SECRET not in command.child_environment(environ).values()
    assert "OTHER_KEY" not in command.argv


def test_a_process_run_inherits_only_the_tokens_it_needs(tmp_path):
    environ = {"HF_TOKEN": SECRET, "HUGGING_FACE_HUB_TOKEN": SECRET, "PATH": "/bin"}
    local = build_command(
        make_spec(tmp_path, runtime="process", secret_names=()), "process", CPU_HOST
    )
    assert SECRET not in local.child_environment(environ).values()
    assert local.child_environment(environ)["PATH"] == "/bin"
    from_hub = build_command(make_spec(tmp_path, runtime="process"), "process", CPU_HOST)
    assert from_hub.child_environment(environ)["HF_TOKEN"] == SECRET


# --- choosing a runtime, defaults -------------------------------------------------------


def test_auto_uses_docker_where_a_daemon_answers(monkeypatch):
    monkeypatch.setattr(container_cli, "daemon_problem", lambda engine: None)
    assert container_cli.resolve_runtime("auto") == "docker"


def test_auto_falls_back_to_process_with_a_warning(monkeypatch, caplog):
    monkeypatch.setattr(
        container_cli, "daemon_problem", lambda engine: "`docker info` failed: no daemon"
    )
    with caplog.at_level(logging.WARNING):
        assert container_cli.resolve_runtime("auto") == "process"
    assert "no daemon" in caplog.text


def test_explicit_runtimes_are_kept_and_unknown_ones_refused(monkeypatch):
    monkeypatch.setattr(
        container_cli, "daemon_problem", lambda engine: pytest.fail("must not probe")
    )
    for runtime in ("process", "docker", "podman", "apptainer"):
        assert container_cli.resolve_runtime(runtime) == runtime
    with pytest.raises(ValueError, match="kubernetes"):
        container_cli.resolve_runtime("kubernetes")
    with pytest.raises(ValueError, match="tiny-llama"):
        LaunchSpec("tiny-llama", "kubernetes", [], "log", "run")


def test_missing_daemon_binary_is_reported_not_raised():
    assert "not installed" in container_cli.daemon_problem("no-such-engine-binary")


def test_seed_environment_variables_are_the_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_IMAGE", "energy_star")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-cache"))
    assert default_image() == "energy_star"
    assert default_hf_home() == tmp_path / "hf-cache"
    spec = LaunchSpec("m", "docker", [], tmp_path / "log", tmp_path / "run")
    assert spec.image_or_default == "energy_star"
    assert spec.hf_home_or_default == tmp_path / "hf-cache"
    monkeypatch.delenv("DOCKER_IMAGE")
    assert default_image() == CPU_IMAGE_TAG


# --- images: inputs of the CPU build ----------------------------------------------------


def test_engine_requirements_drop_torch_and_host_only_tools():
    listed = subprocess.run(
        ["sh", str(REPO_ROOT / "containers" / "engine-requirements.sh"), str(REPO_ROOT / "requirements" / "ci.txt")],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    names = {line.split("==")[0] for line in listed.splitlines() if "==" in line}
    assert {"transformers", "numpy", "aiohttp", "nvidia-ml-py"} <= names
    assert not names & {"torch", "snakemake", "snakemake-executor-plugin-slurm", "pytest"}


def test_cpu_torch_wheel_is_found_by_pinned_version_and_missing_one_explained(
    tmp_path, monkeypatch
):
    machine = images.platform.machine()
    wanted = tmp_path / f"torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_{machine}.whl"
    wanted.write_bytes(b"wheel")
    (tmp_path / f"torch-2.13.0+cu128-cp311-cp311-manylinux_2_28_{machine}.whl").write_bytes(b"cuda")
    monkeypatch.setenv(images.WHEEL_DIR_ENV, str(tmp_path))
    assert images.find_cpu_torch_wheel("2.13.0") == wanted
    monkeypatch.setattr(images, "DEFAULT_WHEEL_DIRS", ())
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    with pytest.raises(ImageBuildError, match=r"torch 9\.9\.9.*ENERGYBENCH_TORCH_WHEEL_DIR"):
        images.find_cpu_torch_wheel("9.9.9")


def test_torch_pin_is_read_from_requirements(tmp_path):
    assert images.torch_version(REPO_ROOT / "requirements" / "ci.txt")
    unpinned = tmp_path / "r.txt"
    unpinned.write_text("torch>=2\n")
    with pytest.raises(ImageBuildError, match="does not pin torch"):
        images.torch_version(unpinned)


def test_cpu_image_is_built_on_the_base_image_it_is_given(tmp_path, monkeypatch):
    """A cold-build benchmark makes a base of its own; by default the Dockerfile's is used."""
    calls = tmp_path / "calls"
    cli = tmp_path / "fake-docker"
    cli.write_text(
        textwrap.dedent(f"""\
        #!/bin/sh
        echo "$*" >> {calls}
        [ "$1" = build ] || exit 0  # image inspect: the base exists
        while [ "$1" != --iidfile ]; do shift; done
        echo sha256:built > "$2"
        """)
    )
    cli.chmod(0o755)
    monkeypatch.setattr(images, "stage_cpu_context", lambda repo_root: None)
    assert (
        images.build_cpu_image(REPO_ROOT, "t:cold", str(cli), base_image="b:cold") == "sha256:built"
    )
    images.build_cpu_image(REPO_ROOT, "t:default", str(cli))
    inspect_cold, build_cold, inspect_default, build_default = calls.read_text().splitlines()
    assert inspect_cold == "image inspect b:cold"
    assert "--build-arg BASE_IMAGE=b:cold" in build_cold
    assert inspect_default == "image inspect energybench-base:bookworm"
    assert "BASE_IMAGE" not in build_default


# --- the process runtime, for real, with a stand-in engine -------------------------------

FAKE_ENGINE = textwrap.dedent(
    """
    import os, subprocess, sys, time
    args = sys.argv[1:]
    print("engine args:", args)
    print("CUDA_VISIBLE_DEVICES=" + os.environ.get("CUDA_VISIBLE_DEVICES", "<unset>"))
    print("HF_HOME=" + os.environ["HF_HOME"])
    if args[0] == "fail":
        sys.exit(int(args[1]))
    if args[0] == "sleep":
        # A grandchild too: a stop must end the whole process group.
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        open(args[1], "w").write(str(child.pid))
        time.sleep(60)
    if args[0] == "selfkill":
        os.kill(os.getpid(), int(args[1]))
    if args[0] == "environ":
        open(args[1], "wb").write(open("/proc/self/environ", "rb").read())
    """
)


@pytest.fixture
def fake_engine(tmp_path, monkeypatch):
    package = tmp_path / "fake" / "energybench"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(FAKE_ENGINE)
    monkeypatch.setenv("PYTHONPATH", str(package.parent))


def process_spec(tmp_path, benchmark_args, **overrides):
    return make_spec(
        tmp_path, runtime="process", benchmark_args=benchmark_args, read_only_mounts=[], **overrides
    )


def test_process_run_streams_output_to_the_log(tmp_path, fake_engine):
    result = launch(process_spec(tmp_path, ["run", "--config", "x"], gpus=["1"]), CPU_HOST)
    assert result.runtime == "process" and result.exit_code == 0 and result.image_id is None
    log = (tmp_path / "logs" / "tiny-llama.log").read_text()
    assert "engine args: ['run', '--config', 'x']" in log
    assert "CUDA_VISIBLE_DEVICES=1" in log
    assert f"HF_HOME={tmp_path / 'hf'}" in log


def test_each_process_run_sees_only_its_own_models_secret(
    tmp_path, fake_engine, three_models_secrets
):
    planted = {value for _, value in three_models_secrets.values()} | {os.environ["OPENAI_API_KEY"]}
    for model, (run_config, own) in three_models_secrets.items():
        dump = tmp_path / f"{model}.environ"
        spec = process_spec(
            tmp_path,
            ["environ", str(dump)],
            model_key=model,
            secret_names=needed_secrets(run_config),
            withheld_secrets=withheld_secrets(run_config, os.environ),
        )
        launch(spec, CPU_HOST)
        environ = dump.read_bytes()  # the run's /proc/<pid>/environ
        assert own.encode() in environ, model
        assert [value for value in planted - {own} if value.encode() in environ] == [], model


def test_process_failure_raises_with_exit_code_and_last_line(tmp_path, fake_engine):
    with pytest.raises(LaunchError) as error:
        launch(process_spec(tmp_path, ["fail", "3"]), CPU_HOST)
    assert error.value.cause == CAUSE_EXIT_NONZERO and error.value.exit_code == 3
    assert "tiny-llama" in str(error.value) and "HF_HOME=" in str(error.value)


@pytest.mark.parametrize(
    "signum",
    [
        signal.SIGKILL,
        signal.SIGTERM,
        signal.SIGINT,
        signal.SIGHUP,
        signal.SIGQUIT,
        signal.SIGUSR1,
        signal.SIGALRM,
    ],
)
def test_a_stop_from_outside_is_an_interruption_not_out_of_memory(
    tmp_path, fake_engine, signum, monkeypatch
):
    monkeypatch.setattr(supervise, "kernel_oom_record", lambda since, pid=None: "")
    name = signal.Signals(signum).name
    expected = rf"stopped from outside \({name}, exit -{signum}\)"
    with pytest.raises(LaunchError, match=expected) as error:
        launch(process_spec(tmp_path, ["selfkill", str(int(signum))]), CPU_HOST)
    assert error.value.cause == CAUSE_INTERRUPTED and error.value.exit_code == 128 + signum
    assert "out-of-memory killer" not in str(error.value)


def test_a_kill_is_out_of_memory_only_on_the_kernel_s_word(tmp_path, fake_engine, monkeypatch):
    monkeypatch.setattr(
        supervise,
        "kernel_oom_record",
        lambda since, pid=None: "Out of memory: Killed process 41 (python)",
    )
    with pytest.raises(LaunchError, match="out-of-memory killer .*no memory limit") as error:
        launch(process_spec(tmp_path, ["selfkill", "9"]), CPU_HOST)
    assert error.value.cause == CAUSE_KILLED


@pytest.mark.parametrize("signum", [signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGFPE])
def test_a_crash_is_the_model_s_failure(tmp_path, fake_engine, signum):
    with pytest.raises(LaunchError, match=f"exited with code -{int(signum)}") as error:
        launch(process_spec(tmp_path, ["selfkill", str(int(signum))]), CPU_HOST)
    assert error.value.cause == CAUSE_EXIT_NONZERO


def test_out_of_memory_is_named_only_on_the_kernel_log_s_word():
    log = (
        "[  100.000000] Out of memory: Killed process 41 (python) total-vm:9000kB\n"
        "[  200.500000] Memory cgroup out of memory: Killed process 77 (python)\n"
        "[  201.000000] veth0: left promiscuous mode\n"
    )
    assert (
        kernel_oom_record(200.0, log) == "Memory cgroup out of memory: Killed process 77 (python)"
    )
    assert kernel_oom_record(300.0, log) == ""  # an old kill is no evidence about this run
    # Another process's kill is no evidence about this run either.
    assert kernel_oom_record(200.0, log, pid=77).startswith("Memory cgroup out of memory")
    assert kernel_oom_record(0.0, log, pid=7) == ""
    assert kernel_oom_record(0.0, "[  5.0] usb 1-1: new device\n") == ""


def test_process_timeout_ends_the_whole_process_group(tmp_path, fake_engine):
    pid_file = tmp_path / "grandchild.pid"
    started = time.monotonic()
    with pytest.raises(LaunchError, match="did not finish within 3 s") as error:
        launch(
            process_spec(tmp_path, ["sleep", str(pid_file)], timeout_s=3, stop_grace_s=2), CPU_HOST
        )
    assert error.value.cause == CAUSE_TIMEOUT
    assert time.monotonic() - started < 20
    grandchild = int(pid_file.read_text())
    for _ in range(50):
        if not Path(f"/proc/{grandchild}").exists() or "Z" in _proc_state(grandchild):
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"grandchild {grandchild} outlived the stopped run")


def _proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return "gone"


def test_host_facts_see_this_process():
    facts = HostFacts.detect()
    assert (facts.uid, facts.gid) == (os.getuid(), os.getgid())
    assert facts.has_gpus == any(Path("/proc/driver/nvidia/gpus").glob("*"))


def test_a_stop_signal_during_a_deferred_block_is_raised_when_the_block_ends():
    # The launcher defers stops while it starts the child, so that it always knows what to stop.
    handler_before = signal.getsignal(signal.SIGTERM)
    finished_block = False
    with pytest.raises(_StopRequested) as stop:
        with _StopSignals() as stop_signals:
            with stop_signals.deferred():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.05)
                finished_block = True
    assert finished_block and stop.value.signum == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is handler_before


def test_apptainer_missing_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(LaunchError, match="`apptainer` command is not installed") as error:
        launch(make_spec(tmp_path, runtime="apptainer", read_only_mounts=[]), CPU_HOST)
    assert error.value.cause == "runtime_unavailable"
