"""The container runtimes against real engines: Docker (`.ci/start-docker.sh` starts it) and,
for the lifecycle tests, podman (`.ci/start-podman.sh`).

Small runs use the registry-free base image (python3, no engine). The CPU engine image's
tests are in test_docker_images.py, a work unit of their own (tests/conftest.py): these runs
count only their own containers, so they run beside the image builds and the pipeline.
"""

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest
from conftest import CPU_BASE_IMAGE as BASE_IMAGE
from conftest import cpu_base_image, require

from energybench.job.isolation import container_cli
from energybench.job.isolation.errors import (
    CAUSE_EXIT_NONZERO,
    CAUSE_IMAGE_ARCHITECTURE,
    CAUSE_IMAGE_MISSING,
    CAUSE_INTERRUPTED,
    CAUSE_KILLED,
    CAUSE_RUNTIME_UNAVAILABLE,
    CAUSE_TIMEOUT,
    LaunchError,
)
from energybench.job.isolation.supervise import launch
from energybench.job.isolation.spec import MODEL_LABEL, PIPELINE_LABEL, LaunchSpec

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]


def cli(engine: str, *args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([engine, *args], capture_output=True, check=check, timeout=120, **kwargs)


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return cli("docker", *args, check=check, text=True)


@pytest.fixture(scope="session")
def docker_daemon():
    problem = container_cli.daemon_problem("docker")
    require(problem is None, f"no Docker engine: {problem} (run .ci/start-docker.sh as root)")


@pytest.fixture(scope="session")
def base_image(docker_daemon):
    return cpu_base_image("docker")


@pytest.fixture(scope="session")
def podman_base_image(base_image):
    problem = container_cli.daemon_problem("podman")
    require(problem is None, f"no podman: {problem} (run .ci/start-podman.sh as root)")
    return cpu_base_image("podman")


@pytest.fixture(params=["docker", "podman"])
def engine(request):
    request.getfixturevalue("base_image" if request.param == "docker" else "podman_base_image")
    return request.param


@pytest.fixture
def model_key():
    return f"test-{uuid.uuid4().hex[:8]}"


def containers_of(model_key: str, engine: str = "docker") -> list[str]:
    filters = [
        "--filter",
        f"label={PIPELINE_LABEL}",
        "--filter",
        f"label={MODEL_LABEL}={model_key}",
    ]
    return cli(engine, "ps", "-a", "-q", *filters, text=True).stdout.split()


def python_spec(tmp_path, model_key, code: str, **overrides) -> LaunchSpec:
    """A run of `python3 -c CODE` in the base image (which has no entrypoint)."""
    fields = dict(
        model_key=model_key,
        runtime="docker",
        benchmark_args=["python3", "-c", textwrap.dedent(code)],
        log_path=tmp_path / "logs" / f"{model_key}.log",
        run_dir=tmp_path / "runs" / model_key,
        image=BASE_IMAGE,
        hf_home=tmp_path / "hf",
        stop_grace_s=5,
    )  # fmt: skip
    fields.update(overrides)
    return LaunchSpec(**fields)


def test_output_reaches_the_log_and_paths_are_the_host_paths(tmp_path, engine, model_key):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "config.json").write_text('{"answer": 42}')
    run_dir = tmp_path / "runs" / model_key
    code = f"""
        import json, os
        print("hello from the container", flush=True)
        config = json.load(open({str(inputs / "config.json")!r}))
        with open({str(run_dir / "seen.json")!r}, "w") as out:
            json.dump({{"config": config, "uid": os.getuid(), "hf_home": os.environ["HF_HOME"]}},
                      out)
        try:
            open({str(inputs / "intruder")!r}, "w")
            print("read-only mount was writable")
        except OSError:
            print("read-only mount refused a write")
    """
    result = launch(
        python_spec(tmp_path, model_key, code, runtime=engine, read_only_mounts=[inputs])
    )

    assert result.runtime == engine and result.exit_code == 0
    assert result.image_id == container_cli.inspect_image(engine, BASE_IMAGE).id
    log = (tmp_path / "logs" / f"{model_key}.log").read_text()
    assert "hello from the container" in log
    assert "read-only mount refused a write" in log
    seen = json.loads((run_dir / "seen.json").read_text())
    assert seen == {"config": {"answer": 42}, "uid": os.getuid(), "hf_home": str(tmp_path / "hf")}
    assert (run_dir / "seen.json").stat().st_uid == os.getuid()
    assert containers_of(model_key, engine) == []


def wait_for(path: Path, worker: threading.Thread) -> None:
    """Until the run in ``worker`` has written ``path``."""
    deadline = time.monotonic() + 120
    while not path.exists():
        assert time.monotonic() < deadline and worker.is_alive(), "the run never started"
        time.sleep(0.2)


