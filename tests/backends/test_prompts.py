import pandas as pd
import pytest

from energybench.config import ConfigError
from energybench.prompts import load_prompts

TEXTS = ["first prompt", "second prompt", "third prompt"]


@pytest.mark.parametrize("suffix", [".jsonl", ".json", ".csv", ".parquet"])
def test_local_formats(tmp_path, suffix):
    path = tmp_path / f"prompts{suffix}"
    frame = pd.DataFrame({"text": TEXTS, "other": [1, 2, 3]})
    {".jsonl": lambda: frame.to_json(path, orient="records", lines=True),
     ".json": lambda: frame.to_json(path, orient="records"),
     ".csv": lambda: frame.to_csv(path, index=False),
     ".parquet": lambda: frame.to_parquet(path)}[suffix]()
    assert load_prompts(str(path), 2) == TEXTS[:2]


def test_missing_file_column_and_too_few_prompts(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_prompts(str(tmp_path / "absent.jsonl"), 1)
    path = tmp_path / "p.csv"
    pd.DataFrame({"prompt": TEXTS}).to_csv(path, index=False)
    with pytest.raises(ConfigError, match=r"no column 'text' \(columns: prompt\)"):
        load_prompts(str(path), 1)
    assert load_prompts(str(path), 3, column="prompt") == TEXTS
    with pytest.raises(ConfigError, match="has 3 prompts but num_prompts asks for 5"):
        load_prompts(str(path), 5, column="prompt")


def test_shipped_prompt_set_is_loadable():
    from conftest import REPO_ROOT

    assert len(load_prompts(str(REPO_ROOT / "data/prompts.jsonl"), 40)) == 40
