"""The pipeline through podman (daemonless, its own image store), end to end: the workflow
builds the CPU image with podman and runs the tiny default models in its containers.

A work unit of its own (tests/conftest.py), so that its image build, the longest step of the
container tests, runs beside the Docker tests rather than after them: it counts only its own
models' containers, since the lifecycle tests' podman runs may be up meanwhile."""

import pytest

from test_docker_pipeline import check_reports_from_containers, run_pipeline_in

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def test_default_models_run_in_podman_containers(tmp_path):
    check_reports_from_containers(run_pipeline_in("podman", tmp_path), "podman")
