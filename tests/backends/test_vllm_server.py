"""Lifecycle of the managed server, with a fake `vllm` package standing in for the real one.

The fake `vllm.entrypoints.openai.api_server` starts a child process (as vLLM starts its engine),
serves `/health` and `/version`, and misbehaves on request (FAKE_VLLM_MODE), so these tests run in
seconds; tests/backends/test_vllm_integration.py does the same with the real vLLM.
"""

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from energybench.run.backends.vllm.server import (
    ManagedVLLMServer,
    ServerStartError,
    free_port,
    process_group_alive,
    vllm_server_args,
)
from energybench.run.backends.vllm.settings import VLLMSettings
from energybench.run.processes import cpus_pinned_in_group, parse_cpu_list

FAKE_API_SERVER = """
import argparse, json, os, subprocess, sys, time, signal
from http.server import BaseHTTPRequestHandler, HTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--host")
parser.add_argument("--port", type=int)
args, _ = parser.parse_known_args()
mode = os.environ.get("FAKE_VLLM_MODE", "ok")
print("fake vllm", sys.argv[1:], "kv cache", os.environ.get("VLLM_CPU_KVCACHE_SPACE"), flush=True)
engine = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print("engine pid", engine.pid, flush=True)
if mode == "crash":
    print("RuntimeError: Unsupported CPU attention configuration", flush=True)
    sys.exit(3)
if mode == "ignore-sigterm":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def do_GET(self):
        status, body = 404, b"{}"
        if self.path == "/health":
            status, body = (503 if mode == "never-healthy" else 200), b""
        elif self.path == "/version":
            status, body = 200, json.dumps({"version": "fake-1.0"}).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

HTTPServer((args.host, args.port), Handler).serve_forever()
"""

CALLER_SCRIPT = """
import sys, time
from energybench.run.backends.vllm.server import ManagedVLLMServer
with ManagedVLLMServer("m", sys.argv[1], python=sys.executable, stop_grace_s=5) as server:
    print(server.pid, flush=True)
    time.sleep(120)
"""


@pytest.fixture
def fake_vllm(tmp_path, monkeypatch):
    """Put a fake `vllm` package on the server's PYTHONPATH; return a setter for its mode."""
    package = tmp_path / "fake" / "vllm" / "entrypoints" / "openai"
    package.mkdir(parents=True)
    for folder in (package, package.parent, package.parent.parent):
        (folder / "__init__.py").touch()
    (package / "api_server.py").write_text(textwrap.dedent(FAKE_API_SERVER))
    source = os.path.join(os.path.dirname(__file__), "..", "..", "src")
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(tmp_path / "fake"), os.path.abspath(source)])
    )
    return lambda mode: monkeypatch.setenv("FAKE_VLLM_MODE", mode)


def managed(tmp_path, startup_timeout_s=20, settings=VLLMSettings(), **options):
    options = {"python": sys.executable, "stop_grace_s": 2} | options
    settings = settings.model_copy(update={"startup_timeout_s": startup_timeout_s})
    return ManagedVLLMServer("org/model", tmp_path / "logs" / "vllm.log", settings, **options)


def test_arguments_carry_the_serving_settings():
    settings = VLLMSettings(
        max_model_len=512,
        max_num_seqs=4,
        tensor_parallel_size=2,
        gpu_memory_utilization=0.5,
        extra_args=("--enforce-eager",),
    )
    assert vllm_server_args("/models/m", "m", settings, "float32", "127.0.0.1", 8021) == [
        "--model", "/models/m", "--served-model-name", "m", "--host", "127.0.0.1", "--port", "8021",
        "--dtype", "float32", "--max-model-len", "512", "--max-num-seqs", "4",
        "--tensor-parallel-size", "2", "--gpu-memory-utilization", "0.5", "--enforce-eager",
    ]  # fmt: skip
    assert vllm_server_args("m", "m", VLLMSettings(), None, "h", 1) == [
        "--model",
        "m",
        "--served-model-name",
        "m",
        "--host",
        "h",
        "--port",
        "1",
    ]


def test_cpu_kv_cache_size_goes_to_the_environment():
    assert VLLMSettings(cpu_kvcache_space_gib=1).environment() == {"VLLM_CPU_KVCACHE_SPACE": "1"}
    assert VLLMSettings().environment() == {}


def test_python_comes_from_the_environment_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("ENERGYBENCH_VLLM_PYTHON", "/opt/vllm/bin/python")
    server = ManagedVLLMServer("m", tmp_path / "log", port=8021)
    assert server.command[:3] == [
        "/opt/vllm/bin/python",
        "-m",
        "vllm.entrypoints.openai.api_server",
    ]
    assert server.endpoint.base_url == "http://127.0.0.1:8021/v1"


def test_a_missing_interpreter_says_how_to_install_vllm(tmp_path):
    with pytest.raises(ServerStartError, match="install-vllm.sh"):
        with ManagedVLLMServer("m", tmp_path / "log", python=tmp_path / "nope" / "python"):
            pass


def test_server_runs_inside_the_block_and_its_group_is_gone_after(fake_vllm, tmp_path):
    fake_vllm("ok")
    with managed(
        tmp_path, settings=VLLMSettings(cpu_kvcache_space_gib=1, served_model_name="m")
    ) as server:
        assert process_group_alive(server.pid)
        assert server.version == "fake-1.0" and server.startup_s > 0
        provenance = server.provenance()
    assert not process_group_alive(server.pid)
    assert provenance["served_model_name"] == "m" and provenance["environment"] == {
        "VLLM_CPU_KVCACHE_SPACE": "1"
    }
    log = server.log_path.read_text()
    assert "kv cache 1" in log and "'--served-model-name', 'm'" in log


