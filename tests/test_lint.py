"""The Python code lints clean (pyproject.toml's [tool.ruff]: errors such as undefined or
unused names) and is as `ruff format` writes it, and its imports keep the layers and make no cycle
(pyproject.toml's [tool.importlinter]), as `make lint` checks them; the docs name every
module, and only modules and package paths that exist."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT


@pytest.mark.parametrize("ruff", [["check", "--no-cache"], ["format", "--check", "--no-cache"]])
def test_the_python_code_lints_clean_and_is_formatted(ruff):
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *ruff, "."],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_imports_flow_down_the_layers_and_make_no_cycle():
    """import-linter's contracts: publish and plan over aes over job over run, and no cycle
    between modules or packages anywhere (docs/ARCHITECTURE.md, "Layers")."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    assert lint_imports.exists(), f"{lint_imports} missing: install requirements/ci.txt"
    result = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout and "No import cycles" in result.stdout, result.stdout


def test_the_architecture_page_names_every_module_and_test_folder():
    page = (REPO_ROOT / "docs/ARCHITECTURE.md").read_text()
    package = REPO_ROOT / "src/energybench"
    modules = sorted(
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        if "__pycache__" not in path.parts and path != package / "__init__.py"
    )
    folders = sorted(
        f"tests/{path.name}/"
        for path in (REPO_ROOT / "tests").iterdir()
        if path.is_dir() and path.name != "__pycache__"
    )
    missing = [name for name in modules if f"`{name}`" not in page]
    missing += [name for name in folders if f"`{name}`" not in page]
    assert not missing, f"docs/ARCHITECTURE.md does not name: {', '.join(missing)}"


DOCS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
# A module path as the docs write it: a whole code span (`energybench.run.tasks`, a name in
# it, `energybench.run.tasks.TASKS`, or a call, `...completed_report(...)`), or the module of
# `python -m`. Container labels (`energybench.pipeline=1`) and file names are not whole spans.
MODULE_PATH = re.compile(
    r"`(?:python -m (energybench(?:\.\w+)*)(?: [^`]*)?"
    r"|(energybench(?:\.\w+)+)(?:\([^`]*\))?)`"
)
PACKAGE_PATH = re.compile(r"src/energybench/[\w./-]*")


def top_level_names(source: Path) -> set[str]:
    """The names a module defines or imports at its top level (under an ``if`` or ``try``
    too), read without importing it."""
    names, statements = set(), list(ast.parse(source.read_text()).body)
    while statements:
        statement = statements.pop()
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(statement.name)
        elif isinstance(statement, (ast.Assign, ast.AnnAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            names.update(target.id for target in targets if isinstance(target, ast.Name))
        elif isinstance(statement, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in statement.names)
        elif isinstance(statement, (ast.If, ast.Try)):
            statements += [
                *statement.body,
                *statement.orelse,
                *getattr(statement, "finalbody", []),
                *(line for handler in getattr(statement, "handlers", []) for line in handler.body),
            ]
    return names


def names_something(dotted: str) -> bool:
    """Whether ``energybench.a.b.c`` is a module or package of src/, or a name defined at
    the top level of the longest such module it starts with."""
    parts = dotted.split(".")
    for length in range(len(parts), 0, -1):
        base = REPO_ROOT / "src" / Path(*parts[:length])
        for source in (base.with_suffix(".py"), base / "__init__.py"):
            if source.is_file():
                rest = parts[length:]
                return not rest or rest[0] in top_level_names(source)
    return False


def test_the_docs_name_only_modules_and_package_paths_that_exist():
    wrong = []
    for doc in DOCS:
        text = doc.read_text()
        modules = {next(filter(None, match)) for match in MODULE_PATH.findall(text)}
        wrong += [f"{doc.name}: {name}" for name in sorted(modules) if not names_something(name)]
        paths = {path.rstrip(".") for path in PACKAGE_PATH.findall(text)}
        wrong += [
            f"{doc.name}: {path}" for path in sorted(paths) if not (REPO_ROOT / path).exists()
        ]
    assert not wrong, "the docs name what does not exist: " + "; ".join(wrong)
