"""Run the episodes of a comparison in this process or in a pool of spawned processes (private).

Each process fits every planner once, then plays the episodes it is given; episode ``k``'s
numbers depend only on its seeds, so the results do not depend on the number of processes.
"""

from __future__ import annotations

import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool

import numpy as np

from rmab._processes import spawn_failure, stop_now
from rmab._warnings import caught_record, filter_specs, recording, show_again
from rmab.errors import InvalidModelError, InvalidParameterError, raise_in
from rmab.sim.environment import Environment
from rmab.sim.episodes import play
from rmab.sim.noise import EpisodeSeeds

# per-episode row of a planner: discounted return, total reward, decision seconds per step
N_FIELDS = 3


class Runner:
    """Planners fitted to one instance plus an environment: plays episodes for all of them."""

    def __init__(self, instance, planners, fit_seed: int, horizon: int):
        for planner in planners:
            try:
                planner.fit(instance, seed=fit_seed)
            except (InvalidParameterError, InvalidModelError) as exc:   # says which planner
                name = getattr(planner, "name", type(planner).__name__)
                error = type(exc)(f"planner {name!r} does not apply to this instance: {exc} "
                                  f"(leave it out: planners= / --planners)")
                error.planner, error.reason = name, str(exc)   # for a caller leaving it out
                raise error from exc
        self.planners = planners
        self.env = Environment(instance, horizon=horizon, seed=0)

    def episode(self, seeds: EpisodeSeeds) -> np.ndarray:
        """(n_planners, N_FIELDS) for episode ``seeds.index``, same noise for every planner."""
        out = np.empty((len(self.planners), N_FIELDS))
        for i, planner in enumerate(self.planners):
            try:
                res = play(self.env, planner, seeds.noise, seeds.planner_seed)
            except Exception as exc:
                raise_in(exc, f"episode {seeds.index}")
            out[i] = res.discounted_return, res.total_reward, res.decision_seconds
        return out


def run_serial(instance, planners, fit_seed, horizon, seeds, bar) -> list[np.ndarray]:
    runner = Runner(instance, planners, fit_seed, horizon)
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
_CAUGHT: list = []          # warnings of this worker not yet sent to the parent
_FILTERS: list = []         # the parent's warning filters (filter_specs)


def _recorded(work):
    """Run ``work()``, keeping its warnings in ``_CAUGHT`` (:func:`caught_record`) for the
    parent to show (a worker's own stderr would print them once per process,
    in Python's format, not the caller's); those the parent's filters make errors are raised
    where they happen, as in a serial run."""
    with recording(_FILTERS) as caught:
        try:
            return work()
        finally:
            _CAUGHT.extend(caught_record(w) for w in caught)


def _init_worker(instance, planners, fit_seed, horizon, filters) -> None:
    global _RUNNER, _INIT_ERROR
    _FILTERS[:] = filters
    try:
        _RUNNER = _recorded(lambda: Runner(instance, planners, fit_seed, horizon))
    except BaseException as exc:  # re-raised by the first task, with its own type
        _INIT_ERROR = exc


def _worker_episode(seeds: EpisodeSeeds) -> tuple[np.ndarray, list]:
    """The episode's row and the warnings since the last one (the fit's with the first)."""
    try:
        if _INIT_ERROR is not None:
            raise _INIT_ERROR
        row = _recorded(lambda: _RUNNER.episode(seeds))
    except BaseException as exc:     # the warnings before it go with it (shown, then raised)
        exc.warnings_before = list(_CAUGHT)
        _CAUGHT.clear()
        raise
    caught = list(_CAUGHT)
    _CAUGHT.clear()
    return row, caught


def run_pool(instance, planners, fit_seed, horizon, seeds, n_jobs, bar) -> list[np.ndarray]:
    """Episodes in a ``ProcessPoolExecutor`` with the ``spawn`` start method."""
    rows: list = [None] * len(seeds)
    shown: set = set()          # each (text, category, line) once per run, unless "always"
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(n_jobs, len(seeds)), mp_context=ctx,
                             initializer=_init_worker,
                             initargs=(instance, planners, fit_seed, horizon,
                                       filter_specs())) as pool:
        futures = {pool.submit(_worker_episode, s): i for i, s in enumerate(seeds)}
        try:
            for fut in as_completed(futures):
                try:
                    rows[futures[fut]], caught = fut.result()
                except BaseException as exc:
                    for record in getattr(exc, "warnings_before", ()):
                        show_again(*record, shown)
                    raise
                for record in caught:
                    show_again(*record, shown)
                bar.update()
        except BrokenProcessPool as exc:
            raise spawn_failure("compare.n_jobs", n_jobs, "running the episodes",
                                "n_jobs=1") from exc
        except BaseException:
            stop_now(pool)
            raise
    return rows
