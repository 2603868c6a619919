"""Solve every batch of a CSV file with a registered planner (``docs/csv.md``)."""

from __future__ import annotations

import hashlib
import numbers
import os
import pickle
import sys
import time
import traceback
import warnings
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np

from rmab._repr import CompactRepr
from rmab._processes import check_loadable, worker_pool
from rmab._validation import (_short, check_discount, check_flag, check_number, check_path,
                              check_seed)
from rmab._warnings import caught_record, sendable, show_again
from rmab.belief.update import check_actions
from rmab.errors import (IndexabilityWarning, InvalidParameterError, PlanningError, RmabError,
                         add_note, interrupted)
from rmab.io.reader import Batch, read_with_models
from rmab.io.writer import check_out_path, check_text_file, write_solutions
from rmab.models.storage import check_writable
from rmab.planners.base import make_planner

__all__ = ["BatchOutcome", "BatchFailure", "BatchSolveResult", "solve_batches", "batch_seed"]



@dataclass(frozen=True, eq=False, repr=False)
class BatchOutcome(CompactRepr):
    """The planner's decision for one batch.

    ``arm_ids`` the batch's (a read-only array of str), ``actions`` int64 (n_arms,), ``costs``
    (n_arms,) cost of each chosen action, ``scores`` (n_arms,) the planner's per-arm score
    (``last_stats.scores``) or None when it sets none.
    """

    batch_id: str
    arm_ids: np.ndarray
    actions: np.ndarray
    costs: np.ndarray
    scores: np.ndarray | None
    action_names: tuple | None
    budget: float
    seconds: float

    @property
    def total_cost(self) -> float:
        return float(self.costs.sum())


@dataclass(frozen=True, eq=False, repr=False)
class BatchFailure(CompactRepr):
    """A batch that was not solved: ``stage`` is ``"read"`` (a bad row, ``error`` is a
    :class:`~rmab.errors.BatchInputError`) or ``"plan"`` (a :class:`~rmab.errors.PlanningError`
    raised from the planner's exception). ``batch_id`` is None for a row without one."""

    batch_id: str | None
    stage: str
    error: RmabError

    @property
    def line(self) -> int | None:
        return getattr(self.error, "line", None)


@dataclass(frozen=True, eq=False, repr=False)
class BatchSolveResult(CompactRepr):
    """Outcome of :func:`solve_batches`: solved batches in file order, failures (only with
    ``keep_going``; in file order, a planning failure at its batch's first row), the number of
    arm rows written to ``out`` (0 when ``out`` is None)."""

    outcomes: tuple
    failures: tuple
    planner: str
    rows_written: int
    out: str | None
    seconds: float

    @property
    def ok(self) -> bool:
        """True when every batch was solved."""
        return not self.failures

    @property
    def n_arms(self) -> int:
        return sum(len(o.arm_ids) for o in self.outcomes)


def batch_seed(seed, batch_id: str) -> np.random.SeedSequence:
    """Seed of the batch ``batch_id``: the child of ``SeedSequence(seed)`` whose spawn key
    extends the root's by the first 8 bytes of the SHA-256 of the id (UTF-8), so a batch's
    seed depends on its id alone, not on the other batches of the file or their order.
    ``seed``: a non-negative integer or a :class:`numpy.random.SeedSequence`."""
    root = check_seed("batch_seed.seed", seed)
    root = root if isinstance(root, np.random.SeedSequence) else np.random.SeedSequence(root)
    key = int.from_bytes(hashlib.sha256(str(batch_id).encode("utf-8")).digest()[:8], "big")
    return np.random.SeedSequence(root.entropy, spawn_key=tuple(root.spawn_key) + (key,))


