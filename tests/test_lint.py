"""The Python code lints clean (pyproject.toml's [tool.ruff]: errors such as undefined or
unused names, not style), as `make lint` checks it."""

import subprocess
import sys

from conftest import REPO_ROOT


def test_the_python_code_lints_clean():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
