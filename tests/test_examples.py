"""Every script in examples/ runs to completion (small sizes: 0.8-21 s each alone with a warm
numba cache, the shortest 8-9 s on a fresh clone's cold one; count_limits.py, the longest, took
222 s within the whole suite on a loaded machine, hence the 900 s limit).

They are marked ``slow``, as the docs' scripts in ``test_readme.py`` are, so ``make test-fast``
skips them; an example that says it needs ``rmab[torch]`` is marked ``torch`` too, so
``pytest -m "not torch"`` passes where torch is not installed (tests/test_markers.py checks
the examples' imports)."""

import pathlib
import subprocess
import sys

import pytest

PATHS = sorted((pathlib.Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


def _marks(path: pathlib.Path) -> list:
    marks = [pytest.mark.slow]
    if "rmab[torch]" in path.read_text(encoding="utf-8"):
        marks.append(pytest.mark.torch)
    return marks


EXAMPLES = [pytest.param(p, marks=_marks(p), id=p.name) for p in PATHS]


@pytest.mark.parametrize("path", EXAMPLES)
def test_example_runs(path, tmp_path):
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                         cwd=tmp_path, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip(), "an example should print what it did"
    stray = [p.name for p in tmp_path.iterdir() if p.name != "out"]
    assert not stray, f"an example writes under out/ (git-ignored), not beside the code: {stray}"
