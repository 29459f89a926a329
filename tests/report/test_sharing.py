"""Results follow the umask, so a group can read a shared campaign's results."""

import os
import stat

import pytest

from energybench.run.files import write_atomic
from energybench.job.tiny import build_tiny_model


@pytest.fixture(params=[0o002, 0o022, 0o077])
def umask(request):
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_written_results_follow_the_umask(tmp_path, umask):
    path = write_atomic(tmp_path / "runs/m/benchmark_report.json", "{}")
    assert mode(path) == 0o666 & ~umask
    assert mode(path.parent) == 0o777 & ~umask


def test_tiny_model_directories_follow_the_umask(tmp_path, umask):
    out = build_tiny_model(
        tmp_path / "models" / "t", hidden_size=64, num_layers=1, num_heads=1, vocab_size=300
    )
    assert mode(out) == 0o777 & ~umask
    assert {mode(p) for p in out.iterdir()} == {0o666 & ~umask}


def test_the_site_follows_the_umask(tmp_path, umask):
    from energybench.publish.paper.stored import write_collection
    from energybench.publish.site import build_site

    site = tmp_path / "results" / "site"
    build_site(write_collection([], tmp_path / "reports.jsonl"), site)
    assert mode(site) == mode(site / "assets") == 0o777 & ~umask
    assert {mode(p) for p in site.rglob("*") if p.is_file()} == {0o666 & ~umask}
