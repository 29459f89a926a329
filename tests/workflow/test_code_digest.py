"""The code digest file: one input that stands for the benchmark's code."""


from energybench.code_digest import code_digest, source_files


def make_package(root):
    (root / "meters").mkdir(parents=True)
    (root / "benchmark.py").write_text("print('run')\n")
    (root / "meters" / "nvml.py").write_text("POWER = 1\n")
    (root / "schemas").mkdir()
    (root / "schemas" / "report.schema.json").write_text("{}\n")
    (root / "aggregate.py").write_text("TABLE = 1\n")
    (root / "paper").mkdir()
    (root / "paper" / "plots.py").write_text("FIGURE = 1\n")
    (root / "site").mkdir()
    (root / "site" / "build.py").write_text("PAGE = 1\n")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "benchmark.cpython-311.pyc").write_bytes(b"\0")
    (root / "README.md").write_text("docs\n")
    return root


def test_sources_are_what_a_run_executes(tmp_path):
    package = make_package(tmp_path / "pkg")
    names = [path.relative_to(package).as_posix() for path in source_files(package)]
    assert names == ["benchmark.py", "meters/nvml.py", "schemas/report.schema.json"]


def test_digest_follows_content_and_names_not_tables_figures_or_place(tmp_path):
    package = make_package(tmp_path / "pkg")
    before = code_digest(package)
    assert before.startswith("sha256:") and len(before) == len("sha256:") + 64
    (package / "aggregate.py").write_text("TABLE = 2\n")
    (package / "paper" / "plots.py").write_text("FIGURE = 2\n")
    (package / "site" / "build.py").write_text("PAGE = 2\n")
    (package / "README.md").write_text("more docs\n")
    assert code_digest(package) == before
    moved = package.rename(tmp_path / "elsewhere")
    assert code_digest(moved) == before
    (moved / "meters" / "nvml.py").write_text("POWER = 2\n")
    assert code_digest(moved) != before
    (moved / "meters" / "nvml.py").write_text("POWER = 1\n")
    (moved / "meters" / "nvml.py").rename(moved / "meters" / "rapl.py")
    assert code_digest(moved) != before  # a renamed module is a change of code


def test_the_image_leaves_out_what_the_digest_leaves_out():
    """Tables and figures code is neither in the image nor in the runs' digest, so editing it
    remakes tables and figures only (.dockerignore and OUTSIDE_THE_RUN agree)."""
    from conftest import REPO_ROOT
    from energybench.code_digest import OUTSIDE_THE_RUN

    ignored = {line.strip() for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()}
    package_files = {line.removeprefix("src/energybench/").rstrip("/") for line in ignored
                     if line.startswith("src/energybench/")}
    assert package_files == OUTSIDE_THE_RUN


def test_a_digest_of_named_files_follows_only_them(tmp_path):
    package = make_package(tmp_path / "pkg")
    drawn_by = [package / "paper" / "plots.py", package / "aggregate.py"]
    before = code_digest(package, drawn_by)
    assert before != code_digest(package)
    (package / "meters" / "nvml.py").write_text("POWER = 2\n")  # not one of them
    assert code_digest(package, drawn_by) == before
    (package / "paper" / "plots.py").write_text("FIGURE = 2\n")
    assert code_digest(package, drawn_by) != before
