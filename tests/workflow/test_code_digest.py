"""The code digest file: one input that stands for the benchmark's code."""


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


def test_the_image_leaves_out_what_the_digest_leaves_out():
    """Tables and figures code is neither in the image nor in the runs' digest, so editing it
    remakes tables and figures only (.dockerignore and OUTSIDE_THE_RUN agree)."""
    from conftest import REPO_ROOT
    from energybench.plan.code_digest import OUTSIDE_THE_RUN

    ignored = {line.strip() for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()}
    package_files = {line.removeprefix("src/energybench/").rstrip("/") for line in ignored
                     if line.startswith("src/energybench/")}
    assert package_files == OUTSIDE_THE_RUN


def test_a_digest_of_named_files_follows_only_them(tmp_path):
    package = make_package(tmp_path / "pkg")
    drawn_by = [package / "publish" / "paper" / "plots.py", package / "publish" / "aggregate.py"]
    before = code_digest(package, drawn_by)
    assert before != code_digest(package)
    (package / "run" / "meters" / "nvml.py").write_text("POWER = 2\n")  # not one of them
    assert code_digest(package, drawn_by) == before
    (package / "publish" / "paper" / "plots.py").write_text("FIGURE = 2\n")
    assert code_digest(package, drawn_by) != before