def solve_batches(source, planner: str = "myopic", *, planner_params=None, seed=0,
                  keep_going: bool = False, out=None, discount: float = 0.95,
                  progress: bool = False, n_jobs: int = 1) -> BatchSolveResult:
    """Read (if given a path) and solve every batch, then write the decisions.

    Parameters
    ----------
    source : path of a CSV file (``docs/csv.md``) or an iterable of :class:`Batch`
    planner : str
        Registered planner name (:func:`rmab.make_planner`); ``planner_params`` go to it.
        A fresh planner is made for each batch, fitted on the batch's instance with
        :func:`batch_seed` ``(seed, batch.batch_id)``, and asked ``plan(batch.belief)``.
    seed : int, SeedSequence or Generator (one integer drawn from it for the whole file)
    keep_going : bool
        If False the first bad row or planner failure raises and nothing is written. If True
        batches with a bad row or a failing planner are skipped and listed in
        ``result.failures``; the others are solved and written.
    out : path, open text file or None
        Where the decisions go (:func:`~rmab.io.write_solutions`, atomic for a path). A path is
        checked before any work, and may not be the source file or a model file it names.
    discount : float
        Discount of batches whose rows give none.
    progress : bool
        Show a tqdm progress bar over batches on stderr.
    n_jobs : int >= 1
        Batches planned at once in that many ``spawn`` worker processes (each planner made
        afresh, as a copy of ``make_planner(planner, **planner_params)``). A batch's decision
        depends on its rows and id alone, so the output is the same for any ``n_jobs``; its
        warnings are shown and its failure raised in the file's order, as one process does.
    """
    start = time.perf_counter()
    if isinstance(seed, np.random.Generator):   # drawn once: a batch's seed still depends on
        seed = int(seed.integers(2**63))        # its id alone, not on the batches before it
    seed = check_seed("solve_batches.seed", seed)
    if planner_params is not None and not isinstance(planner_params, Mapping):
        raise InvalidParameterError(f"solve_batches.planner_params: must be a mapping of "
                                    f"parameter names to values; got "
                                    f"{type(planner_params).__name__}")
    params = dict(planner_params or {})
    bad = [k for k in params if not isinstance(k, str)]
    if bad:
        raise InvalidParameterError(f"solve_batches.planner_params: keys must be parameter "
                                    f"names (str); got {_short(bad[0])}")
    keep_going = check_flag("solve_batches", "keep_going", keep_going)
    n_jobs = check_number("solve_batches", "n_jobs", n_jobs, low=1, integer=True)
    progress = check_flag("solve_batches", "progress", progress)
    discount = check_discount("solve_batches", discount)
    if not isinstance(planner, str):
        raise InvalidParameterError(f"solve_batches.planner: must be a registered planner's "
                                    f"name (a fresh planner is made for each batch: give its "
                                    f"parameters as planner_params); got {_short(planner)}")
    template = make_planner(planner, **params)   # an unknown name or bad parameters fail
    if n_jobs > 1:                                # before any work, as does a class that
        check_loadable("solve_batches.n_jobs", [template], "n_jobs=1")   # workers can't load
        try:                                      # or a parameter that cannot reach them
            pickle.dumps(template)
        except Exception as exc:  # noqa: BLE001 - PicklingError, TypeError, AttributeError ...
            raise PlanningError(f"solve_batches.n_jobs: the planner {planner!r} must pickle to "
                                f"reach the worker processes (its parameters too); got "
                                f"{type(exc).__name__}: {exc}; or use n_jobs=1") from exc
    if out is not None and hasattr(out, "write"):          # before the work, not after it
        check_text_file("solve_batches", out)
    elif out is not None:
        check_out_path("solve_batches", out)
        check_writable(out, [source] if isinstance(source, (str, os.PathLike)) else [],
                       owner="solve_batches.out")
    failures: list[BatchFailure] = []
    models: list[str] = []                  # every model file the CSV names
    if isinstance(source, (str, os.PathLike)):
        check_path("solve_batches", source, "source")
        batches, bad, models = read_with_models(source, discount)
        if bad and not keep_going:
            raise bad[0]
        failures += [BatchFailure(e.batch_id, "read", e) for e in bad]
    else:
        # any iterable of Batch objects; not text, a file object or a table (whose iteration
        # gives lines or column names)
        listed = (hasattr(source, "__iter__") and not isinstance(source, (bytes, bytearray))
                  and not hasattr(source, "read") and not hasattr(source, "columns"))
        batches = list(source) if listed else []
        wrong = next((type(b).__name__ for b in batches if not isinstance(b, Batch)), None)
        if not listed or wrong:
            what = f"a sequence holding a {wrong}" if listed else type(source).__name__
            raise InvalidParameterError(f"solve_batches.source: must be the path of a CSV file "
                                        f"or a sequence of Batch objects (read_batches); got "
                                        f"{what}")
        seen: set = set()                         # a CSV's are (its rows are grouped by id)
        twice = next((b.batch_id for b in batches
                      if b.batch_id in seen or seen.add(b.batch_id)), None)
        if twice is not None:
            raise InvalidParameterError(f"solve_batches.source: batch ids must be unique (the "
                                        f"output rows are keyed by batch and arm); got "
                                        f"{twice!r} twice")
    if out is not None and not hasattr(out, "write"):        # nor over a model file named
        check_writable(out, sorted({f for b in batches for f in b.model_files}.union(models)),
                       owner="solve_batches.out")
        check_path("solve_batches", out, "out", suffix=".csv")   # as rmab solve --out
    from tqdm import tqdm

    outcomes = []
    bar = tqdm(total=len(batches), desc="batches", unit="batch", file=sys.stderr,
               disable=not progress)
    with bar, _planned(batches, planner, params, template, seed, n_jobs) as plans:
        for batch, plan in zip(batches, plans):
            try:
                outcomes.append(_outcome(batch, planner, plan))
            except PlanningError as exc:
                if not keep_going:
                    raise
                failures.append(BatchFailure(batch.batch_id, "plan", exc))
            bar.update()
    # in file order: a planning failure (no line of its own) at its batch's first row
    first = {b.batch_id: int(b.lines.min()) for b in batches if b.lines is not None}
    failures.sort(key=lambda f: f.line if f.line is not None else first.get(f.batch_id, 0))
    written = write_solutions(outcomes, out) if out is not None else 0
    return BatchSolveResult(tuple(outcomes), tuple(failures), planner, written,
                            None if out is None or hasattr(out, "write") else str(out),
                            time.perf_counter() - start)