def test_running_container_gets_its_token_but_inspect_and_command_lines_never_show_it(
    tmp_path, engine, model_key, monkeypatch
):
    token = f"hf_planted_{uuid.uuid4().hex}"
    monkeypatch.setenv("HF_TOKEN", token)
    run_dir = tmp_path / "runs" / model_key
    # What `energybench run` does first (energybench.job.secrets.load_secrets_file), in the bare image.
    code = f"""
        import json, os, time
        path = os.environ.pop("ENERGYBENCH_SECRETS_FILE")
        values = json.load(open(path))
        os.unlink(path)
        open({str(run_dir / "seen")!r}, "w").write(json.dumps(values))
        while not os.path.exists({str(run_dir / "go")!r}):
            time.sleep(0.1)
    """
    spec = python_spec(tmp_path, model_key, code, runtime=engine, secret_names=("HF_TOKEN",))
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.update(result=launch(spec)))
    worker.start()
    try:
        wait_for(run_dir / "seen", worker)
        assert json.loads((run_dir / "seen").read_text()) == {"HF_TOKEN": token}
        (container,) = containers_of(model_key, engine)
        inspected = cli(engine, "inspect", container, text=True).stdout
        assert "ENERGYBENCH_SECRETS_FILE" in inspected and token not in inspected
        assert (
            token
            not in subprocess.run(
                ["ps", "-eww", "-o", "args"], capture_output=True, text=True
            ).stdout
        )
    finally:
        (run_dir / "go").write_text("")
        worker.join(timeout=120)
    assert outcome["result"].exit_code == 0
    assert token not in spec.log_path.read_text()
    assert not [p for p in Path("/dev/shm").iterdir() if p.name.startswith("energybench-secrets")]


def processes_naming(text: str) -> list[Path]:
    """The /proc entries of this machine's processes whose command line holds ``text``."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and text.encode() in (proc / "cmdline").read_bytes():
                found.append(proc)
        except OSError:
            continue  # gone meanwhile
    return found


def environ_of_processes_naming(text: str) -> list[bytes]:
    """The environments of this machine's processes whose command line holds ``text``."""
    return [(proc / "environ").read_bytes() for proc in processes_naming(text)]


def test_each_container_run_gets_only_its_own_models_secret(tmp_path, engine, three_models_secrets):
    from energybench.job.secrets import needed_secrets, withheld_secrets

    planted = {value for _, value in three_models_secrets.values()} | {os.environ["OPENAI_API_KEY"]}
    for model, (run_config, own) in three_models_secrets.items():
        model_key = f"test-{model}-{uuid.uuid4().hex[:6]}"
        run_dir = tmp_path / "runs" / model_key
        code = f"""
            import json, os, time
            values = json.load(open(os.environ["ENERGYBENCH_SECRETS_FILE"]))
            seen = {{"file": values, "environ": open("/proc/self/environ", "rb").read().hex()}}
            open({str(run_dir / "seen")!r}, "w").write(json.dumps(seen))
            while not os.path.exists({str(run_dir / "go")!r}):
                time.sleep(0.1)
        """
        spec = python_spec(
            tmp_path,
            model_key,
            code,
            runtime=engine,
            secret_names=needed_secrets(run_config),
            withheld_secrets=withheld_secrets(run_config, os.environ),
        )
        worker = threading.Thread(target=launch, args=(spec,))
        worker.start()
        try:
            wait_for(run_dir / "seen", worker)
            seen = json.loads((run_dir / "seen").read_text())
            (container,) = containers_of(model_key, engine)
            exposed = [
                cli(engine, "inspect", container, text=True).stdout,
                bytes.fromhex(seen["environ"]).decode(),
                *map(bytes.decode, environ_of_processes_naming(container)),
            ]
        finally:
            (run_dir / "go").write_text("")
            worker.join(timeout=120)
        assert own in seen["file"].values(), model
        assert [v for v in planted - {own} if v in json.dumps(seen["file"])] == [], model
        assert len(exposed) > 2, "the container client's process was not found"
        assert [v for v in planted if any(v in text for text in exposed)] == [], model


def kill_the_client(engine: str, container: str, model_key: str) -> None:
    """SIGKILL to the `docker run` (or `podman run`) of ``model_key``'s container."""
    (client,) = [
        proc
        for proc in processes_naming(f"energybench-{model_key}-")
        if Path(os.readlink(proc / "exe")).name == engine
    ]
    os.kill(int(client.name), signal.SIGKILL)


