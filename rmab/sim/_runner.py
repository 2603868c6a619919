"""Run the episodes of a comparison in this process or in a pool of spawned processes (private).

Each process fits every planner once, then plays the episodes it is given; episode ``k``'s
numbers depend only on its seeds, so the results do not depend on the number of processes.
"""

from __future__ import annotations

import pickle
import warnings
from concurrent.futures import as_completed
from contextlib import contextmanager

import numpy as np

from rmab._processes import check_loadable, worker_pool
from rmab._warnings import caught_record, sendable, show_again
from rmab.errors import (InvalidModelError, InvalidParameterError, RmabWarning, add_note,
                         interrupted, raise_in)
from rmab.sim.environment import Environment
from rmab.sim.episodes import play
from rmab.sim.noise import EpisodeSeeds

# per-episode row of a planner: discounted return, total reward, decision seconds per step
N_FIELDS = 3


class Runner:
    """Planners fitted to one instance plus an environment: plays episodes for all of them."""

    def __init__(self, instance, planners, labels, fit_seed: int, horizon: int,
                 record: list | None = None):
        """Fit every planner; ``labels``, their rows' names, name them in errors and warnings
        (two planners of one name are 'name' and 'name #2'). ``record`` (in a worker process):
        a list that keeps the fits' warnings, each as ``(caught_record, where)``, instead of
        showing them."""
        self._shown: set = set()        # the warnings shown in this run (show_again)
        for planner, name in zip(planners, labels):
            where = f"{_FIT} {name!r}"
            try:
                with self._passing_on(where, record):
                    planner.fit(instance, seed=fit_seed)
            except Warning as exc:          # raised, not warned
                raise_in(exc, where)
            except (InvalidParameterError, InvalidModelError) as exc:   # says which planner
                try:
                    error = type(exc)(f"planner {name!r} does not apply to this instance: "
                                      f"{exc} (leave it out: planners= / --planners)")
                except TypeError:                 # a user's error class with other arguments
                    error = None
                if error is None:
                    add_note(exc, f"(fitting planner {name!r})")
                    exc.planner, exc.reason = name, str(exc)
                    raise
                error.planner, error.reason = name, str(exc)   # for a caller leaving it out
                raise error from exc
            except Exception as exc:   # noqa: BLE001 - any other failure, named (as an episode's)
                raise_in(exc, where)
        self.planners, self.labels = planners, labels
        self.env = Environment(instance, horizon=horizon, seed=0)
        for name in self._warm_up():
            where = f"{_FIT} {name!r}"
            try:
                with self._passing_on(where, record):
                    warnings.warn(_not_restarted(name), RmabWarning)
            except Warning as exc:          # made an error by the caller's filters
                raise_in(exc, where)

    @contextmanager
    def _passing_on(self, where: str, record: list | None):
        """Catch the block's warnings and :func:`_pass_on` them, named by ``where``. In the
        calling process the caller's filters stay on: one they make an error stops the block
        where it was raised (its traceback there), one they ignore is not kept; the others
        are shown again at the caller's line once the block ends. A worker (``record``)
        keeps them all, for the parent's filters."""
        keep = sendable if record is not None else (lambda x: x)
        caught: list = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                if record is not None:
                    warnings.simplefilter("always")
                yield
        finally:                            # those before a failure too
            _pass_on([(keep(caught_record(w)), where) for w in caught], record, self._shown)

    def _warm_up(self) -> list[str]:
        """Two untimed ``plan`` calls per planner, so that the decision time of the first
        episode does not hold Numba's compile or cache load (myopic: 61 ms against 0.26 ms a
        step). Every episode resets the planner with its own seed, so a planner whose
        ``reset`` clears its episode state (every built-in one) scores as without them; what
        goes wrong here goes wrong again, reported, in the first episode.

        Returns the labels of the planners whose two calls, each after ``reset(seed=0)`` on
        the same belief, differ: their ``reset`` does not restart them (a user's round robin
        that set its pointer in ``_fit``), so an episode's numbers depend on the episodes the
        process played before it, and with ``n_jobs > 1`` on how the workers shared them out:
        three runs of one seed on two workers gave three different results."""
        belief = self.env.reset(seed=0)
        differ = []
        for planner, label in zip(self.planners, self.labels):
            with warnings.catch_warnings():     # its reset's too: each episode's shows them
                warnings.simplefilter("ignore")
                try:
                    planner.reset(seed=0)
                    first = np.array(planner.plan(belief, t=0))
                    planner.reset(seed=0)
                    again = np.array(planner.plan(belief, t=0))
                except Exception as exc:   # noqa: BLE001 - the first episode raises it, named
                    if interrupted(exc):
                        raise KeyboardInterrupt from exc
                    continue
            if first.shape != again.shape or not np.array_equal(first, again):
                differ.append(label)
        return differ

    def episode(self, seeds: EpisodeSeeds, record: list | None = None) -> np.ndarray:
        """(n_planners, N_FIELDS) for episode ``seeds.index``, same noise for every planner;
        its warnings are passed on as the fits' are (``record``: as in :class:`Runner`)."""
        out = np.empty((len(self.planners), N_FIELDS))
        for i, (planner, label) in enumerate(zip(self.planners, self.labels)):
            try:
                with self._passing_on(f"planner {label!r} in episode {seeds.index}", record):
                    res = play(self.env, planner, seeds.noise, seeds.planner_seed, label)
            except Exception as exc:
                raise_in(exc, f"episode {seeds.index}")
            out[i] = res.discounted_return, res.total_reward, res.decision_seconds
        return out


