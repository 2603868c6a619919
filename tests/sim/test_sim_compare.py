"""Paired planner comparison: common random numbers, statistics, outputs, workers, errors."""

import csv
import math
import re
import sys

import numpy as np
import pytest
from scipy import stats

from rmab.errors import InvalidParameterError, MissingDependencyError, UnknownPlannerError
from rmab.models import health_intervention, random_instance
from rmab.planners import BasePlanner, make_planner
from rmab.sim import ComparisonResult, compare

INST = health_intervention(12, budget_fraction=0.25, horizon=8, seed=4)


@pytest.fixture(scope="module")
def result():
    return compare(INST, ["random", "myopic", "no-action", ("round-robin", {"action": 2})],
                   episodes=12, seed=3)


def test_result_fields(result):
    assert isinstance(result, ComparisonResult)
    assert result.names == ("random", "myopic", "no-action", "round-robin(action=2)")
    assert result.returns.shape == result.totals.shape == result.decision_seconds.shape == (4, 12)
    assert not result.returns.flags.writeable
    assert result.horizon == 8 and result.episodes == 12 and not result.random_added
    t = stats.t.ppf(0.975, 11)
    for i, s in enumerate(result.scores):
        x = result.returns[i]
        assert s.mean == pytest.approx(x.mean())
        assert s.stderr == pytest.approx(x.std(ddof=1) / math.sqrt(12))
        assert s.ci_low < s.mean < s.ci_high
        assert s.ci_high - s.mean == pytest.approx(t * s.stderr)
        assert s.mean_total == pytest.approx(result.totals[i].mean())
        assert s.mean_total >= s.mean  # discounting only shrinks non-negative rewards
        assert s.decision_seconds > 0
    rnd = result.score("random")
    assert rnd.stderr > 0 and rnd.normalised == 1.0
    assert result.score("myopic").normalised == pytest.approx(
        result.score("myopic").mean / rnd.mean)


def test_same_seed_same_numbers_and_order_independence(result):
    again = compare(INST, ["round-robin", "no-action", "random"], episodes=12, seed=3)
    assert np.array_equal(again.returns[2], result.returns[0])          # random
    assert np.array_equal(again.returns[1], result.returns[2])          # no-action
    other = compare(INST, ["random"], episodes=12, seed=4)
    assert not np.array_equal(other.returns[0], result.returns[0])


def test_common_random_numbers_copies_agree():
    res = compare(INST, ["random", "random", "myopic", make_planner("myopic")], episodes=5,
                  seed=0)
    assert res.names == ("random", "random #2", "myopic", "myopic #2")
    assert np.array_equal(res.returns[0], res.returns[1])
    assert np.array_equal(res.returns[2], res.returns[3])
    diff = res.paired_difference("myopic", "myopic #2")
    assert diff.mean == 0.0 and diff.stderr == 0.0


def test_a_suffix_never_takes_another_planners_name():
    """A planner called 'myopic #2' beside two 'myopic': the copy is 'myopic #3' (it was
    labelled 'myopic #2' too, and score() returned the wrong line)."""
    other = make_planner("random")
    other.name = "myopic #2"
    res = compare(INST, ["myopic", other, "myopic"], episodes=3, seed=0)
    assert res.names == ("myopic", "myopic #2", "myopic #3")
    alone = compare(INST, ["random"], episodes=3, seed=0).returns[0]
    assert res.score("myopic #2").mean == pytest.approx(alone.mean())
    assert res.score("myopic #3").mean == res.score("myopic").mean != alone.mean()


def test_a_planner_class_is_refused_with_the_call_to_make():
    from rmab.planners.baselines import RandomPlanner

    with pytest.raises(InvalidParameterError,
                       match=r"compare\.planners\[1\]: must be a planner object, not a class; "
                             r"got RandomPlanner \(call it: RandomPlanner\(\)\)"):
        compare(INST, ["myopic", RandomPlanner], episodes=2)


def test_paired_difference(result):
    d = result.paired_difference("myopic", "no-action")
    x = result.returns[1] - result.returns[2]
    assert d.mean == pytest.approx(x.mean())
    assert d.stderr == pytest.approx(x.std(ddof=1) / math.sqrt(12))
    assert d.ci_low < d.mean < d.ci_high and d.episodes == 12
    # pairing removes the shared noise: the paired stderr is below the unpaired one
    unpaired = math.hypot(result.score("myopic").stderr, result.score("no-action").stderr)
    assert d.stderr < unpaired
    with pytest.raises(InvalidParameterError, match=r"ComparisonResult\.second: must be one of"):
        result.paired_difference("myopic", "whittle")


def test_random_added_for_normalisation():
    res = compare(INST, ["no-action"], episodes=6, seed=3)
    ref = compare(INST, ["no-action", "random"], episodes=6, seed=3)
    assert res.random_added and res.names == ("no-action",)
    assert res.random_mean == ref.score("random").mean
    assert res.score("no-action").normalised == ref.score("no-action").normalised
    assert "same noise" in res.table()


def test_normalised_is_nan_when_random_mean_not_positive():
    inst = random_instance(3, n_states=2, n_actions=2, n_obs=2, budget=1.0, horizon=3, seed=0)
    neg = inst.replace(arms=type(inst.arms)(inst.arms.transitions, inst.arms.observations,
                                            -1.0 - inst.arms.rewards, inst.arms.costs))
    res = compare(neg, ["random", "no-action"], episodes=3, seed=0)
    assert res.random_mean < 0
    assert all(math.isnan(s.normalised) for s in res.scores)