@pytest.mark.parametrize(
    "stop",
    [
        kill_the_client,
        lambda engine, container, _: cli(engine, "kill", container),
        lambda engine, container, _: cli(engine, "stop", "-t", "2", container),
        lambda engine, container, _: cli(engine, "kill", "--signal", "QUIT", container),
    ],
    ids=["client killed", "container killed", "container stopped", "container sent QUIT"],
)
def test_a_stop_from_outside_is_an_interruption(tmp_path, engine, model_key, stop):
    run_dir = tmp_path / "runs" / model_key
    code = f"""
        import time
        open({str(run_dir / "seen")!r}, "w").write("up")
        time.sleep(120)
    """
    spec = python_spec(tmp_path, model_key, code, runtime=engine)
    outcome = {}

    def run():
        try:
            launch(spec)
        except LaunchError as error:
            outcome["error"] = error

    worker = threading.Thread(target=run)
    worker.start()
    wait_for(run_dir / "seen", worker)
    (container,) = containers_of(model_key, engine)
    stop(engine, container, model_key)
    worker.join(timeout=120)
    error = outcome["error"]
    assert error.cause == CAUSE_INTERRUPTED, error
    assert "stopped from outside" in str(error) and "out-of-memory killer" not in str(error)
    assert containers_of(model_key, engine) == []


@pytest.mark.parametrize(
    "access, token, written",
    [("none", "absent", False), ("read", "readable", False), ("write", "readable", True)],
)
def test_the_hub_cache_and_its_token_file_reach_only_runs_that_need_them(
    tmp_path, engine, model_key, access, token, written
):
    cache = tmp_path / "hf"
    cache.mkdir()
    (cache / "token").write_text("hf_saved_by_a_login")  # what `huggingface-cli login` leaves
    run_dir = tmp_path / "runs" / model_key
    code = f"""
        import os
        try:
            open({str(cache / "token")!r}).read()
            seen = "readable"
        except OSError:
            seen = "absent"
        try:
            os.makedirs({str(cache / "hub")!r}, exist_ok=True)
            open({str(cache / "hub" / "new")!r}, "w").write("x")
        except OSError:
            pass
        open({str(run_dir / "seen")!r}, "w").write(seen)
    """
    launch(python_spec(tmp_path, model_key, code, runtime=engine, hub_cache=access))
    assert (run_dir / "seen").read_text() == token
    assert (cache / "hub" / "new").exists() == written  # in the host's cache


def test_exit_code_propagates_as_a_clear_error(tmp_path, engine, model_key):
    code = "import sys; print('engine failed: bad config', flush=True); sys.exit(3)"
    with pytest.raises(LaunchError) as error:
        launch(python_spec(tmp_path, model_key, code, runtime=engine))
    assert error.value.cause == CAUSE_EXIT_NONZERO and error.value.exit_code == 3
    assert model_key in str(error.value) and "engine failed: bad config" in str(error.value)
    assert containers_of(model_key, engine) == []


def test_out_of_memory_kill_names_the_memory_limit(tmp_path, base_image, model_key):
    code = "x = bytearray(512 * 1024 * 1024); print('survived')"
    expected = r"killed by the kernel.s out-of-memory killer.*64m"
    with pytest.raises(LaunchError, match=expected) as error:
        launch(python_spec(tmp_path, model_key, code, memory="64m"))
    assert error.value.cause == CAUSE_KILLED and error.value.exit_code == 137
    assert containers_of(model_key) == []


def test_the_engine_records_an_out_of_memory_kill_after_the_container_is_gone(
    base_image, model_key
):
    """The evidence beside the kernel log: `docker events` keeps the `oom` event of a
    container that `--rm` has already removed, and has none for one killed by a user."""
    since = time.time()
    for name, code in (
        (f"{model_key}-oom", "x = bytearray(512 * 1024 * 1024)"),
        (f"{model_key}-fine", "print('fine')"),
    ):
        docker(
            "run",
            "--rm",
            "--name",
            name,
            "--memory",
            "64m",
            "--memory-swap",
            "64m",
            BASE_IMAGE,
            "python3",
            "-c",
            code,
            check=False,
        )
    assert container_cli.oom_event("docker", f"{model_key}-oom", since) is True
    assert container_cli.oom_event("docker", f"{model_key}-fine", since) is False


def test_timeout_stops_and_removes_the_container(tmp_path, base_image, model_key):
    code = "import time; print('started', flush=True); time.sleep(120)"
    with pytest.raises(LaunchError, match="within 3 s") as error:
        launch(python_spec(tmp_path, model_key, code, timeout_s=3))
    assert error.value.cause == CAUSE_TIMEOUT
    assert containers_of(model_key) == []


def test_missing_image_is_a_clear_error(tmp_path, docker_daemon, model_key):
    with pytest.raises(
        LaunchError, match=rf"model '{model_key}'.*no-such-image:0.*never pulls"
    ) as error:
        launch(python_spec(tmp_path, model_key, "print(1)", image="no-such-image:0"))
    assert error.value.cause == CAUSE_IMAGE_MISSING


