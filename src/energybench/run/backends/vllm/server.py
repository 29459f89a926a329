"""A vLLM OpenAI-compatible server, run as a child process for the length of a `with` block.

    with ManagedVLLMServer(model_dir, log_path=run_dir / "vllm.log", settings=vllm_settings) as server:
        run_load(server.endpoint, prompts, LoadSettings(model=server.served_model_name, ...))
        provenance = server.provenance()

Entering starts the server in its own process group (vLLM runs its engine in child processes) and
waits until `/health` answers; a server that exits or stays unhealthy past the timeout raises
`ServerStartError` with the tail of its log. Leaving always stops the whole process group: SIGTERM,
then SIGKILL after a grace period. That holds when the block raises, and when this process gets
SIGTERM (from Snakemake, SLURM or a user): while a server runs in the main thread, SIGTERM raises
`SystemExit(143)` so the block unwinds and the server is stopped.

The server's arguments are built by `vllm_server_args`, apart from how it is launched, so that a
container launcher (vLLM's image with the same arguments) can be added beside this process one.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import energybench
from energybench.run.backends.vllm.endpoint import ROUTE_ERRORS, Endpoint, get_server_route
from energybench.run.backends.vllm.settings import VLLMSettings
from energybench.run.processes import cpus_pinned_in_group, process_group_alive, signal_group

PYTHON_ENV_VAR = "ENERGYBENCH_VLLM_PYTHON"
# The checkout holding this package (src/energybench/..): .ci/install-vllm.sh makes its venv there.
DEFAULT_PYTHON = Path(energybench.__file__).resolve().parents[2] / ".venv-vllm" / "bin" / "python"
API_SERVER_MODULE = "vllm.entrypoints.openai.api_server"
_LOG_TAIL_LINES = 40
_HEALTH_POLL_S = 0.5


class ServerStartError(RuntimeError):
    """The vLLM server could not be started or did not become healthy."""


def vllm_server_args(
    model: str,
    served_model_name: str,
    settings: VLLMSettings,
    dtype: str | None,
    host: str,
    port: int,
) -> list[str]:
    """Arguments of vLLM's OpenAI API server, however it is launched: the block's server
    options and the model's `dtype` (None: vLLM's own choice)."""
    args = [
        "--model",
        model,
        "--served-model-name",
        served_model_name,
        "--host",
        host,
        "--port",
        str(port),
    ]
    options = {
        "--dtype": dtype,
        "--max-model-len": settings.max_model_len,
        "--max-num-seqs": settings.max_num_seqs,
        "--tensor-parallel-size": settings.tensor_parallel_size,
        "--gpu-memory-utilization": settings.gpu_memory_utilization,
    }
    for option, value in options.items():
        if value is not None:
            args += [option, str(value)]
    return args + list(settings.extra_args)


def vllm_python() -> Path:
    """The Python interpreter of the environment vLLM is installed in."""
    return Path(os.environ.get(PYTHON_ENV_VAR) or DEFAULT_PYTHON)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the OS may hand it out again, but rarely does)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class ManagedVLLMServer:
    """A vLLM server process that lives exactly as long as a `with` block.

    It serves ``model`` as ``settings.served_model_name`` (by default as ``model``) with the
    block's server options (`max_num_seqs`, `extra_args`, ...) and waits at most
    ``settings.startup_timeout_s`` for it; ``dtype`` is the model's (None: vLLM's choice)."""

    def __init__(
        self,
        model: str | os.PathLike[str],
        log_path: str | os.PathLike[str],
        settings: VLLMSettings = VLLMSettings(),
        dtype: str | None = None,
        python: str | os.PathLike[str] | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        stop_grace_s: float = 30.0,
    ):
        self.model = str(model)
        self.served_model_name = settings.served_model_name or self.model
        self.settings = settings
        self.log_path = Path(log_path)
        self.python = Path(python) if python is not None else vllm_python()
        self.port = port if port is not None else free_port(host)
        self.endpoint = Endpoint.from_url(f"http://{host}:{self.port}/v1")
        self.startup_timeout_s = settings.startup_timeout_s
        self.stop_grace_s = stop_grace_s
        self.command = [
            str(self.python),
            "-m",
            API_SERVER_MODULE,
            *vllm_server_args(self.model, self.served_model_name, settings, dtype, host, self.port),
        ]
        self.version: str | None = None
        self.startup_s: float | None = None
        self.exit_code: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._previous_sigterm_handler: Any = None

    @property
    def pid(self) -> int | None:
        """Process id of the server, which is also its process group id."""
        return self._process.pid if self._process is not None else None

    def __enter__(self) -> ManagedVLLMServer:
        self._stop_on_sigterm()
        try:
            self.start()
        except BaseException:
            self._restore_sigterm_handler()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.stop()
        finally:
            self._restore_sigterm_handler()

    def start(self) -> None:
        """Start the server and wait until it is healthy; on any failure, stop it and raise."""
        if not self.python.exists():
            raise ServerStartError(
                f"Cannot start vLLM for model {self.model!r}: no Python interpreter at {self.python}. "
                f"Install vLLM there (.ci/install-vllm.sh does, for the CPU) or set {PYTHON_ENV_VAR} "
                "to the python of an environment where vLLM is installed."
            )
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with open(self.log_path, "wb") as log:
            self._process = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=os.environ | self.settings.environment(),
                start_new_session=True,  # own process group: stop() reaches vLLM's engine processes too
            )
        try:
            self._wait_until_healthy()
            self.version = json.loads(get_server_route(self.endpoint.version_url, 10)).get(
                "version"
            )
        except BaseException:
            self.stop()
            raise
        self.startup_s = time.monotonic() - started

    def stop(self) -> None:
        """Stop the server's whole process group: SIGTERM, then SIGKILL after the grace period."""
        if self._process is None or self.exit_code is not None:
            return
        group = self._process.pid
        signal_group(group, signal.SIGTERM)
        try:
            self.exit_code = self._process.wait(timeout=self.stop_grace_s)
        except subprocess.TimeoutExpired:
            signal_group(group, signal.SIGKILL)
            self.exit_code = self._process.wait()
        # The engine processes may outlive the API server for a moment; none may outlive stop().
        deadline = time.monotonic() + self.stop_grace_s
        while process_group_alive(group) and time.monotonic() < deadline:
            time.sleep(0.1)
        signal_group(group, signal.SIGKILL)

    def pinned_cpus(self) -> set[int]:
        """CPUs the server pins threads to: vLLM's CPU backend binds its worker's OpenMP threads
        to cores of their own (VLLM_CPU_OMP_THREADS_BIND) and keeps the rest for its API server;
        on GPUs nothing is pinned."""
        return cpus_pinned_in_group(self.pid) if self.pid is not None else set()

    def provenance(self) -> dict[str, Any]:
        """What a report needs to say how the model was served."""
        return {
            "engine": "vllm",
            "version": self.version,
            "command": self.command,
            "environment": self.settings.environment(),
            "served_model_name": self.served_model_name,
            "endpoint": self.endpoint.base_url,
            "log": str(self.log_path),
            "startup_s": self.startup_s,
        }

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError as error:
            return f"(log unreadable: {error})"

    def _wait_until_healthy(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout_s
        while True:
            exit_code = self._process.poll()
            if exit_code is not None:
                raise ServerStartError(
                    f"The vLLM server for model {self.model!r} exited with code {exit_code} before it became "
                    f"healthy. Last lines of its log {self.log_path}:\n{self.log_tail()}"
                )
            try:
                get_server_route(self.endpoint.health_url, _HEALTH_POLL_S * 4)
                return
            except ROUTE_ERRORS:
                pass  # not listening, or not healthy, yet
            if time.monotonic() > deadline:
                raise ServerStartError(
                    f"The vLLM server for model {self.model!r} did not answer {self.endpoint.health_url} "
                    f"within {self.startup_timeout_s:g} s. "
                    f"Last lines of its log {self.log_path}:\n{self.log_tail()}"
                )
            time.sleep(_HEALTH_POLL_S)

    def _stop_on_sigterm(self) -> None:
        # Python's default SIGTERM action ends the process without unwinding `with` blocks, which
        # would leave the server (in its own process group) running. Signals reach only the main thread.
        if threading.current_thread() is not threading.main_thread():
            return
        self._previous_sigterm_handler = signal.signal(signal.SIGTERM, _exit_on_sigterm)

    def _restore_sigterm_handler(self) -> None:
        if self._previous_sigterm_handler is not None:
            signal.signal(signal.SIGTERM, self._previous_sigterm_handler)
            self._previous_sigterm_handler = None


def _exit_on_sigterm(signum: int, frame: object) -> None:
    # A second SIGTERM while the server is being stopped must not cut the stopping short.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise SystemExit(128 + signum)
