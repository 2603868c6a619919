"""docs/planners.md's example (a planner of one's own, registered and compared) runs."""

import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

import rmab
from rmab.planners import base

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


def test_plan_checks_what_a_users_planner_returns():
    """plan() promises int64 actions within the budget; a user's _plan that overspent (6
    visits on a budget of 10) or returned floats came back unchecked (a new user's walkthrough;
    compare and Environment.step did check)."""
    import numpy as np
    import pytest

    import rmab

    class VisitLowest(rmab.BasePlanner):
        name = "visit-lowest"

        def __init__(self, k=5, out=None):
            super().__init__()
            self.k, self.out = k, out

        def _plan(self, belief, t):
            if self.out is not None:
                return self.out
            actions = np.zeros(self.instance.n_arms, dtype=np.int64)
            actions[np.argsort(belief[:, -1])[:self.k]] = 2
            return actions

    inst = rmab.health_intervention(20, budget_fraction=0.5, seed=0)      # budget 10, visit 2
    assert VisitLowest(5).fit(inst).plan(inst.initial_belief).tolist().count(2) == 5
    with pytest.raises(rmab.InfeasibleActionError, match=r"VisitLowest\.plan: the action "
                                                         r"planned breaks the instance's limits"):
        VisitLowest(6).fit(inst).plan(inst.initial_belief)
    with pytest.raises(rmab.InvalidParameterError, match=r"VisitLowest\.plan \(the _plan's "
                                                         r"result\)"):
        VisitLowest(out=[1.7] * 20).fit(inst).plan(inst.initial_belief)
    got = VisitLowest(out=[1.0] * 5 + [0] * 15).fit(inst).plan(inst.initial_belief)
    assert got.dtype == np.int64 and got.sum() == 5                   # whole floats: cast


def test_planners_without_a_name_are_labelled_by_their_class():
    """Two of a user's planners without a ``name`` were 'base' and 'base #2' (a
    practitioner's review)."""
    import numpy as np

    from rmab import compare, health_intervention
    from rmab.planners.base import BasePlanner

    class EveryoneIdle(BasePlanner):
        def _plan(self, belief, t):
            return np.zeros(belief.shape[0], dtype=np.int64)

    class AlsoIdle(EveryoneIdle):
        pass

    res = compare(health_intervention(4, seed=0), [EveryoneIdle(), AlsoIdle(), "random"],
                  episodes=2, horizon=3)
    assert res.names == ("EveryoneIdle", "AlsoIdle", "random")


def test_uses_decide_only_where_plan_is_the_base_classs():
    """Loops of the package call BasePlanner._decide (no belief check) on beliefs they made
    only for planners whose plan is BasePlanner.plan: a class or object with its own plan, or
    a Planner that is not a BasePlanner, is called through plan. _decide gives plan's answer
    and diagnostics."""
    import numpy as np

    import rmab
    from rmab.planners.base import BasePlanner, uses_decide

    class Own(BasePlanner):
        def plan(self, belief, *, t=0):
            return super().plan(belief, t=t)

    class Duck:
        name = "duck"
        instance = None

        def plan(self, belief, *, t=0):
            return np.zeros(len(belief), dtype=np.int64)

    inst = rmab.health_intervention(6, budget_fraction=0.4, seed=0)
    myopic = rmab.make_planner("myopic").fit(inst, seed=0)
    patched = rmab.make_planner("myopic").fit(inst, seed=0)
    patched.plan = lambda belief, *, t=0: myopic.plan(belief, t=t)
    assert uses_decide(myopic) and uses_decide(rmab.make_planner("random"))
    assert not any(uses_decide(p) for p in (Own(), patched, Duck(), "myopic", None))
    belief = np.array(inst.initial_belief)
    belief.setflags(write=False)
    want = myopic.plan(belief, t=1)
    scores = myopic.last_stats.scores
    got = myopic._decide(belief, 1)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(myopic.last_stats.scores, scores)
    assert myopic.last_stats.seconds > 0


class FirstArmActs(rmab.BasePlanner):
    """A user's planner, importable by spawned workers: arm 0 takes action 1."""

    name = "first-arm-acts"

    def _plan(self, belief, t):
        actions = np.zeros(self.instance.n_arms, dtype=np.int64)
        actions[0] = 1
        return actions