def test_unreachable_daemon_is_a_clear_error(tmp_path, model_key, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-daemon.sock")
    with pytest.raises(
        LaunchError, match=rf"model '{model_key}'.*does not answer.*runtime: process"
    ) as error:
        launch(python_spec(tmp_path, model_key, "print(1)"))
    assert error.value.cause == CAUSE_RUNTIME_UNAVAILABLE


def _foreign_architecture_image(tag: str) -> bytes:
    """A `docker save` archive of a one-file image whose config says linux/arm64 (or amd64)."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        info = tarfile.TarInfo("marker")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"hi\n"))
    layer_bytes = layer.getvalue()
    architecture = "amd64" if container_cli.host_architecture() == "arm64" else "arm64"
    config = json.dumps({
        "architecture": architecture, "os": "linux", "config": {"Cmd": ["/marker"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer_bytes).hexdigest()]},
    }).encode()  # fmt: skip
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps(
        [{"Config": config_name, "RepoTags": [tag], "Layers": ["layer/layer.tar"]}]
    ).encode()
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        for name, data in (
            (config_name, config),
            ("layer/layer.tar", layer_bytes),
            ("manifest.json", manifest),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return archive.getvalue()


def test_image_for_another_architecture_is_refused_before_running(
    tmp_path, docker_daemon, model_key
):
    tag = f"energybench-test-foreign:{model_key}"
    subprocess.run(
        ["docker", "load"], input=_foreign_architecture_image(tag), check=True, capture_output=True
    )
    try:
        with pytest.raises(
            LaunchError, match=rf"model '{model_key}'.*built for linux/a.*this machine"
        ) as error:
            launch(python_spec(tmp_path, model_key, "print(1)", image=tag))
        assert error.value.cause == CAUSE_IMAGE_ARCHITECTURE
        assert containers_of(model_key) == []
    finally:
        docker("rmi", "-f", tag, check=False)


SLEEPER = "import time; print('container', 'is up', flush=True); time.sleep(120)"
LAUNCHER = """
import sys
from energybench.job.isolation import LaunchError, LaunchSpec, launch
spec = LaunchSpec(model_key=sys.argv[1], runtime=sys.argv[6], log_path=sys.argv[2], run_dir=sys.argv[3],
                  image=sys.argv[4], hf_home=sys.argv[5], stop_grace_s=5,
                  benchmark_args=["python3", "-c", sys.argv[7]])
try:
    launch(spec)
except LaunchError as error:
    print(error.cause, flush=True)
    sys.exit(error.exit_code or 1)
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize(
    "when",
    [
        "container is up",  # mid-run
        "[energybench.job.isolation] $",  # as `docker run` starts, before its container exists
    ],
)
def test_signal_to_the_launcher_leaves_no_container(tmp_path, engine, model_key, signum, when):
    log_path = tmp_path / "launcher.log"
    launcher = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, model_key, str(log_path), str(tmp_path / "run"), BASE_IMAGE,
         str(tmp_path / "hf"), engine, SLEEPER],
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (log_path.exists() and when in log_path.read_text()):
            if launcher.poll() is not None:
                pytest.fail(f"launcher ended before the signal: {launcher.stdout.read()}")
            assert time.monotonic() < deadline, f"{when!r} never appeared in the log"
            time.sleep(0.05)
        if when == "container is up":
            assert len(containers_of(model_key, engine)) == 1  # the run really is in a container
        launcher.send_signal(signum)
        output, _ = launcher.communicate(timeout=60)
    finally:
        if launcher.poll() is None:
            launcher.kill()
    assert launcher.returncode == 128 + signum, output
    assert CAUSE_INTERRUPTED in output
    # A `docker run` that escaped the stop would have its container up by now.
    time.sleep(2)
    assert containers_of(model_key, engine) == []


def test_a_killed_launcher_ends_its_container(tmp_path, engine, model_key):
    """SIGKILL cannot be passed on; the run's stdin (`-i`, a pipe the launcher holds) ends
    instead, and the run (energybench.job.workflow_guard.stop_when_launcher_ends) stops."""
    log_path = tmp_path / "launcher.log"
    waits_for_its_launcher = (
        "import sys; print('container is up', flush=True); "
        "sys.stdin.buffer.read(); print('launcher gone', flush=True)"
    )
    launcher = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, model_key, str(log_path), str(tmp_path / "run"), BASE_IMAGE,
         str(tmp_path / "hf"), engine, waits_for_its_launcher],
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 60
    while not (log_path.exists() and "container is up" in log_path.read_text()):
        assert launcher.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    launcher.kill()
    launcher.wait()
    deadline = time.monotonic() + 15
    while containers_of(model_key, engine):
        assert time.monotonic() < deadline, "the container outlived its launcher"
        time.sleep(0.5)
    assert "launcher gone" in log_path.read_text()
