"""The code digest file: one input that stands for the benchmark's code."""

import shutil

import pytest

from energybench.plan.code_digest import code_digest, source_files


def make_package(root):
    (root / "run" / "meters").mkdir(parents=True)
    (root / "run" / "benchmark.py").write_text("print('run')\n")
    (root / "run" / "meters" / "nvml.py").write_text("POWER = 1\n")
    (root / "run" / "schemas").mkdir()
    (root / "run" / "schemas" / "report.schema.json").write_text("{}\n")
    (root / "publish" / "paper").mkdir(parents=True)
    (root / "publish" / "aggregate.py").write_text("TABLE = 1\n")
    (root / "publish" / "paper" / "plots.py").write_text("FIGURE = 1\n")
    (root / "publish" / "site").mkdir()
    (root / "publish" / "site" / "build.py").write_text("PAGE = 1\n")
    (root / "run" / "__pycache__").mkdir()
    (root / "run" / "__pycache__" / "benchmark.cpython-311.pyc").write_bytes(b"\0")
    (root / "README.md").write_text("docs\n")
    return root


def test_sources_are_what_a_run_executes(tmp_path):
    package = make_package(tmp_path / "pkg")
    names = [path.relative_to(package).as_posix() for path in source_files(package)]
    assert names == ["run/benchmark.py", "run/meters/nvml.py", "run/schemas/report.schema.json"]


def test_digest_follows_content_and_names_not_tables_figures_or_place(tmp_path):
    package = make_package(tmp_path / "pkg")
    before = code_digest(package)
    assert before.startswith("sha256:") and len(before) == len("sha256:") + 64
    (package / "publish" / "aggregate.py").write_text("TABLE = 2\n")
    (package / "publish" / "paper" / "plots.py").write_text("FIGURE = 2\n")
    (package / "publish" / "site" / "build.py").write_text("PAGE = 2\n")
    (package / "README.md").write_text("more docs\n")
    assert code_digest(package) == before
    moved = package.rename(tmp_path / "elsewhere")
    assert code_digest(moved) == before
    (moved / "run" / "meters" / "nvml.py").write_text("POWER = 2\n")
    assert code_digest(moved) != before
    (moved / "run" / "meters" / "nvml.py").write_text("POWER = 1\n")
    (moved / "run" / "meters" / "nvml.py").rename(moved / "run" / "meters" / "rapl.py")
    assert code_digest(moved) != before  # a renamed module is a change of code


def test_the_image_holds_exactly_what_the_digest_hashes():
    """The engine image is built from the package's run code alone (.dockerignore admits
    RUN_CODE and nothing else of the package), so what no run executes is not shipped."""
    from conftest import REPO_ROOT
    from energybench.plan.code_digest import RUN_CODE

    lines = [line.strip() for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()]
    admitted = {
        line.removeprefix("!src/energybench/").rstrip("/")
        for line in lines
        if line.startswith("!src/")
    }
    assert admitted == set(RUN_CODE)


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory):
    """A copy of the real package, to edit."""
    from conftest import REPO_ROOT

    copy = tmp_path_factory.mktemp("checkout") / "energybench"
    shutil.copytree(
        REPO_ROOT / "src/energybench", copy, ignore=shutil.ignore_patterns("__pycache__")
    )
    return copy


def digests_around_an_edit(package, module):
    """The package's digest before and after a line is added to ``module`` (then undone)."""
    before = code_digest(package)
    path = package / module
    original = path.read_text()
    try:
        path.write_text(original + "\n# edited\n")
        return before, code_digest(package)
    finally:
        path.write_text(original)


@pytest.mark.parametrize(
    "module",
    [
        "publish/paper/tables.py",  # a table
        "publish/paper/figures/energy.py",  # a figure
        "publish/site/build.py",  # the site
        "publish/site/templates/index.html",
        "publish/campaign.py",  # the batch summary
        "aes/master_results.py",  # AES's writers
        "aes/submission.py",
        "plan/config.py",  # how the workflow reads the configuration
        "cli.py",  # the publishing and planning commands, their help
    ],
)
def test_editing_what_no_run_executes_reruns_no_benchmark(package_copy, module):
    before, after = digests_around_an_edit(package_copy, module)
    assert after == before


@pytest.mark.parametrize(
    "module",
    [
        "run/meters/nvml.py",
        "run/report.py",
        "run/schemas/report.schema.json",
        "job/model_job.py",
        "job/entry.py",
        "__main__.py",
    ],
)
def test_editing_what_a_run_executes_reruns_the_benchmarks(package_copy, module):
    before, after = digests_around_an_edit(package_copy, module)
    assert after != before


def test_the_run_code_alone_starts_a_run_and_a_benchmark_job(package_copy, tmp_path):
    """What the image holds (RUN_CODE, no cli.py) is enough for the commands a benchmark
    executes, run as the rules and the image run them."""
    import subprocess
    import sys

    from energybench.plan.code_digest import source_files

    package = tmp_path / "src" / "energybench"
    for source in source_files(package_copy):
        target = package / source.relative_to(package_copy)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)
    assert not (package / "cli.py").exists()
    missing = tmp_path / "settings" / "0123456789ab.json"
    for command, status, said in [
        (["run", "--help"], 0, "--config"),
        (
            [
                "benchmark",
                "--settings",
                str(missing),
                "--gpus",
                "0",
                "--report",
                "r.json",
                "--log",
                "job.log",
                "--image-id-file=",
            ],
            1,
            "planned settings file",
        ),
    ]:
        result = subprocess.run(
            [sys.executable, str(package), *command],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == status, result.stderr
        assert said in result.stdout + result.stderr


def test_a_digest_of_named_files_follows_only_them(tmp_path):
    package = make_package(tmp_path / "pkg")
    drawn_by = [package / "publish" / "paper" / "plots.py", package / "publish" / "aggregate.py"]
    before = code_digest(package, drawn_by)
    assert before != code_digest(package)
    (package / "run" / "meters" / "nvml.py").write_text("POWER = 2\n")  # not one of them
    assert code_digest(package, drawn_by) == before
    (package / "publish" / "paper" / "plots.py").write_text("FIGURE = 2\n")
    assert code_digest(package, drawn_by) != before
