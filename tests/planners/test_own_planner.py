"""docs/planners.md's example (a planner of one's own, registered and compared) runs."""

import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]

CHECKS = """
planner = rmab.make_planner("lowest-index-first", action=2).fit(inst, seed=0)
actions = planner.plan(inst.initial_belief)
acting = np.flatnonzero(actions)
assert acting.tolist() == list(range(len(acting))) and len(acting) > 0, actions
assert inst.arms.costs[np.arange(inst.n_arms), actions].sum() <= inst.budget
try:
    rmab.make_planner("lowest-index-first", actoin=2)
except rmab.InvalidParameterError:
    pass
else:
    raise AssertionError("an unknown parameter was accepted")
"""


def test_docs_planner_example_runs():
    text = (ROOT / "docs" / "planners.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 1, "docs/planners.md should hold one Python example"
    out = subprocess.run([sys.executable, "-c", blocks[0] + CHECKS], capture_output=True,
                         text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    rows = [line.split()[0] for line in out.stdout.splitlines()[2:6]]
    assert rows == ["lowest-index-first", "lowest-index-first(action=2)", "random", "myopic"]
