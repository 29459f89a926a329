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
    aes_dataset: str
    dataset_column: str
    """AI Energy Score's prompt set for the task (a Hugging Face dataset) and the column of
    it that holds the prompts: its protocol's inputs (``preset: aes``), and the column a
    campaign's ``prompts_file`` is read by."""
    aes_block: Mapping[str, object]
    """What AES's protocol sets in the task's own block of settings (named after the task),
    over the model's; empty: the task has no block, or AES states nothing of it."""
    unit: str
    units: str
    """One unit of work and several, in words ("query", "queries"; "image", "images")."""
    unit_count: str
    """The summary field that counts the units of work of a trial."""
    per_unit_figures: tuple[str, ...]
    """The metrics fields that divide energy by units of work (or tokens), in the order the
    tables show them."""
    generates_tokens: bool
    """Whether the task's output is tokens (its figures per token then exist)."""
    unit_figures: Mapping[str, tuple[str, str]]
    """The metrics the task adds, each divided by its units of work: metrics field -> (the
    energy it divides: ``gpu``, ``total`` or ``net``; the figure of
    energybench.run.energy.efficiency_figures it is, with the units as its responses). Text
    generation adds none: its unit is the query every report's figures divide by."""
    throughput: str
    """The summary field of units (or tokens) per second."""
    latency_figures: tuple[str, ...]
    """The summary fields of the task's latencies as served, in seconds."""
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
        return (
            f"task {self.name!r} does not run on backend {backend!r} "
            f"(backends that run it: {', '.join(self.backends)})"
        )

    @property
    def figures(self) -> dict[str, str]:
        """Every figure the task declares -> the report section holding it (``summary`` or
        ``metrics``): its unit count, throughput, latencies and per-unit figures."""
        return {
            **dict.fromkeys((self.unit_count, self.throughput, *self.latency_figures), "summary"),
            **dict.fromkeys(self.per_unit_figures, "metrics"),
        }

    def rating_group(self, model_class: str | None) -> str:
        """The group a model is rated within: the task, and its class where the task is
        rated per class."""
        if self.rated_per_class:
            return f"{self.name}/{model_class or 'unknown_class'}"
        return self.name


TASKS: dict[str, Task] = {
    task.name: task
    for task in (
        Task(
            name="text_generation",
            aes_name="text_gen",
            words="text generation",
            aes_dataset="EnergyStarAI/text_generation",
            dataset_column="text",
            aes_block={},
            unit="query",
            units="queries",
            unit_count="successful_prompts",
            per_unit_figures=(
                "wh_per_1000_queries",
                "total_wh_per_1000_queries",
                "joules_per_response",
                "joules_per_token",
                "net_joules_per_token",
                "tokens_per_joule",
            ),
            generates_tokens=True,
            unit_figures={},
            throughput="completion_tokens_per_second",
            latency_figures=("avg_served_latency_seconds", "avg_served_time_to_first_token"),
            backends={
                "pytorch": "energybench.run.backends.pytorch:PyTorchBackend",
                "vllm": "energybench.run.backends.vllm.backend:VLLMBackend",
            },
            rated_per_class=True,
        ),
        Task(
            name="image_generation",
            aes_name="image_gen",
            words="image generation",
            aes_dataset="EnergyStarAI/image_generation",
            dataset_column="prompt",
            aes_block={"images_per_prompt": 1},
            unit="image",
            units="images",
            unit_count="images_generated",
            per_unit_figures=(
                "wh_per_1000_queries",
                "wh_per_1000_images",
                "total_wh_per_1000_images",
                "joules_per_image",
            ),
            generates_tokens=False,
            unit_figures={
                "wh_per_1000_images": ("gpu", "wh_per_1000_queries"),
                "total_wh_per_1000_images": ("total", "wh_per_1000_queries"),
                "joules_per_image": ("total", "j_per_response"),
            },
            throughput="images_per_second",
            latency_figures=("avg_served_latency_seconds", "avg_seconds_per_image"),
            backends={"pytorch": "energybench.run.backends.diffusion:DiffusionBackend"},
            rated_per_class=False,
        ),
        Task(
            name="text_classification",
            aes_name="text_classification",
            words="text classification",
            aes_dataset="EnergyStarAI/text_classification",
            dataset_column="text",
            aes_block={},
            unit="query",
            units="queries",
            unit_count="successful_prompts",
            # A query is one text classified; nothing is generated, so no per-token figure.
            per_unit_figures=(
                "wh_per_1000_queries",
                "total_wh_per_1000_queries",
                "joules_per_response",
            ),
            generates_tokens=False,
            unit_figures={},
            throughput="queries_per_second",
            latency_figures=("avg_served_latency_seconds",),
            backends={
                "pytorch": "energybench.run.backends.text_classification:TextClassificationBackend"
            },
            rated_per_class=False,
        ),
    )
}
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
    """ "Text generation, class B": a task as words (one this pipeline does not know by its
    name), and the class where it has one and the task is rated by class."""
    task = known_task(name)
    words = (task.words if task else (name or "unknown task").replace("_", " ")).capitalize()
    by_class = model_class and (task is None or task.rated_per_class)
    return f"{words}, class {model_class}" if by_class else words