@pytest.fixture
def registered():
    """``first-arm-acts`` registered in this process only (as a user registers it in a script
    under ``if __name__ == "__main__":``, or in a notebook), and removed afterwards."""
    rmab.register_planner("first-arm-acts", f"{__name__}:FirstArmActs", "arm 0 acts")
    yield "first-arm-acts"
    base._REGISTRY.pop("first-arm-acts", None)


def test_rollout_of_a_users_base_runs_in_worker_processes(registered):
    """A rollout whose base is a user's registered planner ran in one process and failed in
    two ("UnknownPlannerError ... got 'first-arm-acts'"): each worker looked the base's name
    up again in its own registry, which holds the built-in planners only (a user's
    walkthrough). The rollout keeps the registry's entry, which the workers can import."""
    inst = rmab.health_intervention(4, seed=0)
    rollout = ("rollout", {"base": registered, "n_trajectories": 2, "horizon": 2})
    one = rmab.compare(inst, [rollout], episodes=2, seed=0, horizon=3)
    two = rmab.compare(inst, [rollout], episodes=2, seed=0, horizon=3, n_jobs=2)
    np.testing.assert_array_equal(one.returns, two.returns)


class TakesAnything(FirstArmActs):
    """A planner whose constructor takes any keyword (``**options``)."""

    def __init__(self, **options):
        super().__init__()
        self.options = options


def test_a_planner_taking_any_keyword_is_given_every_parameter():
    """Only a constructor without ``**`` refuses names it does not list; one with ``**options``
    gets them all (inspect.signature: VAR_KEYWORD)."""
    rmab.register_planner("takes-anything", f"{__name__}:TakesAnything", "any keyword")
    try:
        planner = rmab.make_planner("takes-anything", depth=3, mode="fast")
    finally:
        base._REGISTRY.pop("takes-anything", None)
    assert planner.options == {"depth": 3, "mode": "fast"}


def test_registering_the_same_planner_again_does_nothing(registered):
    """A notebook cell or a script re-run registered the same planner again and was refused
    ("must be new"); the same entry is now taken as it is, another target still refused."""
    again = rmab.register_planner(registered, f"{__name__}:FirstArmActs", "arm 0 acts")
    assert again is base.get_spec(registered)
    with pytest.raises(rmab.InvalidParameterError, match=r"register_planner\.name: must be "
                                                         r"new; 'first-arm-acts' is taken \(by "):
        rmab.register_planner(registered, f"{__name__}:Other", "arm 0 acts")
    with pytest.raises(rmab.InvalidParameterError, match="'myopic' is taken"):
        rmab.register_planner("myopic", f"{__name__}:FirstArmActs", "mine")


def test_a_module_class_target_given_as_a_name_says_how_to_register_it():
    """make_planner / compare / rmab compare --planners with 'module:Class' listed the names
    alone; it now says a target is registered under a name first (Python only)."""
    with pytest.raises(rmab.UnknownPlannerError, match=r"got 'mine:Planner' \('module:Class' "
                                                       r"is a target, not a name: register "):
        rmab.make_planner("mine:Planner")


def test_a_subclass_without_super_init_or_plan_says_what_is_wrong():
    """A subclass whose __init__ forgot super().__init__() raised AttributeError '_instance'
    before fit (not NotFittedError); one without _plan a bare NotImplementedError (a user's
    walkthrough)."""
    class NoSuper(rmab.BasePlanner):
        def __init__(self, k=1):
            self.k = k

        def _plan(self, belief, t):
            return np.zeros(belief.shape[0], dtype=np.int64)

    class NoPlan(rmab.BasePlanner):
        pass

    inst = rmab.health_intervention(3, seed=0)
    with pytest.raises(rmab.NotFittedError, match=r"^NoSuper: call fit"):
        NoSuper().plan(inst.initial_belief)
    assert not NoSuper().fitted
    assert NoSuper().fit(inst).plan(inst.initial_belief).tolist() == [0, 0, 0]
    with pytest.raises(NotImplementedError, match=r"^NoPlan\._plan: a BasePlanner subclass "
                                                  r"must define _plan"):
        NoPlan().fit(inst).plan(inst.initial_belief)