@dataclass(frozen=True)
class _Plan:
    """One batch's fit and plan, as a worker process sends it back: the actions and their
    costs, the planner's scores and ``indexable`` (or None), the warnings caught
    (:func:`caught_record` tuples) and the error raised (None if none)."""

    actions: np.ndarray | None
    costs: np.ndarray | None
    scores: np.ndarray | None
    indexable: np.ndarray | None
    caught: list
    error: BaseException | None
    seconds: float


def _plan(batch: Batch, planner: str, params: dict, seed, model=None) -> _Plan:
    """Fit a fresh planner (``make_planner(planner, **params)``, or the unfitted ``model``
    given) on the batch and plan it, its warnings caught."""
    inst = batch.instance
    start = time.perf_counter()
    caught: list = []
    actions = costs = scores = indexable = error = None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = make_planner(planner, **params) if model is None else model
            model = model.fit(inst, seed=batch_seed(seed, batch.batch_id))
            actions = check_actions(f"{planner}.plan", model.plan(batch.belief), inst.n_arms,
                                    inst.n_actions)
        costs = inst.arms.costs[np.arange(inst.n_arms), actions]
        why = inst._violation(actions)
        if why is not None:
            raise PlanningError(f"{planner}.plan: {why}")
        indexable = getattr(getattr(model, "result", None), "indexable", None)
        scores = getattr(getattr(model, "last_stats", None), "scores", None)
        if scores is not None:
            scores = _real_scores(scores, inst.n_arms)
    except Exception as exc:  # noqa: BLE001 - one batch's planner failure must not hide the rest
        if interrupted(exc):    # a Ctrl-C inside a kernel stops the run, not this batch
            raise KeyboardInterrupt from exc
        error = exc
    return _Plan(actions, costs, scores, indexable, [caught_record(w) for w in caught], error,
                 time.perf_counter() - start)


def _plan_in_worker(batch: Batch, planner: str, params: dict, seed, model) -> _Plan:
    """:func:`_plan` in a worker process, what it sends back made to pickle: the warnings by
    :func:`sendable`, an error that does not as its text (its traceback kept as a note)."""
    plan = _plan(batch, planner, params, seed, model)
    error = plan.error
    if error is not None:
        # the whole chain: pickling drops __cause__ and __context__
        worker = "".join(traceback.format_exception(error)).rstrip()
        add_note(error, f"Traceback in the worker process (its chain):\n{worker}")
        try:
            pickle.loads(pickle.dumps(error))
        except Exception:        # noqa: BLE001 - PicklingError, TypeError, AttributeError ...
            kind = f"{type(error).__module__}.{type(error).__qualname__}"
            error = PlanningError(str(error))   # the text one process shows, not the type's
            add_note(error, f"The worker's {kind} could not be sent back; its text is kept.")
            add_note(error, f"Traceback in the worker process (its chain):\n{worker}")
    indexable = None                 # as _say_again takes it: one flag per arm (a list too)
    try:
        if np.shape(plan.indexable) == (batch.n_arms,):
            indexable = np.asarray(plan.indexable, dtype=bool)
    except Exception:            # noqa: BLE001 - a ragged or odd object: no names, as there
        pass
    return replace(plan, indexable=indexable, caught=[sendable(r) for r in plan.caught],
                   error=error)


