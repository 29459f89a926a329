"""The task registry: what each task declares, and what reads it."""

import re

import pytest

from conftest import REPO_ROOT
from energybench.aes.identity import AES_TASKS, OUR_TASKS
from energybench.run.backend_registry import BACKENDS, backend_class
from energybench.run.backends import Backend
from energybench.run.errors import ConfigError
from energybench.plan.consistency import check_run_configs
from energybench.plan.config import load_yaml, resolve_model
from energybench.publish.paper.ratings import group_of
from energybench.run.sections import Metrics, Summary
from energybench.run.tasks import TASKS, Task, task_in_words, task_named, task_problems

CONFIG = load_yaml(REPO_ROOT / "config/config.yaml")
SCHEMA = load_yaml(REPO_ROOT / "src/energybench/run/schemas/model_settings.schema.json")


def run_config(**entry):
    return resolve_model(
        "m", {"id": "org/model", **entry}, CONFIG["defaults"], CONFIG["measurement"]
    )


def test_the_registry_and_the_settings_schema_list_the_same_tasks():
    assert set(TASKS) == set(SCHEMA["properties"]["task"]["enum"])


@pytest.mark.parametrize("task", TASKS.values(), ids=list(TASKS))
def test_each_task_runs_on_backends_that_exist_through_a_backend_of_that_name(task: Task):
    assert task.backends and set(task.backends) <= set(BACKENDS)
    for backend in task.backends:
        implementation = task.implementation(backend)
        assert issubclass(implementation, Backend)
        assert implementation.name == backend == backend_class(backend).name


@pytest.mark.parametrize("task", TASKS.values(), ids=list(TASKS))
def test_each_task_names_figures_the_report_sections_hold(task: Task):
    metrics = set(Metrics.model_fields)
    summary = set(Summary.model_fields)
    assert set(task.per_unit_figures) <= metrics
    assert {task.unit_count, task.throughput, *task.latency_figures} <= summary


def test_aes_names_come_from_the_registry():
    assert AES_TASKS["text_generation"] == "text_gen"
    assert OUR_TASKS == {task.aes_name: name for name, task in TASKS.items()}


def test_text_generation_is_rated_per_class_and_a_task_unknown_here_by_its_name():
    assert group_of("text_generation", "B") == "text_generation/B"
    assert group_of("text_generation", None) == "text_generation/unknown_class"
    assert group_of("summarization", "B") == "summarization"
    assert group_of(None, "B") == "unknown_task"


def test_a_task_in_words_for_labels():
    assert task_in_words("text_generation", "B") == "Text generation, class B"
    assert task_in_words("summarization", None) == "Summarization"
    assert task_in_words(None, None) == "Unknown task"


def test_an_unknown_task_is_named_with_the_known_ones():
    with pytest.raises(ValueError, match="unknown task 'dancing'; known: text_generation"):
        task_named("dancing")


def test_a_task_its_backend_does_not_run_is_refused_naming_model_and_field(monkeypatch):
    text = TASKS["text_generation"]
    monkeypatch.setitem(
        TASKS,
        "text_generation",
        Task(**{**text.__dict__, "backends": {"pytorch": text.backends["pytorch"]}}),
    )
    assert task_problems(run_config(backend="pytorch")) == []
    with pytest.raises(
        ConfigError,
        match=re.escape(
            "model 'm': task 'text_generation' does not run on backend 'vllm' "
            "(backends that run it: pytorch)"
        ),
    ):
        check_run_configs({"m": run_config(backend="vllm")})