def test_normalised_is_nan_when_random_mean_is_zero():
    """The boundary of "NaN when the random mean is <= 0": with every reward 0 the random
    planner's mean is exactly 0, and dividing by it raised ZeroDivisionError."""
    inst = random_instance(3, n_states=2, n_actions=2, n_obs=2, budget=1.0, horizon=3, seed=0)
    zero = inst.replace(arms=type(inst.arms)(inst.arms.transitions, inst.arms.observations,
                                             np.zeros_like(inst.arms.rewards), inst.arms.costs))
    res = compare(zero, ["random", "no-action"], episodes=2, seed=0)
    assert res.random_mean == 0.0
    assert all(math.isnan(s.normalised) for s in res.scores)


def test_paired_difference_uses_the_result_s_confidence(result):
    """A comparison at 90 % (a loaded one keeps its own level) gives 90 % paired intervals,
    scipy's t interval with episodes - 1 degrees of freedom; the module's 95 % was used."""
    import dataclasses

    res90 = dataclasses.replace(result, confidence=0.9)
    d = result.returns[1] - result.returns[0]
    ref = stats.t.interval(0.9, d.size - 1, loc=d.mean(), scale=stats.sem(d))
    diff = res90.paired_difference("myopic", "random")
    assert (diff.ci_low, diff.ci_high) == pytest.approx(ref, rel=1e-12)


def test_single_episode_has_nan_interval():
    res = compare(INST, ["random"], episodes=1, seed=0)
    s = res.scores[0]
    assert math.isnan(s.stderr) and math.isnan(s.ci_low) and not math.isnan(s.mean)
    assert "one episode has no standard error or CI (nan)" in res.table()
    assert "one episode" not in compare(INST, ["random"], episodes=2, seed=0).table()


