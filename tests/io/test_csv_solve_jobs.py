"""``solve_batches(n_jobs=...)`` and ``rmab solve --n-jobs``: batches planned by spawned
workers give the output, warnings and failures of one process."""

import warnings
from pathlib import Path

import numpy as np
import pytest

from rmab.cli import main
from rmab.errors import IndexabilityWarning, InvalidParameterError, PlanningError, RmabWarning
from rmab.io import solve_batches
from rmab.planners import BasePlanner, base

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "batch_example.csv"
ROWS = ("batch_id,arm_id,budget,state,model,model_arm\n"
        "b1,a,1,0,health.npz,0\nb1,b,1,1,health.npz,1\n"
        "b2,c,1,0,health.npz,2\n"
        "b3,d,1,1,health.npz,3\nb3,e,1,0,health.npz,4\n")


class TwoArmsOnly(BasePlanner):
    """Warns at every fit and fails on a batch of other than two arms (an importable class, as
    a user's registered planner is: spawned workers load it by name)."""

    name = "two-arms-only"

    def _fit(self, instance):
        warnings.warn(f"fitted {instance.n_arms} arms", RmabWarning)
        if instance.n_arms != 2:
            raise InvalidParameterError(f"two-arms-only: needs 2 arms; got {instance.n_arms}")

    def _plan(self, belief, t):
        return np.array([1, 0])


@pytest.fixture
def two_arms_only():
    base.register_planner("two-arms-only", f"{__name__}:TwoArmsOnly", "fails on other sizes")
    yield "two-arms-only"
    base._REGISTRY.pop("two-arms-only", None)


@pytest.mark.filterwarnings("ignore::rmab.errors.IndexabilityWarning")
@pytest.mark.parametrize("planner", ["random", "whittle"])
def test_the_output_does_not_depend_on_n_jobs(planner, tmp_path):
    """A batch's seed depends on its id alone, so two workers write the file one process
    writes, byte for byte (random draws from its seed; whittle fits POMDP arms)."""
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    serial = solve_batches(EXAMPLE, planner, out=one)
    pooled = solve_batches(EXAMPLE, planner, out=two, n_jobs=2)
    assert one.read_bytes() == two.read_bytes()
    assert [o.batch_id for o in pooled.outcomes] == [o.batch_id for o in serial.outcomes]
    assert len(pooled.outcomes) == 4 and pooled.ok


def test_workers_warnings_and_failures_come_in_the_files_order(write_csv, two_arms_only):
    """The warnings of every batch are shown in the file's order naming their batch and line,
    and the failures are the batches one process fails, with the planner's error as cause."""
    path = write_csv(ROWS)
    results = []
    for n_jobs in (1, 2):
        with pytest.warns(RmabWarning) as caught:
            results.append(solve_batches(path, two_arms_only, keep_going=True, n_jobs=n_jobs))
        assert [str(w.message) for w in caught] == [
            f"batch 'b1' ({path}, line 2): fitted 2 arms",
            f"batch 'b2' ({path}, line 4): fitted 1 arms",
            f"batch 'b3' ({path}, line 5): fitted 2 arms"]
        assert all(w.filename == __file__ for w in caught)      # where they were raised
    for result in results:
        assert [o.batch_id for o in result.outcomes] == ["b1", "b3"]
        assert [o.actions.tolist() for o in result.outcomes] == [[1, 0], [1, 0]]
        (failure,) = result.failures
        assert (failure.batch_id, failure.stage) == ("b2", "plan")
        assert isinstance(failure.error.__cause__, InvalidParameterError)
        assert "needs 2 arms; got 1" in str(failure.error)
    assert "Traceback in the worker process" in "\n".join(
        getattr(results[1].failures[0].error.__cause__, "__notes__", []))


def test_without_keep_going_the_first_failing_batch_stops_the_workers(write_csv, two_arms_only):
    """As in one process: the file's first failing batch raises and nothing is written."""
    path = write_csv(ROWS)
    out = path.parent / "out.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RmabWarning)
        with pytest.raises(PlanningError, match=r"failed on batch 'b2' \(.*line 4\): "
                                                r"two-arms-only: needs 2 arms; got 1"):
            solve_batches(path, two_arms_only, out=out, n_jobs=2)
    assert not out.exists()


def test_a_warning_made_an_error_fails_its_batch_alone_in_a_worker(write_csv, two_arms_only):
    path = write_csv(ROWS)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RmabWarning)
        result = solve_batches(path, two_arms_only, keep_going=True, n_jobs=2)
    assert result.outcomes == () and [f.batch_id for f in result.failures] == ["b1", "b2", "b3"]
    assert "fitted 2 arms" in str(result.failures[0].error)