@contextmanager
def _planned(batches: list, planner: str, params: dict, template, seed, n_jobs: int):
    """The batches' :class:`_Plan`, in their order: planned one by one as they are asked for,
    or ahead by ``n_jobs`` spawned workers (stopped at once if the caller stops early)."""
    if n_jobs == 1 or len(batches) < 2:
        yield (_plan(batch, planner, params, seed) for batch in batches)
        return
    n = min(n_jobs, len(batches))
    with worker_pool("solve_batches.n_jobs", n, "planning the batches", "n_jobs=1") as pool:
        futures = [pool.submit(_plan_in_worker, batch, planner, params, seed, template)
                   for batch in batches]
        yield (future.result() for future in futures)


def _outcome(batch: Batch, planner: str, plan: _Plan) -> BatchOutcome:
    """The batch's decision, its warnings shown again naming it; a
    :class:`~rmab.errors.PlanningError` if its planner failed or a warning was made an
    error."""
    where = _where(batch)
    exc = plan.error
    if exc is None:
        try:
            _say_again(plan.caught, batch, where, plan.indexable)
        except Warning as made_error:        # one made an error fails this batch alone
            exc = made_error
    elif not isinstance(exc, Warning):
        try:
            _say_again(plan.caught, batch, where)
        except Warning:               # warnings as errors: the failure is reported anyway
            pass
    if exc is not None:
        raise PlanningError(f"planner {planner!r} failed on batch {batch.batch_id!r}{where}: "
                            f"{exc}") from exc
    return BatchOutcome(batch.batch_id, batch.arm_ids, plan.actions, plan.costs, plan.scores,
                        batch.action_names, batch.instance.budget, plan.seconds)


def _real_scores(scores, n_arms: int) -> np.ndarray | None:
    """A user planner's scores as float64 (n_arms,) if they are one real number per arm
    (Fractions and 2**64 too; beyond float64, inf), else None: after the batch's own error
    handling, strings, 10**400 or a cast warning made an error lost every batch."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = np.asarray(scores)
            if raw.dtype.kind == "O" and all(isinstance(x, numbers.Real) for x in raw.ravel()):
                raw = np.array([float(x) for x in raw.ravel()]).reshape(raw.shape)
            out = raw.astype(np.float64) if raw.dtype.kind in "biuf" else None
    except (TypeError, ValueError, OverflowError):     # ragged rows, 10**400
        return None
    return out if out is not None and out.shape == (n_arms,) else None


def _say_again(caught, batch: Batch, where: str, indexable=None) -> None:
    """The planner's warnings (:func:`caught_record` tuples), said again with the batch they
    are about (from where they were raised, so the caller's module filters apply); an index
    planner's ``indexable`` (n_arms,) names the arm ids that are not."""
    shown: set = set()
    for text, category, filename, lineno, module in caught:
        if issubclass(category, IndexabilityWarning) and indexable is not None and np.shape(
                indexable) == (batch.n_arms,):
            ids = [batch.arm_ids[k] for k in np.flatnonzero(~np.asarray(indexable, bool))]
            text = f"{text}; in this batch: arm_id {', '.join(ids[:10])}{' ...' * (len(ids) > 10)}"
        show_again(f"batch {batch.batch_id!r}{where}: {text}", category, filename, lineno,
                   module, shown)


def _where(batch: Batch) -> str:
    """`` (file, line N)`` of the batch's first row, or nothing for batches made in Python."""
    if batch.file is None or batch.lines is None or not len(batch.lines):
        return ""
    return f" ({batch.file}, line {int(batch.lines.min())})"
