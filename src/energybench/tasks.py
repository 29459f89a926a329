"""The tasks a run performs, each declared once: its inputs, its unit of work, its figures,
its latency figures and the backends that run it.

Everything that differs between tasks is read from here: the run creates the task's
implementation on its backend, the configuration checks refuse a task its backend cannot run,
the AI Energy Score formats name it in AES's words, and ratings, tables, labels and the site
group and label by it. docs/ARCHITECTURE.md ("a task") says how to add one.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Task:
    name: str
    """Our name, as the model settings' ``task`` says it."""
    aes_name: str
    """AI Energy Score's name (its model lists' ``Task`` column, its master_results.csv)."""
    words: str
    """The task for people: "text generation"."""
    dataset_column: str
    """The column of the prompt set the task reads when the settings name none."""
    unit: str
    units: str
    """One unit of work and several, in words ("query", "queries"; "image", "images")."""
    unit_count: str
    """The summary field that counts the units of work of a trial."""
    per_unit_figures: tuple[str, ...]
    """The metrics fields that divide energy by units of work (or tokens), in the order the
    tables show them."""
    throughput: str
    """The summary field of units (or tokens) per second."""
    latency_figures: tuple[str, ...]
    """The summary fields of the task's latencies, in seconds."""
    backends: Mapping[str, str]
    """Backend name -> the class (``module:Class``) that runs the task on it."""
    rated_per_class: bool
    """AI Energy Score rates text generation per class (A, B, C), other tasks per task."""

    def runs_on(self, backend: str) -> bool:
        return backend in self.backends

    def implementation(self, backend: str) -> type:
        """The class that runs this task on ``backend`` (its module imported on first use)."""
        if not self.runs_on(backend):
            raise ValueError(self.cannot_run_on(backend))
        module, _, attribute = self.backends[backend].partition(":")
        return getattr(importlib.import_module(module), attribute)

    def cannot_run_on(self, backend: str) -> str:
        return (f"task {self.name!r} does not run on backend {backend!r} "
                f"(backends that run it: {', '.join(self.backends)})")

    def rating_group(self, model_class: str | None) -> str:
        """The group a model is rated within: the task, and its class where the task is
        rated per class."""
        if self.rated_per_class:
            return f"{self.name}/{model_class or 'unknown_class'}"
        return self.name


TASKS: dict[str, Task] = {task.name: task for task in (
    Task(
        name="text_generation", aes_name="text_gen", words="text generation",
        dataset_column="text", unit="query", units="queries",
        unit_count="successful_prompts",
        per_unit_figures=("wh_per_1000_queries", "total_wh_per_1000_queries",
                          "joules_per_response", "joules_per_token", "net_joules_per_token",
                          "tokens_per_joule"),
        throughput="completion_tokens_per_second",
        latency_figures=("avg_latency_seconds", "avg_time_to_first_token",
                         "avg_served_latency_seconds", "avg_served_time_to_first_token"),
        backends={"pytorch": "energybench.backends.pytorch:PyTorchBackend",
                  "vllm": "energybench.backends.vllm.backend:VLLMBackend"},
        rated_per_class=True,
    ),
    Task(
        name="text_classification", aes_name="text_classification",
        words="text classification", dataset_column="text", unit="query", units="queries",
        unit_count="successful_prompts",
        # A query is one text classified; nothing is generated, so no per-token figure.
        per_unit_figures=("wh_per_1000_queries", "total_wh_per_1000_queries",
                          "joules_per_response"),
        throughput="queries_per_second",
        latency_figures=("avg_latency_seconds", "avg_served_latency_seconds"),
        backends={"pytorch": "energybench.backends.text_classification:"
                             "TextClassificationBackend"},
        rated_per_class=False,
    ),
)}
DEFAULT_TASK = "text_generation"
AES_TASKS = {task.aes_name: task.name for task in TASKS.values()}
"""AES's task names (``text_gen``) -> ours."""


def task_named(name: str | None) -> Task:
    """The task of a model's settings (``None``: the default task); an unknown name is an
    error naming the known ones."""
    try:
        return TASKS[name or DEFAULT_TASK]
    except KeyError:
        raise ValueError(f"unknown task {name!r}; known: {', '.join(TASKS)}") from None


def known_task(name: str | None) -> Task | None:
    """The task of that name, or ``None`` for a name no task has (a stored report of another
    pipeline's task, or of none): readers group and label it by its own name."""
    return TASKS.get(name) if name else None


def task_problems(run_config: Mapping) -> list[str]:
    """What keeps a resolved run config's task from running: a backend that does not run
    it, and the task implementation's own checks of its settings."""
    task = task_named(run_config.get("task"))
    if not task.runs_on(run_config["backend"]):
        return [task.cannot_run_on(run_config["backend"])]
    return list(task.implementation(run_config["backend"]).task_problems(run_config))


def task_in_words(name: str | None, model_class: str | None) -> str:
    """"Text generation, class B": a task as words (one this pipeline does not know by its
    name), and the class where it has one."""
    task = known_task(name)
    words = (task.words if task else (name or "unknown task").replace("_", " ")).capitalize()
    return f"{words}, class {model_class}" if model_class else words
