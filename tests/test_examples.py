"""Every script in examples/ runs to completion (small sizes: 6-64 s each alone; count_limits.py,
the longest, took 222 s within the whole suite on a loaded machine, hence the 900 s limit)."""

import pathlib
import subprocess
import sys

import pytest

EXAMPLES = sorted((pathlib.Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path, tmp_path):
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                         cwd=tmp_path, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip(), "an example should print what it did"
    stray = [p.name for p in tmp_path.iterdir() if p.name != "out"]
    assert not stray, f"an example writes under out/ (git-ignored), not beside the code: {stray}"
