"""docs/RELIABILITY.md names, for each guarantee, the test that holds it: every test it names
exists, so a renamed or deleted test cannot leave a guarantee that nothing checks."""

import re

from conftest import REPO_ROOT

DOC = (REPO_ROOT / "docs/RELIABILITY.md").read_text()


def test_every_test_the_reliability_page_names_exists():
    named = set(re.findall(r"(tests/[\w/]+\.py)::(\w+)", DOC))
    assert named, "the page names no test"
    missing = [
        f"{path}::{name}"
        for path, name in sorted(named)
        if not re.search(rf"^def {name}\(", (REPO_ROOT / path).read_text(), re.MULTILINE)
    ]
    assert missing == []


def test_every_test_file_the_reliability_page_names_exists():
    files = set(re.findall(r"`(tests/[\w/]+\.py)", DOC))
    assert [path for path in sorted(files) if not (REPO_ROOT / path).is_file()] == []