def _pass_on(caught: list, record: list | None, shown: set) -> None:
    """``caught`` (``(caught_record, where)`` pairs) kept in ``record`` (a worker's, for the
    parent to show) or, without one, shown now under the caller's filters (an "error" filter
    raises it, naming where)."""
    if record is not None:
        record.extend(caught)
        return
    for rec, where in caught:
        try:
            show_again(*rec, shown)
        except Warning as exc:
            raise_in(exc, where)


def _not_restarted(name: str) -> str:
    return (f"planner {name!r}: after reset(seed=0) its plan for one belief changed from one "
            f"call to the next, so its reset does not restart it: each episode's numbers depend "
            f"on the episodes played before it in the same process, and with n_jobs > 1 on how "
            f"the workers share them out (not reproducible); set its per-episode state in reset "
            f"(_reset for a BasePlanner) and draw only on the generator reset seeds (or, if "
            f"it stops at a wall-clock time limit, expect runs to differ)")


def run_serial(instance, planners, labels, fit_seed, horizon, seeds, bar) -> list[np.ndarray]:
    runner = Runner(instance, planners, labels, fit_seed, horizon)
    rows = []
    for s in seeds:
        rows.append(runner.episode(s))
        bar.update()
    return rows


def check_picklable(labels, planners) -> None:
    for label, planner in zip(labels, planners):
        try:
            pickle.dumps(planner)
        except Exception as exc:  # pickling raises PicklingError, TypeError, AttributeError...
            raise InvalidParameterError(
                f"compare.planners: must be picklable when n_jobs > 1; got planner {label!r} "
                f"that is not ({type(exc).__name__}: {exc})") from exc


_RUNNER: Runner | None = None
_INIT_ERROR: BaseException | None = None
_CAUGHT: list = []          # (caught_record, where) of this worker, not yet sent
_FIT = "fitting planner"    # where a fit's warnings come from: "fitting planner 'name'"


def _init_worker(instance, planners, labels, fit_seed, horizon) -> None:
    """Fit the planners; their warnings wait in ``_CAUGHT`` for the parent to show (a
    worker's own stderr would print them once per process, in Python's format, not the
    caller's)."""
    global _RUNNER, _INIT_ERROR
    try:
        _RUNNER = Runner(instance, planners, labels, fit_seed, horizon, record=_CAUGHT)
    except BaseException as exc:  # re-raised by the first task, with its own type
        _INIT_ERROR = exc


def _worker_episode(seeds: EpisodeSeeds) -> tuple[np.ndarray, list]:
    """The episode's row and the warnings since the last one (the fit's with the first)."""
    try:
        if _INIT_ERROR is not None:
            raise _INIT_ERROR
        row = _RUNNER.episode(seeds, record=_CAUGHT)
    except BaseException as exc:     # the warnings before it go with it (shown, then raised)
        exc.warnings_before = list(_CAUGHT)
        _CAUGHT.clear()
        raise
    caught = list(_CAUGHT)
    _CAUGHT.clear()
    return row, caught


class _Shown:
    """The parent's side of the workers' warnings: each shown under the caller's filters
    (:func:`show_again`: once per run unless "always"); one worker's fit warnings only (every
    worker fits the same planners); a warning an "error" filter raises names where it was
    raised."""

    def __init__(self):
        self.keys: set = set()
        self.fit_seen = False

    def __call__(self, caught: list) -> None:
        fit = False
        for record, where in caught:
            if where.startswith(_FIT):
                fit = True
                if self.fit_seen:
                    continue
            try:
                show_again(*record, self.keys)
            except Warning as exc:
                raise_in(exc, where)
        self.fit_seen |= fit


def run_pool(instance, planners, labels, fit_seed, horizon, seeds, n_jobs, bar
             ) -> list[np.ndarray]:
    """Episodes in a pool of ``spawn`` workers (:func:`~rmab._processes.worker_pool`)."""
    check_loadable("compare.n_jobs", planners, "n_jobs=1")
    rows: list = [None] * len(seeds)
    show = _Shown()
    with worker_pool("compare.n_jobs", min(n_jobs, len(seeds)), "running the episodes",
                     "n_jobs=1", _init_worker,
                     (instance, planners, labels, fit_seed, horizon)) as pool:
        futures = {pool.submit(_worker_episode, s): i for i, s in enumerate(seeds)}
        for fut in as_completed(futures):
            try:
                rows[futures[fut]], caught = fut.result()
            except BaseException as exc:
                show(getattr(exc, "warnings_before", []))
                raise
            show(caught)
            bar.update()
    return rows