def test_n_jobs_is_checked_before_any_work(tmp_path, capsys):
    out = tmp_path / "out.csv"
    for bad in (0, 1.5, "2"):
        with pytest.raises(InvalidParameterError, match=r"solve_batches\.n_jobs: must be"):
            solve_batches(EXAMPLE, out=out, n_jobs=bad)
    assert main(["solve", str(EXAMPLE), "-o", str(out), "--n-jobs", "0"]) == 1
    assert "solve.n_jobs: must be >= 1; got 0" in capsys.readouterr().err
    assert not out.exists()


def test_cli_n_jobs_writes_what_one_process_writes(tmp_path, capsys):
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    assert main(["solve", str(EXAMPLE), "--planner", "random", "-o", str(one)]) == 0
    assert main(["solve", str(EXAMPLE), "--planner", "random", "-o", str(two),
                 "--n-jobs", "2"]) == 0
    assert one.read_bytes() == two.read_bytes()
    assert "solved 4 batches (15 arms)" in capsys.readouterr().err


def test_a_planner_workers_cannot_load_is_refused_before_they_start():
    """A planner class from ``python -c`` pickles in the parent but no spawned worker can
    import it: a typed error at once, naming the setting and the way out."""
    import subprocess
    import sys

    code = f"""
import numpy as np, rmab
from rmab.errors import PlanningError
from rmab.io import solve_batches
class Zero(rmab.BasePlanner):
    name = "zero"
    def _plan(self, b, t):
        return np.zeros(len(b), int)
rmab.register_planner("zero", "__main__:Zero", "all passive")
try:
    solve_batches({str(EXAMPLE)!r}, "zero", n_jobs=2)
except PlanningError as exc:
    print("TYPED", exc)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert "TYPED solve_batches.n_jobs: 'Zero' is defined in `python -c`, stdin or a " \
        "notebook" in out.stdout, out.stderr
    assert "or use n_jobs=1" in out.stdout and "Traceback" not in out.stderr, out.stderr


class TwoPartError(Exception):
    """An error whose constructor takes more than its text: it pickles, but does not
    unpickle."""

    def __init__(self, what, n):
        super().__init__(f"{what}: got {n} arms")


class Misfit(BasePlanner):
    """Fails on a batch of other than two arms in the way ``mode`` says; reports every arm
    but the first as indexable in a list."""

    name = "misfit"

    def __init__(self, mode="two-part", fn=None):
        super().__init__()
        self.mode, self.fn = mode, fn

    def _fit(self, instance):
        self.result = type("Result", (), {"indexable": [False] + [True] * (instance.n_arms - 1)})
        warnings.warn("some arms are not indexable", IndexabilityWarning)
        if instance.n_arms == 2:
            return
        if self.mode == "two-part":
            raise TwoPartError("misfit needs 2 arms", instance.n_arms)
        try:
            raise KeyError("the inner error")
        except KeyError as exc:
            raise ValueError(f"misfit: {instance.n_arms} arms") from exc

    def _plan(self, belief, t):
        return np.array([1] + [0] * (len(belief) - 1))


@pytest.fixture
def misfit():
    base.register_planner("misfit", f"{__name__}:Misfit", "fails on other sizes")
    yield "misfit"
    base._REGISTRY.pop("misfit", None)


@pytest.mark.parametrize("mode", ["two-part", "chained"])
def test_a_workers_failure_reads_as_in_one_process(write_csv, misfit, mode):
    """An error that does not unpickle keeps its text (its type was put before it), and the
    worker's note keeps the chain pickling drops; an index planner's ``indexable`` given as a
    list names the arms in the warning, as in one process (it was dropped)."""
    path = write_csv(ROWS)
    results, shown = [], []
    for n_jobs in (1, 2):
        with pytest.warns(IndexabilityWarning) as caught:
            results.append(solve_batches(path, misfit, planner_params={"mode": mode},
                                         keep_going=True, n_jobs=n_jobs))
        shown.append([str(w.message) for w in caught])
    assert shown[0] == shown[1] and "in this batch: arm_id a" in shown[0][0]
    (one,), (two,) = (result.failures for result in results)
    assert str(one.error) == str(two.error)
    notes = "\n".join(getattr(two.error.__cause__, "__notes__", []))
    assert ("TwoPartError could not be sent back" if mode == "two-part"
            else "KeyError: 'the inner error'") in notes


def test_a_planner_that_does_not_pickle_is_refused_before_the_workers(misfit):
    with pytest.raises(PlanningError, match=r"solve_batches\.n_jobs: the planner 'misfit' must "
                                            r"pickle .*or use n_jobs=1"):
        solve_batches(EXAMPLE, misfit, planner_params={"fn": lambda x: x}, n_jobs=2)