def test_table_csv_plot(result, tmp_path):
    table = result.table()
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["planner", "mean", "return"]
    assert len({len(line) for line in lines[:6]}) == 1  # aligned
    assert "round-robin(action=2)" in table
    path = tmp_path / "sub" / "c.csv"
    result.to_csv(path)
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["planner"] for r in rows] == list(result.names)
    assert float(rows[1]["mean_return"]) == result.scores[1].mean
    assert float(rows[0]["normalised"]) == 1.0
    png = tmp_path / "c.png"
    result.plot(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.png", "sub"]  # no temp files left


def test_plot_without_matplotlib(result, tmp_path, monkeypatch):
    for mod in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, mod, None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'rmab\[plot\]'"):
        result.plot(tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_fully_observed_instance():
    inst = random_instance(5, n_states=3, n_actions=2, n_obs=None, budget=2.0, horizon=6,
                           seed=2)
    res = compare(inst, ["myopic", "random", "belief-threshold"], episodes=4, seed=1)
    assert np.all(np.isfinite(res.returns)) and res.returns.shape == (3, 4)


def test_n_jobs_gives_identical_results():
    planners = ["random", "myopic", ("round-robin", {"action": 1})]
    serial = compare(INST, planners, episodes=3, seed=8, horizon=4)
    pooled = compare(INST, planners, episodes=3, seed=8, horizon=4, n_jobs=2)
    assert np.array_equal(serial.returns, pooled.returns)
    assert np.array_equal(serial.totals, pooled.totals)
    assert serial.names == pooled.names


@pytest.mark.slow
def test_n_jobs_identical_on_a_larger_run():
    inst = health_intervention(40, n_states=3, budget_fraction=0.2, seed=9)
    planners = ["no-action", "random", "round-robin", "myopic", "belief-threshold"]
    serial = compare(inst, planners, episodes=5, seed=5, horizon=10)
    pooled = compare(inst, planners, episodes=5, seed=5, horizon=10, n_jobs=2)
    assert np.array_equal(serial.returns, pooled.returns)
    assert np.array_equal(serial.totals, pooled.totals)


def test_progress_bar_goes_to_stderr(capsys):
    compare(INST, ["random"], episodes=2, seed=0, progress=True)
    out, err = capsys.readouterr()
    assert out == "" and "2/2" in err
    compare(INST, ["random"], episodes=2, seed=0)
    assert capsys.readouterr().err == ""


class _Unpicklable:
    name = "local"

    def __init__(self):
        self.hook = lambda: None

    def fit(self, instance, *, seed=None):
        return self

    def reset(self, *, seed=None):
        pass

    def plan(self, belief, *, t=0):
        return np.zeros(belief.shape[0], dtype=np.int64)


def test_planner_objects_are_used_and_checked_for_pickling():
    res = compare(INST, [_Unpicklable(), "no-action"], episodes=2, seed=0)
    assert np.array_equal(res.returns[0], res.returns[1])  # both never act
    with pytest.raises(InvalidParameterError,
                       match=r"compare\.planners: must be picklable when n_jobs > 1; got "
                             r"planner 'local'"):
        compare(INST, [_Unpicklable()], episodes=2, n_jobs=2)


def test_workers_that_cannot_load_a_planner_give_a_typed_error():
    """A class defined in ``python -c``'s __main__ pickles in the parent but cannot be loaded
    by a spawned worker: a PlanningError saying what to do, not a BrokenProcessPool, and at
    once (each worker printed its traceback first; a review)."""
    import subprocess

    code = """
import numpy as np, rmab
from rmab.errors import PlanningError
class Zero:
    name = "zero"
    def fit(self, inst, *, seed=None):
        self.n = inst.n_arms
        return self
    def reset(self, *, seed=None):
        pass
    def plan(self, b, *, t=0):
        return np.zeros(self.n, int)
try:
    rmab.compare(rmab.health_intervention(6, seed=0, horizon=2), [Zero()], episodes=2,
                 n_jobs=2)
except PlanningError as exc:
    print("TYPED", exc)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert "TYPED compare.n_jobs: 'Zero' is defined in `python -c`, stdin or a notebook, " \
        "where the spawned worker processes cannot import it" in out.stdout, out.stderr
    assert "guarded by `if __name__ == \"__main__\":`, or use n_jobs=1" in out.stdout
    assert "Traceback" not in out.stderr, out.stderr


def test_a_rollout_over_a_base_from_python_c_is_refused_before_workers_start():
    """Its base is made in each worker from the registry entry '__main__:Zero', which a
    worker cannot import: refused at once, as a planner of that class is."""
    import subprocess

    code = """
import numpy as np, rmab
from rmab.errors import PlanningError
class Zero(rmab.BasePlanner):
    name = "zero"
    def _plan(self, b, t):
        return np.zeros(len(b), int)
rmab.register_planner("zero", "__main__:Zero", "all passive")
try:
    rmab.compare(rmab.health_intervention(6, seed=0, horizon=2),
                 [("rollout", {"base": "zero", "n_trajectories": 2})], episodes=2, n_jobs=2)
except PlanningError as exc:
    print("TYPED", exc)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert "TYPED compare.n_jobs: 'Zero' (made by 'RolloutPlanner') is defined in `python " \
        "-c`, stdin or a notebook" in out.stdout, out.stderr
    assert "Traceback" not in out.stderr, out.stderr


@pytest.mark.parametrize("kwargs, error, match", [
    ({"episodes": 0}, InvalidParameterError, r"compare\.episodes: must be >= 1; got 0"),
    ({"episodes": 2.5}, InvalidParameterError, r"compare\.episodes: must be an integer"),
    ({"n_jobs": 0}, InvalidParameterError, r"compare\.n_jobs: must be >= 1; got 0"),
    ({"horizon": -1}, InvalidParameterError, r"compare\.horizon: must be >= 1; got -1"),
    ({"seed": -2}, InvalidParameterError, r"compare\.seed: must be a non-negative integer"),
    ({"progress": "yes"}, InvalidParameterError, r"compare\.progress: must be True or False"),
    ({"planners": []}, InvalidParameterError, r"compare\.planners: must hold at least one"),
    ({"planners": "myopic"}, InvalidParameterError, r"compare\.planners: must be a list"),
    ({"planners": [42]}, InvalidParameterError, r"compare\.planners\[0\]: must be a registry"),
    ({"planners": {"round-robin": {"action": 2}}}, InvalidParameterError,   # params dropped
     r"compare\.planners: must be a list of planners, not a mapping"),
    ({"planners": ["myopc"]}, UnknownPlannerError, r"did you mean 'myopic'"),
    ({"planners": [("myopic", {"nope": 1})]}, InvalidParameterError, r"make_planner\('myopic'\)"),
    ({"instance": "x.npz"}, InvalidParameterError, r"compare\.instance: must be an Instance"),
])
def test_bad_parameters(kwargs, error, match):
    args = {"instance": INST, "planners": ["random"], **kwargs}
    with pytest.raises(error, match=match):
        compare(args.pop("instance"), args.pop("planners"), **args)


def test_worker_warnings_follow_the_callers_filters():
    """Warnings raised in worker processes are shown by the caller, under its filters: by
    category, once per run, and by module (they came back without one)."""
    import warnings

    from rmab.errors import IndexabilityWarning
    from rmab.models import Instance, random_mdp_arms
    from rmab.relax.whittle import whittle_indices

    arms = random_mdp_arms(400, 3, 2, concentration=0.1, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IndexabilityWarning)
        bad = np.flatnonzero(~whittle_indices(arms, discount=0.99).indexable)[:3]
    inst = Instance(arms.select(bad), 1.0, discount=0.99)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        compare(inst, ["whittle"], episodes=2, horizon=1, n_jobs=2)
        assert [type(w.message) for w in caught] == [IndexabilityWarning]   # once, two workers
        warnings.filterwarnings("ignore", module=r"rmab\.")
        compare(inst, ["whittle"], episodes=2, horizon=1, n_jobs=2)
        assert len(caught) == 1


class _Passive:
    """A planner that never acts; the test planners below (module level: spawned workers
    load them) warn or fail in ``plan``."""

    name = "passive"

    def fit(self, instance, *, seed=None):
        self.n = instance.n_arms
        return self

    def reset(self, *, seed=None):
        pass

    def plan(self, belief, *, t=0):
        return np.zeros(self.n, dtype=np.int64)


class _WarnsThenFails(_Passive):
    """Warns at every step and fails at t = 1."""

    name = "fragile"

    def plan(self, belief, *, t=0):
        import warnings

        from rmab.errors import PlanningError, SolverLimitWarning

        warnings.warn(f"slow at t={t}", SolverLimitWarning)
        if t == 1:
            raise PlanningError("the solver found no action")
        return np.zeros(self.n, dtype=np.int64)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_planning_error_names_planner_episode_and_period_after_its_warnings(n_jobs):
    """A planner's error says which planner, episode and period (it came bare), and the
    warnings before it are shown with n_jobs > 1 too (a worker's were lost)."""
    import warnings

    from rmab.errors import PlanningError

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(PlanningError, match=r"^episode 0: planner 'fragile' at t=1: the "
                                                r"solver found no action$"):
            compare(INST, [_WarnsThenFails()], episodes=1, horizon=3, n_jobs=n_jobs)
    assert [str(w.message) for w in caught] == ["slow at t=0", "slow at t=1"]




class _Namesake(_Passive):
    """Named as _WarnsThenFails, and warns "namesake" at t = 0."""

    name = "fragile"

    def plan(self, belief, *, t=0):
        import warnings

        warnings.warn("namesake", UserWarning)
        return super().plan(belief, t=t)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_errors_and_warnings_name_the_planners_row(n_jobs):
    """Two planners of one name are rows 'fragile' and 'fragile #2', and a (name, params)
    pair's row holds its parameters: errors and warnings named the planner's own name, the
    same for both rows (a simulation review)."""
    import warnings

    from rmab.errors import PlanningError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(PlanningError, match=r"^episode 0: planner 'fragile #2' at t=1: "):
            compare(INST, [_Namesake(), _WarnsThenFails()], episodes=1, horizon=3,
                    n_jobs=n_jobs)
        warnings.filterwarnings("error", message="slow")
        with pytest.raises(Warning, match="^slow at t=0") as info:
            compare(INST, [_Namesake(), _WarnsThenFails()], episodes=1, horizon=3,
                    n_jobs=n_jobs)
    assert "planner 'fragile #2'" in " ".join(info.value.__notes__)
    with pytest.raises(InvalidParameterError,
                       match=r"^planner 'round-robin\(action=3\)' does not apply"):
        compare(INST, [("round-robin", {"action": 1}), ("round-robin", {"action": 3})],
                episodes=2, horizon=2, n_jobs=n_jobs)

class _SlowFirstCall(_Passive):
    """Its first plan call advances the (test's) clock by 1000 s, as a first Numba compile."""

    name = "slow-start"

    def __init__(self, clock):
        self.clock, self.calls = clock, 0

    def plan(self, belief, *, t=0):
        self.calls += 1
        self.clock[0] += 1000.0 if self.calls == 1 else 1.0
        return super().plan(belief, t=t)


def test_decision_time_leaves_out_the_first_calls_compile(monkeypatch):
    """ms/step held Numba's first compile or cache load in episode 0 (myopic: 61 ms against
    0.26 ms a step); untimed calls now come first (two: the second checks that reset
    restarts the planner), and no result moves."""
    import rmab.sim.episodes as episodes

    clock = [0.0]
    monkeypatch.setattr(episodes.time, "perf_counter", lambda: clock[0])
    planner = _SlowFirstCall(clock)
    res = compare(INST, [planner, "random"], episodes=3, horizon=4, n_jobs=1)
    np.testing.assert_array_equal(res.decision_seconds[0], 1.0)   # every step 1 s, episode 0 too
    assert planner.calls == 2 + 3 * 4
    clean = compare(INST, [_Passive(), "random"], episodes=3, horizon=4, n_jobs=1)
    np.testing.assert_array_equal(res.returns, clean.returns)


class _Warns(_Passive):
    """Warns "fitted" when fitted and "careful" at t = 1 of every episode."""

    name = "careful"

    def fit(self, instance, *, seed=None):
        import warnings

        warnings.warn("fitted", UserWarning)
        return super().fit(instance, seed=seed)

    def plan(self, belief, *, t=0):
        import warnings

        if t == 1:
            warnings.warn("careful", UserWarning)
        return super().plan(belief, t=t)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_warnings_are_the_same_whatever_n_jobs(n_jobs):
    """Under "always" every episode's warning is shown (the fit's once, as one process fits
    once), under "default" one, and under "error" the warning is raised with its planner and
    episode: with n_jobs = 2 the workers had shown one under "always" and the parent raised a
    bare warning under "error" (a statistics review)."""
    import warnings

    for action, expected in (("always", 4), ("default", 1), ("ignore", 0)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter(action)
            compare(INST, [_Warns()], episodes=4, horizon=3, n_jobs=n_jobs)
        messages = [str(w.message) for w in caught]
        assert messages == ["fitted"] * min(expected, 1) + ["careful"] * expected, action
        assert all(w.filename == __file__ for w in caught)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.filterwarnings("error", message="care", category=UserWarning, module=__name__)
        with pytest.raises(UserWarning, match="^careful") as info:
            compare(INST, [_Warns()], episodes=4, horizon=3, n_jobs=n_jobs)
    notes = " ".join(info.value.__notes__)      # with 2 workers, whichever episode came first
    assert re.search(r"planner 'careful'.*episode \d", notes), notes
    # a fit's warning made an error names its planner: it had no note in one process and
    # "(in fitting the planners)" with workers (a simulation review)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.filterwarnings("error", message="fitted", category=UserWarning)
        with pytest.raises(UserWarning, match="^fitted") as info:
            compare(INST, [_Passive(), _Warns()], episodes=2, horizon=3, n_jobs=n_jobs)
    assert info.value.__notes__ == ["(in fitting planner 'careful')"]


class _WarnsInside(BasePlanner):
    """Warns at t = 1 with stacklevel=2: at the toolkit's line that called its ``_plan``, as a
    warning raised inside rmab during an episode (a solver's time limit) is."""

    name = "inside"

    def _plan(self, belief, t):
        import warnings

        if t == 1:
            warnings.warn("inside", UserWarning, stacklevel=2)
        return np.zeros(self.instance.n_arms, dtype=np.int64)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_episode_warnings_raised_in_the_toolkit_are_shown_at_the_callers_line(n_jobs):
    """As a fit's: at the line that called compare, every one under "always", one per
    comparison otherwise, and "error" stops the episode where it was raised (its module
    still meets the filters); with n_jobs = 1 they pointed into rmab/planners/base.py."""
    import warnings

    for action, expected in (("always", 3), ("default", 1), ("once", 1), ("module", 1)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter(action)
            line = sys._getframe().f_lineno + 1
            compare(INST, [_WarnsInside()], episodes=3, horizon=2, n_jobs=n_jobs)
        assert ([(str(w.message), w.filename, w.lineno) for w in caught]
                == [("inside", __file__, line)] * expected), action
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.filterwarnings("error", message="inside", module=r"rmab\.planners\.base$")
        with pytest.raises(UserWarning, match="^inside") as info:
            compare(INST, [_WarnsInside()], episodes=3, horizon=2, n_jobs=n_jobs)
    notes = " ".join(info.value.__notes__)
    assert re.search(r"planner 'inside'.*episode \d", notes), notes
    if n_jobs == 1:                 # its traceback there, not at show_again's
        assert info.traceback[-1].name == "_plan"


def test_warnings_of_a_planner_from_no_modules_file_are_shown():
    """A planner defined in a notebook cell or `python -c` (a file no module has) warned at
    its fit unseen: warn_explicit drops a warning of module None, which show_again gave it."""
    import warnings

    space = {"_Passive": _Passive, "warnings": warnings}
    exec(compile("class Cell(_Passive):\n"
                 "    def fit(self, instance, *, seed=None):\n"
                 "        warnings.warn('fitted')\n"
                 "        return super().fit(instance, seed=seed)\n"
                 "    def plan(self, belief, *, t=0):\n"
                 "        warnings.warn('planned')\n"
                 "        return super().plan(belief, t=t)\n", "<cell>", "exec"), space)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compare(INST, [space["Cell"]()], episodes=2, horizon=2)
    assert [(str(w.message), w.filename) for w in caught] == ([("fitted", "<cell>")]
                                                              + [("planned", "<cell>")] * 4)



class _ResetWarns(_Passive):
    """Warns "reset" at every reset."""

    name = "resets"

    def reset(self, *, seed=None):
        import warnings

        warnings.warn("reset", UserWarning)


def test_the_warm_up_calls_reset_silently_too():
    """The untimed first call is silent, its plan's warnings and its reset's: the reset's
    was shown once more than the episodes' in one process (a worker printed it to its own
    stderr, past the caller's filters) (a simulation review)."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compare(INST, [_ResetWarns()], episodes=3, horizon=2)
    assert [str(w.message) for w in caught] == ["reset"] * 3



class _ResetFails(_Passive):
    """Its reset fails as a bug would (its fit does not reset)."""

    name = "reset-fails"

    def reset(self, *, seed=None):
        raise ValueError("no reset")


def test_a_failing_reset_names_its_planner_and_episode():
    """A reset's error said the episode but not the planner (it came before the loop that
    names it) (a simulation review)."""
    with pytest.raises(ValueError, match="^no reset") as info:
        compare(INST, [_Passive(), _ResetFails()], episodes=2, horizon=2)
    assert info.value.__notes__ == ["(in planner 'reset-fails' at its reset)",
                                    "(in episode 0)"]

class _FitFails(_Passive):
    """Its fit fails as a bug would (not an RmabError)."""

    name = "fit-fails"

    def fit(self, instance, *, seed=None):
        raise ValueError("no luck")


def test_a_failing_fit_names_its_planner():
    """Any error of a fit names the planner, as an episode's error names it: a ValueError
    came bare, with n_jobs > 1 too, whichever of the planners failed (a simulation
    review)."""
    from rmab.errors import PlanningError

    with pytest.raises(ValueError, match="^no luck") as info:
        compare(INST, [_Passive(), _FitFails()], episodes=2, horizon=2)
    assert info.value.__notes__ == ["(in fitting planner 'fit-fails')"]

    class _FitPlanningError(_Passive):
        def fit(self, instance, *, seed=None):
            raise PlanningError("no fit")

    with pytest.raises(PlanningError, match="^fitting planner 'passive': no fit$"):
        compare(INST, [_FitPlanningError()], episodes=2, horizon=2)

class CodeWarning(UserWarning):
    """A warning whose constructor takes more than its text (module level)."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


class _WarnsOddly(_Passive):
    """Warns "same" from two lines and a CodeWarning at t = 0."""

    name = "oddly"

    def plan(self, belief, *, t=0):
        import warnings

        if t == 0:
            warnings.warn("same", UserWarning)
            warnings.warn("same", UserWarning)
            warnings.warn(CodeWarning("coded", 7))
        return np.zeros(self.n, dtype=np.int64)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_warnings_once_module_and_odd_categories_whatever_n_jobs(n_jobs):
    """'once' and 'module' dropped repeats per line with n_jobs = 2 (twice where one process
    shows once); a warning class whose constructor needs more than the text crashed the
    comparison (rebuilt from its text; with n_jobs = 2 it did not unpickle), even under
    'ignore' (a review)."""
    import warnings

    for action, same in (("once", 1), ("module", 1), ("default", 2), ("always", 6)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter(action)
            compare(INST, [_WarnsOddly()], episodes=3, horizon=2, n_jobs=n_jobs)
        assert sum(str(w.message) == "same" for w in caught) == same, action
        coded = [w for w in caught if "coded" in str(w.message)]
        assert coded and all(c.filename == __file__ for c in coded), action
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(INST, [_WarnsOddly()], episodes=2, horizon=2, n_jobs=n_jobs)


@pytest.mark.parametrize("scale", [1e-6, 1e-300])
def test_table_shows_small_returns(result, scale):
    """Returns of 1e-6 printed as 0.000 (fixed 3 decimals); the decimals follow the scale, up
    to a cap."""
    from dataclasses import replace

    small = replace(result, scores=tuple(
        replace(s, mean=s.mean * scale, stderr=s.stderr * scale, ci_low=s.ci_low * scale,
                ci_high=s.ci_high * scale) for s in result.scores))
    lines = small.table().splitlines()
    assert max(map(len, lines[:6])) < 160
    shown = float(lines[3].split()[1])                             # myopic's mean return
    if scale == 1e-6:
        assert shown == pytest.approx(small.scores[1].mean, rel=1e-3)


def test_an_error_with_fields_keeps_them_and_gets_a_note():
    """raise_in rebuilt every RmabError from its message: a BatchInputError's file, line and
    batch id came out None (a review of the change); such errors keep their fields."""
    from rmab.errors import BatchInputError, PlanningError, raise_in

    with pytest.raises(BatchInputError) as info:
        raise_in(BatchInputError("bad cell", file="f.csv", line=7, batch_id="b9"), "episode 2")
    assert (info.value.file, info.value.line, info.value.batch_id) == ("f.csv", 7, "b9")
    assert info.value.__notes__ == ["(in episode 2)"]
    with pytest.raises(PlanningError, match="^episode 2: no action$"):
        raise_in(PlanningError("no action"), "episode 2")


@pytest.mark.parametrize("k", [2, 3, 20, 500])
def test_mean_ci_is_the_student_t_interval(k):
    """mean_ci against scipy.stats' t interval (it takes the quantile from scipy.special)."""
    from scipy import stats

    from rmab._reporting import mean_ci

    x = np.random.default_rng(k).normal(3.0, 2.0, size=k)
    mean, se, low, high = mean_ci(x, 0.95)
    ref = stats.t.interval(0.95, k - 1, loc=x.mean(), scale=stats.sem(x))
    assert mean == x.mean() and se == pytest.approx(stats.sem(x), rel=1e-14)
    np.testing.assert_allclose((low, high), ref, rtol=1e-13)
    assert all(np.isnan(v) for v in mean_ci(x[:1], 0.95)[1:])


def test_mean_ci_with_strata_is_the_stratified_welch_satterthwaite_interval():
    """Rows as strata (instances): the stratified estimator, its standard error from the
    within-row variances and the Welch-Satterthwaite degrees of freedom (by hand from scipy's
    t); with equal variances these are the pooled one-way model's n (k - 1)."""
    from scipy import stats

    from rmab._reporting import mean_ci

    x = np.random.default_rng(3).normal([[0.0], [5.0], [-2.0]], 1.0, size=(3, 8))
    mean, se, low, high = mean_ci(x, 0.9)
    pooled = ((x - x.mean(axis=1, keepdims=True)) ** 2).sum() / (3 * 7)    # within-row variance
    assert mean == pytest.approx(x.mean())
    assert se == pytest.approx(np.sqrt(pooled / 8 / 3), rel=1e-12)      # rows of equal size
    v = x.var(axis=1, ddof=1) / 8
    half = stats.t.ppf(0.95, v.sum() ** 2 / (v ** 2 / 7).sum()) * se
    np.testing.assert_allclose((low, high), (mean - half, mean + half), rtol=1e-13)
    same = np.array([[0.0, 1.0, 2.0], [5.0, 6.0, 7.0]])           # equal variances: pooled df
    half = stats.t.ppf(0.95, 4) * mean_ci(same, 0.9)[1]
    np.testing.assert_allclose(mean_ci(same, 0.9)[2], same.mean() - half, rtol=1e-13)
    assert mean_ci(x[:1], 0.9) == pytest.approx(mean_ci(x[0], 0.9))     # one row: plain
    assert all(np.isnan(v) for v in mean_ci(x[:, :1], 0.9)[1:])
    assert mean_ci(np.ones((2, 3)), 0.9) == (1.0, 0.0, 1.0, 1.0)
    for scale in (1e80, 1e-140):       # the df's squares overflowed or underflowed (a review)
        got = np.array(mean_ci(x * scale, 0.9))
        np.testing.assert_allclose(got, np.array([mean, se, low, high]) * scale, rtol=1e-12)


def test_the_stratified_interval_covers_when_one_stratum_dominates_the_variance():
    """With the pooled n (k - 1) degrees of freedom, 3 strata of 4 episodes with standard
    deviations 10, 0.1, 0.1 were covered 89 % of the time at 95 % (a review's simulation)."""
    from rmab._reporting import mean_ci

    rng = np.random.default_rng(0)
    sd, mu = np.array([[10.0], [0.1], [0.1]]), np.array([[1.0], [2.0], [3.0]])
    hits = [low <= 2.0 <= high for _, _, low, high in
            (mean_ci(mu + sd * rng.standard_normal((3, 4)), 0.95) for _ in range(4000))]
    assert 0.94 <= np.mean(hits) <= 0.96


class _Cycle(BasePlanner):
    """A round robin whose pointer is set in ``_fit``, not ``_reset``: it carries it from one
    episode to the next."""

    name = "cycle"

    def _fit(self, instance):
        self.pointer = 0

    def _plan(self, belief, t):
        actions = np.zeros(self.instance.n_arms, dtype=np.int64)
        actions[self.pointer] = 1
        self.pointer = (self.pointer + 1) % self.instance.n_arms
        return actions


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_planner_that_reset_does_not_restart_is_named(n_jobs):
    """A user's planner that kept its episode state across episodes got numbers that depend
    on the episodes played before in its process: with two workers, three runs of one seed
    gave three results, and nothing said so (a user's walkthrough). Its two warm-up plans
    after reset(seed=0) differ, and one RmabWarning names it, whatever n_jobs."""
    import warnings

    from rmab.errors import RmabWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compare(INST, [_Cycle(), "round-robin", "random"], episodes=2, horizon=2, n_jobs=n_jobs)
    said = [str(w.message) for w in caught if issubclass(w.category, RmabWarning)]
    assert len(said) == 1 and said[0].startswith("planner 'cycle': after reset(seed=0) its "
                                                 "plan for one belief changed"), said


@pytest.mark.parametrize("inst", [INST, random_instance(5, 3, 3, None, seed=1),
                                  INST.replace(min_active=2, max_active=2)])
def test_every_built_in_planner_restarts_at_reset(inst):
    """No built-in planner is named by that warning (each restarts at its reset)."""
    import warnings

    names = ["no-action", "random", "round-robin", "myopic", "belief-threshold", "whittle",
             "whittle-multi", "lagrangian", ("rollout", {"n_trajectories": 4, "horizon": 2})]
    if inst.min_active:
        names.remove("no-action")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore")
        warnings.filterwarnings("error", message=".*after reset.seed=0.")
        compare(inst, names, episodes=2, horizon=2)


def test_one_episode_of_a_comparison_replays_from_the_seed_tree():
    """docs/simulation.md's replay: the planner fitted with fit_seed, episode k's noise and
    reset seed from episode_seeds give compare's return for episode k, to the bit."""
    from rmab.sim import Environment, run_episode
    from rmab.sim.noise import episode_seeds, fit_seed, root_sequence

    res = compare(INST, ["random", "myopic"], episodes=5, seed=11, horizon=6)
    root = root_sequence("replay", 11)
    for row, name in enumerate(["random", "myopic"]):
        planner = make_planner(name).fit(INST, seed=fit_seed(root))
        for k in (0, 3):
            ep = episode_seeds(root, 5)[k]
            got = run_episode(Environment(INST, horizon=6), planner, seed=ep.noise,
                              planner_seed=ep.planner_seed)
            assert got.discounted_return == res.returns[row, k]


def test_a_planner_of_ones_own_named_random_is_refused():
    """It became the unit of `normalised` and the built-in was renamed 'random #2' (a
    review); the built-in random planner as an object is still the unit."""
    class FakeRandom(_Passive):
        name = "random"

    with pytest.raises(InvalidParameterError, match=r"^compare\.planners\[0\]: the label "
                                                    r"'random' names the built-in random "
                                                    r"planner.*got a FakeRandom named"):
        compare(INST, [FakeRandom(), "myopic"], episodes=2)
    res = compare(INST, [make_planner("random"), "no-action"], episodes=3, seed=1)
    assert not res.random_added and res.score("random").normalised == 1.0



@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_fits_warning_points_at_the_callers_line(n_jobs):
    """An IndexabilityWarning of the whittle planner's fit pointed at rmab/sim/_runner.py's
    call of fit (two reviews); now at the caller's line, as a warning with the right
    stacklevel would, and its module still meets the filters."""
    import inspect
    import warnings

    from rmab.errors import IndexabilityWarning

    inst = random_instance(6, n_states=3, n_actions=2, n_obs=2, seed=4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = inspect.currentframe().f_lineno + 1
        compare(inst, ["whittle", "random"], episodes=2, horizon=3, n_jobs=n_jobs)
    (w,) = [w for w in caught if issubclass(w.category, IndexabilityWarning)]
    assert (w.filename, w.lineno) == (__file__, line)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", module=r"rmab\.sim")   # where it was raised
        compare(inst, ["whittle", "random"], episodes=2, horizon=3, n_jobs=n_jobs)
    assert not [w for w in caught if issubclass(w.category, IndexabilityWarning)]


class _WarnsThenWorks(_Passive):
    """A fit that warns, then goes on working (a long solve, a training) and notes it did."""

    name = "warns-then-works"

    def fit(self, instance, *, seed=None):
        import warnings

        warnings.warn("a fit's own warning", UserWarning)
        self.went_on = True
        return super().fit(instance, seed=seed)


def test_an_error_filter_stops_the_fit_at_its_warning():
    """With n_jobs=1 the fits ran under "always" and their warnings were raised again after
    the fit (a review): under `-W error` the fit went on to its end (minutes for a training)
    and the traceback showed rmab/_warnings.py, not the line that warned. The caller's
    filters stay on during the fit: the warning stops it where it was raised."""
    import traceback
    import warnings

    planner = _WarnsThenWorks()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        with pytest.raises(UserWarning, match="a fit's own warning") as info:
            compare(INST, [planner, "random"], episodes=1, horizon=2)
    assert not hasattr(planner, "went_on")
    assert "(in fitting planner 'warns-then-works')" in getattr(info.value, "__notes__", [])
    assert traceback.extract_tb(info.tb)[-1].name == "fit"       # the planner's line


class _SeedRecorder(_Passive):
    """Keeps the seeds of its fit and of every reset."""

    name = "seeds"

    def fit(self, instance, *, seed=None):
        self.fit_seeds, self.reset_seeds = [seed], []
        return super().fit(instance, seed=seed)

    def reset(self, *, seed=None):
        self.reset_seeds.append(seed)


def test_planners_are_fitted_and_reset_with_the_seeds_of_numpy_s_spawn_tree():
    """The fit seed is SeedSequence(seed).spawn(2)[0]'s first 64-bit word, episode k's reset
    seed .spawn(2)[1].spawn(K)[k].spawn(2)[1]'s (numpy's own spawn; after the warm-up's two
    reset(seed=0))."""
    planner = _SeedRecorder()
    compare(INST, [planner, "random"], episodes=3, seed=21, horizon=2)

    def word(seq):
        return int(seq.generate_state(1, np.uint64)[0])

    fit, eps = np.random.SeedSequence(21).spawn(2)
    assert planner.fit_seeds == [word(fit)]
    assert planner.reset_seeds == [0, 0] + [word(ep.spawn(2)[1]) for ep in eps.spawn(3)]


class _Clocked(_Passive):
    """Each plan call advances the (test's) clock by as many seconds as resets so far: 3 s a
    step in episode 0, 4 s in episode 1, 5 s in episode 2 (after the warm-up's two)."""

    name = "clocked"

    def __init__(self, clock):
        self.clock, self.resets = clock, 0

    def reset(self, *, seed=None):
        self.resets += 1

    def plan(self, belief, *, t=0):
        self.clock[0] += float(self.resets)
        return super().plan(belief, t=t)


def test_decision_seconds_is_the_mean_over_episodes_of_the_seconds_per_step(monkeypatch):
    """Episodes of 3, 4 and 5 s a step (by hand): each episode's entry is its mean per step,
    the score their mean, 4 s, shown as 4000 ms/step."""
    import rmab.sim.episodes as episodes

    clock = [0.0]
    monkeypatch.setattr(episodes.time, "perf_counter", lambda: clock[0])
    res = compare(INST, [_Clocked(clock), "random"], episodes=3, horizon=4)
    np.testing.assert_array_equal(res.decision_seconds[0], [3.0, 4.0, 5.0])
    assert res.score("clocked").decision_seconds == 4.0
    assert res.table().splitlines()[2].split()[-1] == "4000.000"


def _hand_made_result():
    """A comparison of two planners with round numbers (no run)."""
    from rmab.sim import PlannerScore

    scores = (PlannerScore("random", 8.0, 0.25, 7.5, 8.5, 1.0, 9.0, 0.001),
              PlannerScore("myopic", 12.34567, 0.5, 11.2, 13.4, 1.5432, 20.0, 0.0025))
    zeros = np.zeros((2, 4))
    return ComparisonResult(scores, zeros, zeros, zeros, random_mean=8.0, random_added=False,
                            episodes=4, horizon=10, discount=0.9)


def test_the_table_shows_each_score_in_its_column():
    """Hand-worked cells: 3 decimals for returns of 8 and 12.3, the interval as [low, high],
    normalised to 3 decimals, seconds as ms."""
    lines = _hand_made_result().table().splitlines()
    assert re.split(r"\s{2,}", lines[3]) == ["myopic", "12.346", "0.500", "[11.200, 13.400]",
                                             "1.543", "2.500"]
    assert re.split(r"\s{2,}", lines[2]) == ["random", "8.000", "0.250", "[7.500, 8.500]",
                                             "1.000", "1.000"]
    assert lines[4].startswith("discounted return (discount 0.9) over 4 episodes of 10 periods")


def test_the_csv_has_each_score_under_its_header(tmp_path):
    """The summary CSV's columns against the hand-made scores, at full precision."""
    path = tmp_path / "c.csv"
    _hand_made_result().to_csv(path)
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[1] == {"planner": "myopic", "mean_return": "12.34567", "stderr": "0.5",
                       "ci_low": "11.2", "ci_high": "13.4", "normalised": "1.5432",
                       "mean_total_reward": "20.0", "decision_seconds": "0.0025",
                       "episodes": "4", "horizon": "10", "discount": "0.9"}


class _FitsACopy(BasePlanner):
    """Fits a copy of the instance with twice its budget, then spends all of that copy's."""

    name = "fits-a-copy"

    def fit(self, instance, *, seed=None):
        return super().fit(instance.replace(budget=2 * instance.budget), seed=seed)

    def _plan(self, belief, t):
        actions = np.zeros(self.instance.n_arms, dtype=np.int64)
        actions[:int(self.instance.budget)] = 1          # visit costs 1
        return actions


def test_a_planner_fitted_to_another_instance_object_is_checked_by_the_environment():
    """Its own plan checks its actions against the copy it was fitted to: the episode goes
    through plan and Environment.step, which refuses the overspend of the budget played."""
    from rmab.errors import InfeasibleActionError

    assert INST.budget == 3.0 and np.all(INST.arms.costs[:, 1] == 1.0)
    with pytest.raises(InfeasibleActionError, match=r"^episode 0: planner 'fits-a-copy' at "
                       r"t=0: Environment\.step\.actions: must cost at most budget=3; got "
                       r"total cost 6 \(overspend 3\)"):
        compare(INST, [_FitsACopy()], episodes=1, horizon=2)
