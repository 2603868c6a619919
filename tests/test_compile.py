"""Cold compile: on an empty numba cache, the kernels of a belief-state Whittle fit, an
episode and a path-domain action compile once each, and none compiles numba's slice-copy
error message. A literal argument (``n_vec = 0``, ``False``) is a type of its own during
numba's inference, and read-only and writable arrays are two types: each had made a kernel
compile twice; an array-to-slice copy compiled its error message (a string formatter) for
seconds. A fresh clone's ``make compare`` took 31 s, 22 s without them. Nor do numba's typed
``Dict`` and merge sort compile."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

GRAPH = Path(__file__).resolve().parents[1] / "data" / "graph_example.csv"
_SCRIPT = f"GRAPH = {str(GRAPH)!r}\n" + """
import json, collections
import numpy as np
from numba.core import event
from rmab.models.generators import health_intervention, random_mdp_arms
from rmab.relax import belief_whittle_indices, whittle_indices
from rmab.sim import Environment

compiled = collections.Counter()
literal = []

class Count(event.Listener):
    def on_start(self, ev):
        f = ev.data["dispatcher"].py_func
        name = f.__module__ + "." + f.__qualname__
        compiled[name] += 1
        if name.startswith("rmab.") and "Literal[" in str(ev.data["args"]):
            literal.append(name)
    def on_end(self, ev):
        pass

event.register("numba:compile", Count())
inst = health_intervention(2, seed=0)
belief_whittle_indices(inst.arms, n_prices=3, resolution=2)
whittle_indices(random_mdp_arms(2, 3, 3, seed=0))
env = Environment(inst, seed=0)
env.reset()
writable = np.zeros(2, dtype=np.int64)
env.step(writable)
writable.setflags(write=False)
env.step(writable)
from rmab.domains import initial_states, path_from_csv
from rmab.domains.baselines import make_domain_planner
domain = path_from_csv(GRAPH, budget=5, route_length=12, seed=0)
states = initial_states(domain.n_arms, seed=3)
make_domain_planner("myopic").fit(domain).plan(states)
make_domain_planner("random").fit(domain).plan(states)
from rmab.planners import make_planner
from rmab.values import solve_finite_pbvi
rollout = make_planner("rollout", horizon=2, n_trajectories=2).fit(inst, seed=0)
rollout.plan(inst.initial_belief)
solve_finite_pbvi(inst.arms, horizon=2, n_beliefs=4)
print(json.dumps({"compiled": compiled, "literal": literal}))
"""

KERNELS = ["rmab.values._kernels." + name for name in
           ("sweep_kernel", "pbvi_kernel", "point_backup", "_evaluate_plans", "_repeats",
            "_append", "_add_unique", "_find", "_plan_vector", "expand_kernel",
            "expand_round_kernel", "unique_rows_kernel")]
KERNELS += ["rmab.belief._kernels." + name for name in
            ("update_kernel", "sample_kernel", "realised_reward_kernel")]
KERNELS += ["rmab.relax._whittle_kernels.homotopy_kernel", "rmab.relax._kernels._mckp_dp",
            "rmab.domains._kernels._candidates"]


@pytest.mark.slow
def test_kernels_compile_once_on_an_empty_cache(tmp_path):
    env = {"NUMBA_CACHE_DIR": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True,
                         env={**os.environ, **env}, timeout=600)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.splitlines()[-1])
    compiled = result["compiled"]
    assert {name: compiled.get(name, 0) for name in KERNELS} == dict.fromkeys(KERNELS, 1)
    # a literal argument (copy_items(x, 0, ...), k = 0 passed on) compiles a kernel once more
    # wherever it is also called with an int64
    assert result["literal"] == []
    formatters = [name for name in compiled if "raise_with_shape_context" in name]
    assert formatters == []
    # numba's typed Dict (the path search's memo) and merge sort took about 2 s of the path
    # domain's 7 s first action
    slow = [name for name in compiled if name.startswith("numba.typed") or "mergesort" in name]
    assert slow == []
