"""The README's Python blocks and the docs' runnable examples run as written (in one namespace
per file, from an empty directory); the docs' API sketches (signatures with placeholders) are
not run."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _blocks(name: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / name).read_text(encoding="utf-8"), re.S)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["README.md", "docs/simulation.md", "docs/instances.md"])
def test_python_blocks_run_as_written(name, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    blocks = _blocks(name)
    assert blocks
    namespace = {"__name__": "__main__"}
    for i, block in enumerate(blocks):
        exec(compile(block, f"{name}[{i}]", "exec"), namespace)
    out = capsys.readouterr().out
    if name == "README.md":              # the weekly plan names the beneficiaries it calls
        assert re.search(r"week 3: call B\d{3}, B\d{3}, B\d{3}, \.\.\. \(20 calls", out), out
        assert "lagrangian" in out
        rows = (tmp_path / "week4.csv").read_text().splitlines()     # the week's list file
        assert rows[0].startswith("batch_id,arm_id,action,action_name")
        assert len(rows) == 201 and rows[1].startswith("week 4,B000,")
