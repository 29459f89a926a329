"""The Python code lints clean (pyproject.toml's [tool.ruff]: errors such as undefined or
unused names, not style), and its imports keep the layers and make no cycle
(pyproject.toml's [tool.importlinter]), as `make lint` checks them."""

import subprocess
import sys
from pathlib import Path

from conftest import REPO_ROOT


def test_the_python_code_lints_clean():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_imports_flow_down_the_layers_and_make_no_cycle():
    """import-linter's contracts: publish and plan over aes over job over run, and no cycle
    between modules or packages anywhere (docs/ARCHITECTURE.md, "Layers")."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    assert lint_imports.exists(), f"{lint_imports} missing: install requirements/ci.txt"
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout and "No import cycles" in result.stdout, result.stdout


def test_the_architecture_page_names_every_module_and_test_folder():
    page = (REPO_ROOT / "docs/ARCHITECTURE.md").read_text()
    package = REPO_ROOT / "src/energybench"
    modules = sorted(path.relative_to(package).as_posix() for path in package.rglob("*.py")
                     if "__pycache__" not in path.parts and path != package / "__init__.py")
    folders = sorted(f"tests/{path.name}/" for path in (REPO_ROOT / "tests").iterdir()
                     if path.is_dir() and path.name != "__pycache__")
    missing = [name for name in modules if f"`{name}`" not in page]
    missing += [name for name in folders if f"`{name}`" not in page]
    assert not missing, f"docs/ARCHITECTURE.md does not name: {', '.join(missing)}"