def test_health_and_version_go_straight_to_the_server_past_the_environments_proxy(
    fake_vllm, tmp_path, monkeypatch
):
    """As the load generator's requests do: a proxy would be measured with the server."""
    fake_vllm("ok")
    nowhere = f"http://127.0.0.1:{free_port()}"  # no proxy listens there
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, nowhere)
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    with managed(tmp_path) as server:
        assert server.version == "fake-1.0"


def test_the_group_is_gone_after_a_failure_inside_the_block(fake_vllm, tmp_path):
    fake_vllm("ok")
    with pytest.raises(RuntimeError, match="benchmark failed"), managed(tmp_path) as server:
        raise RuntimeError("benchmark failed")
    assert not process_group_alive(server.pid)


def test_a_server_ignoring_sigterm_is_killed_after_the_grace_period(fake_vllm, tmp_path):
    fake_vllm("ignore-sigterm")
    with managed(tmp_path, stop_grace_s=1) as server:
        pass
    assert server.exit_code == -9
    assert not process_group_alive(server.pid)


def test_a_server_that_dies_at_startup_fails_fast_with_its_log_tail(fake_vllm, tmp_path):
    fake_vllm("crash")
    server = managed(tmp_path, startup_timeout_s=60)
    started = time.monotonic()
    with pytest.raises(
        ServerStartError,
        match="(?s)model 'org/model' exited with code 3.*Unsupported CPU attention",
    ):
        with server:
            pass
    assert time.monotonic() - started < 10
    assert not process_group_alive(server.pid)  # the orphaned engine process too


def test_a_server_that_never_becomes_healthy_is_stopped_at_the_timeout(fake_vllm, tmp_path):
    fake_vllm("never-healthy")
    server = managed(tmp_path, startup_timeout_s=2)
    with pytest.raises(
        ServerStartError, match=r"did not answer http://127\.0\.0\.1:\d+/health within 2 s"
    ):
        with server:
            pass
    assert not process_group_alive(server.pid)


def test_sigterm_to_the_caller_stops_the_server(fake_vllm, tmp_path):
    fake_vllm("ok")
    caller = subprocess.Popen(
        [sys.executable, "-c", CALLER_SCRIPT, str(tmp_path / "vllm.log")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        server_pid = int(caller.stdout.readline())
        assert process_group_alive(server_pid)
        caller.terminate()
        assert caller.wait(timeout=15) == 143
        assert not process_group_alive(server_pid)
    finally:
        caller.kill()


# --- CPU placement: the client keeps off the cores the server pins its engine to ---


def fake_proc(root, processes):
    """A /proc with {pid: (process group, state, {tid: Cpus_allowed_list})}."""
    for pid, (group, state, threads) in processes.items():
        (root / str(pid)).mkdir()
        (root / str(pid) / "stat").write_text(f"{pid} (VLLM::Worker x) {state} 1 {group} {group} 0")
        for tid, cpus in threads.items():
            (root / str(pid) / "task" / str(tid)).mkdir(parents=True)
            (root / str(pid) / "task" / str(tid) / "status").write_text(
                f"Name:\tx\nCpus_allowed_list:\t{cpus}\nMems_allowed:\t1\n"
            )
    return root


def test_cpus_pinned_in_a_group_are_those_of_its_narrower_threads(tmp_path):
    proc = fake_proc(
        tmp_path,
        {
            100: (100, "S", {100: "0-3", 101: "0-3"}),  # API server, unpinned
            120: (100, "R", {120: "0-1", 121: "0,1", 122: "2"}),  # worker's OpenMP threads
            130: (100, "Z", {130: "3"}),  # a zombie pins nothing
            200: (200, "R", {200: "3"}),  # another group
        },
    )
    assert cpus_pinned_in_group(100, proc) == {0, 1, 2}
    assert cpus_pinned_in_group(200, proc) == set()  # one thread: nothing narrower than it
    assert process_group_alive(100, proc) and not process_group_alive(300, proc)
    assert parse_cpu_list("0-2,5,7-8\n") == {0, 1, 2, 5, 7, 8}


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs to move between")
def test_keeping_off_pinned_cpus_moves_every_thread_of_the_process():
    # In a child process: the move is for the whole process, for good.
    script = textwrap.dedent("""
        import json, os, threading
        from energybench.run.backends.vllm.backend import keep_off_cpus
        started = threading.Event()
        threading.Thread(target=lambda: started.wait(5), daemon=True).start()  # a thread from before
        pinned = {min(os.sched_getaffinity(0))}
        placement = keep_off_cpus(pinned)
        threads = {t: sorted(os.sched_getaffinity(int(t))) for t in os.listdir("/proc/self/task")}
        started.set()
        print(json.dumps([placement, sorted(pinned), list(threads.values())]))
    """)
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)},
    ).stdout
    placement, pinned, threads = json.loads(out)
    assert placement["moved"] and placement["server_pinned_cpus"] == pinned
    assert len(threads) >= 2 and all(cpus == placement["client_cpus"] for cpus in threads)
    assert not set(pinned) & set(placement["client_cpus"])


def test_nothing_moves_when_nothing_is_pinned():
    from energybench.run.backends.vllm.backend import keep_off_cpus

    before = os.sched_getaffinity(0)
    assert keep_off_cpus(set()) == {
        "server_pinned_cpus": [],
        "client_cpus": sorted(before),
        "moved": False,
    }
    assert os.sched_getaffinity(0) == before
