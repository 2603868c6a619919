"""Paired comparison of planners on one instance with common random numbers.

Every planner plays the same ``episodes``; in episode ``k`` all of them see the same initial
states, transition and signal uniforms, and get the same reset seed (:mod:`rmab.sim.noise`),
so differences between planners are paired and their noise largely cancels.
"""

from __future__ import annotations

import csv
import math
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from rmab._reporting import (PairedDifferenceResult, count_noun, mean_ci, paired_table,
                             save_bar_chart, saved_array, saved_names)
from rmab._repr import CompactRepr, planner_label
from rmab._validation import _short, check_flag, check_number, check_path
from rmab.errors import InvalidModelError, InvalidParameterError
from rmab.models.instance import Instance
from rmab.models.storage import atomic_write
from rmab.planners.base import Planner, make_planner
from rmab.sim import _runner
from rmab.sim.environment import check_horizon, default_horizon
from rmab.sim.noise import episode_seeds, fit_seed, root_sequence

__all__ = ["compare", "ComparisonResult", "PlannerScore", "PairedDifferenceResult",
           "load_comparison"]

CONFIDENCE = 0.95
RANDOM = "random"
FORMAT = "rmab-comparison"
VERSION = 1
ARRAYS = ("returns", "totals", "decision_seconds")        # what a saved comparison holds


@dataclass(frozen=True, eq=False)
class PlannerScore:
    """One planner's line of a comparison.

    ``mean``, ``stderr``, ``ci_low``, ``ci_high`` concern the discounted return per episode
    (Student-t interval); ``normalised = mean / mean of 'random'`` (NaN when that mean is
    ``<= 0``); ``mean_total`` is the mean undiscounted total reward; ``decision_seconds`` the
    mean wall time of one decision (``plan``; a ``BasePlanner``'s ``_plan`` and the check of
    its action, :class:`~rmab.sim.episodes.EpisodeResult`), after two untimed calls per
    process, the first holding Numba's compile or cache load.
    """

    name: str
    mean: float
    stderr: float
    ci_low: float
    ci_high: float
    normalised: float
    mean_total: float
    decision_seconds: float


@dataclass(frozen=True, eq=False, repr=False)
class ComparisonResult(CompactRepr):
    """Outcome of :func:`compare`.

    Attributes
    ----------
    scores : tuple of PlannerScore
        One per planner, in the order given.
    returns : array (n_planners, episodes)
        Discounted return of each planner in each episode (paired across planners).
    totals : array (n_planners, episodes)
        Undiscounted total reward.
    decision_seconds : array (n_planners, episodes)
        Mean seconds per decision in each episode (as ``PlannerScore.decision_seconds``).
    random_mean : float
        Mean discounted return of the ``random`` planner, the unit of ``normalised``.
    random_added : bool
        True when ``random`` was not among the planners and was evaluated on the same noise
        only for the normalisation (it then has no row).
    episodes, horizon, discount, confidence
    seed : int or None
        The root seed: ``compare(..., seed=seed)`` with the same instance and planners plays
        the same episodes (a Generator's or ``None``'s drawn entropy included); None for a
        SeedSequence that no integer gives (spawned from another, another ``pool_size``,
        entropy of several words), or a comparison saved before session 44.
    """

    scores: tuple
    returns: np.ndarray
    totals: np.ndarray
    decision_seconds: np.ndarray
    random_mean: float
    random_added: bool
    episodes: int
    horizon: int
    discount: float
    confidence: float = CONFIDENCE
    seed: int | None = None

    @property
    def names(self) -> tuple:
        return tuple(s.name for s in self.scores)

    def _index(self, name: str, field: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise InvalidParameterError(f"ComparisonResult.{field}: must be one of "
                                        f"{list(self.names)}; got {name!r}") from None

    def score(self, name: str) -> PlannerScore:
        """The line of planner ``name``."""
        return self.scores[self._index(name, "name")]

    def paired_difference(self, first: str, second: str) -> PairedDifferenceResult:
        """Paired difference of discounted returns ``first - second`` over the episodes."""
        d = self.returns[self._index(first, "first")] - self.returns[self._index(second, "second")]
        mean, se, lo, hi = mean_ci(d, self.confidence)
        return PairedDifferenceResult(first, second, mean, se, lo, hi, self.episodes,
                                      self.confidence)

    def _digits(self) -> int:
        """Decimals shown: 3, more for small returns (returns of 1e-4: 4 digits)."""
        big = max((abs(s.mean) for s in self.scores if np.isfinite(s.mean) and s.mean != 0),
                  default=1.0)
        return min(max(3, 3 - int(np.floor(np.log10(big)))), 12)

    def paired_table(self, reference: str) -> str:
        """Every other planner's :meth:`paired_difference` against ``reference``, as an
        aligned text table with a verdict per row (the interval above, below or around 0)."""
        self._index(reference, "paired_table.reference")
        diffs = [self.paired_difference(name, reference) for name in self.names
                 if name != reference]
        return paired_table(diffs, reference, self._digits(), "discounted returns")

    def table(self) -> str:
        """An aligned text table, one row per planner, with a footnote on the columns."""
        pct = f"{self.confidence:.0%}"
        head = ["planner", "mean return", "std err", f"{pct} CI", "normalised", "ms/step"]
        d = self._digits()
        rows = [[s.name, f"{s.mean:.{d}f}", f"{s.stderr:.{d}f}",
                 f"[{s.ci_low:.{d}f}, {s.ci_high:.{d}f}]", f"{s.normalised:.3f}",
                 f"{s.decision_seconds * 1e3:.3f}"] for s in self.scores]
        widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                           for i, (c, w) in enumerate(zip(r, widths))) for r in [head] + rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        unit = "'random' (added on the same noise to normalise)" if self.random_added \
            else "'random'"
        lines.append(f"discounted return (discount {self.discount:g}) over "
                     f"{count_noun(self.episodes, 'episode')} of "
                     f"{count_noun(self.horizon, 'period')}, common random numbers; {pct} CI "
                     f"from the t distribution; normalised = mean / mean of {unit}"
                     + ("; one episode has no standard error or CI (nan): use two or more"
                        if self.episodes < 2 else ""))
        return "\n".join(lines)

    def to_csv(self, path, per_episode: bool = False) -> None:
        """Write one row per planner (full precision) to ``path``, atomically; with
        ``per_episode=True`` one row per planner and episode instead (``episode`` from 0: the
        same episode number is the same noise for every planner)."""
        check_path("ComparisonResult.to_csv", path, suffix=".csv")
        check_flag("ComparisonResult.to_csv", "per_episode", per_episode)
        if per_episode:
            fields = ["planner", "episode", "discounted_return", "total_reward",
                      "decision_seconds", "horizon", "discount"]
            rows = [[name, k, self.returns[i, k], self.totals[i, k],
                     self.decision_seconds[i, k], self.horizon, self.discount]
                    for i, name in enumerate(self.names) for k in range(self.episodes)]
        else:
            fields = ["planner", "mean_return", "stderr", "ci_low", "ci_high", "normalised",
                      "mean_total_reward", "decision_seconds", "episodes", "horizon",
                      "discount"]
            rows = [[s.name, s.mean, s.stderr, s.ci_low, s.ci_high, s.normalised,
                     s.mean_total, s.decision_seconds, self.episodes, self.horizon,
                     self.discount] for s in self.scores]
        with atomic_write(path, ".csv") as tmp:
            with open(tmp, "w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(fields)
                writer.writerows(rows)

    def save(self, path) -> None:
        """Write the whole comparison, every episode's numbers included, to ``path``
        (``.npz``, atomically; :func:`load_comparison` reads it back)."""
        from rmab.models.storage import write_archive

        check_path("ComparisonResult.save", path, suffix=".npz")
        meta = {"format": FORMAT, "version": VERSION, "planners": list(self.names),
                "random_mean": self.random_mean, "random_added": self.random_added,
                "episodes": self.episodes, "horizon": self.horizon, "discount": self.discount,
                "confidence": self.confidence, "seed": self.seed}
        write_archive(path, {name: getattr(self, name) for name in ARRAYS}, meta,
                      "ComparisonResult")

    def plot(self, path) -> None:
        """Bar chart of the mean discounted returns with confidence-interval error bars, saved
        to ``path`` (``.png``, ``.pdf`` or ``.svg``; atomically; matplotlib's Agg canvas, no
        global backend change)."""
        mean = np.array([s.mean for s in self.scores])
        err = np.array([[s.mean - s.ci_low for s in self.scores],
                        [s.ci_high - s.mean for s in self.scores]])
        save_bar_chart(path, self.names, mean, err, ylabel="mean discounted return",
                       title=f"{count_noun(self.episodes, 'episode')}, {self.confidence:.0%} CI",
                       owner="ComparisonResult.plot")


def _resolve(planners) -> tuple[list[str], list]:
    """Labels and planner objects; duplicate labels get a suffix ' #2', ' #3', ..."""
    if isinstance(planners, (str, bytes)) or not isinstance(planners, Iterable):
        raise InvalidParameterError(f"compare.planners: must be a list of planners; got "
                                    f"{_short(planners)}")
    if isinstance(planners, Mapping):       # iterating it would drop every parameter
        raise InvalidParameterError(f"compare.planners: must be a list of planners, not a "
                                    f"mapping (its values would be ignored; (name, params) "
                                    f"pairs: list(planners.items())); got {_short(planners)}")
    items = list(planners)
    if not items:
        raise InvalidParameterError("compare.planners: must hold at least one planner; got []")
    labels, objects = [], []
    for i, item in enumerate(items):
        if isinstance(item, str):
            label, obj = item, make_planner(item)
        elif (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
              and isinstance(item[1], Mapping)):
            name, params = item
            bad = [k for k in params if not isinstance(k, str)]
            if bad:
                raise InvalidParameterError(f"compare.planners[{i}]: parameter names must be "
                                            f"str; got {bad[0]!r}")
            obj = make_planner(name, **params)
            label = params_label(name, params)
        elif isinstance(item, type):        # a Planner class passes the protocol check
            raise InvalidParameterError(f"compare.planners[{i}]: must be a planner object, "
                                        f"not a class; got {item.__name__} (call it: "
                                        f"{item.__name__}())")
        elif isinstance(item, Planner):
            label, obj = planner_label(item), item
            if label == RANDOM and type(item) is not type(make_planner(RANDOM)):
                # it would have become the unit of `normalised`, the built-in 'random #2'
                raise InvalidParameterError(f"compare.planners[{i}]: the label {RANDOM!r} "
                                            f"names the built-in random planner, the unit of "
                                            f"the normalised scores; got a "
                                            f"{type(item).__name__} named {RANDOM!r} (give it "
                                            f"another name)")
        else:
            raise InvalidParameterError(f"compare.planners[{i}]: must be a registry name, a "
                                        f"(name, params) pair or a Planner; got {_short(item)}")
        labels.append(label)
        objects.append(obj)
    return distinct_labels(labels), objects


def params_label(name: str, params: Mapping) -> str:
    """The row label of a ``(name, params)`` planner: ``"lagrangian(charge_now=True)"``."""
    if not params:
        return name
    return name + "(" + ", ".join(f"{k}={v!r}" for k, v in params.items()) + ")"


def distinct_labels(labels: list[str]) -> list[str]:
    """``labels`` with each repeat suffixed ``' #2'``, ``' #3'``, ... (the next suffix no other
    label has): the names of a comparison's rows."""
    labels = list(labels)
    taken, seen = set(labels), {}
    for i, label in enumerate(labels):
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            while f"{label} #{seen[label]}" in taken:
                seen[label] += 1
            labels[i] = f"{label} #{seen[label]}"
            taken.add(labels[i])
    return labels


def compare(instance: Instance, planners, *, episodes: int = 20, seed=0, n_jobs: int = 1,
            horizon: int | None = None, progress: bool = False) -> ComparisonResult:
    """Evaluate planners on the same episodes (common random numbers) and summarise.

    Parameters
    ----------
    instance : Instance
    planners : list
        Registry names (``"myopic"``), ``(name, params)`` pairs (``("round-robin",
        {"action": 2})``) or Planner objects; a repeated name gets a suffix ``" #2"``. Each
        planner is fitted once per process with one seed derived from ``seed`` (planner objects
        are fitted in place when ``n_jobs == 1``, as copies in the workers otherwise) and reset
        with episode ``k``'s seed, the same for every planner. After the fit, each process
        makes two untimed ``plan`` calls at ``t = 0`` (each after ``reset(seed=0)``) so that
        the decision time leaves out Numba's compile; a planner whose ``reset`` clears its
        episode state (every built-in one) gives the same returns as without them. One whose
        two calls differ does not restart at ``reset``: its returns depend on the episodes
        played before in its process (and on ``n_jobs``), which an ``RmabWarning`` says.
    episodes : int, >= 1
    seed : int, SeedSequence or Generator
        Root of every random number (:mod:`rmab.sim.noise`); results do not depend on
        ``n_jobs`` or on the order of ``planners``.
    n_jobs : int, >= 1
        Worker processes (``spawn``); ``> 1`` needs picklable planners.
    horizon : int, optional
        Periods per episode (default ``instance.episode_length``, as :class:`Environment`).
    progress : bool
        Show a tqdm progress bar on stderr.

    Returns
    -------
    ComparisonResult
        Per planner the mean discounted return ``sum_t discount**t reward_t``, its standard
        error and 95 % confidence interval from the Student t distribution with
        ``episodes - 1`` degrees of freedom (NaN for one episode), the score normalised by the
        ``random`` planner (``mean / mean_random``, NaN when ``mean_random <= 0``; ``random`` is
        evaluated on the same noise for this if it is not among ``planners``), the mean decision
        time per period, and the (planners x episodes) matrix of returns for paired differences.
    """
    if not isinstance(instance, Instance):
        raise InvalidParameterError(f"compare.instance: must be an Instance; got "
                                    f"{type(instance).__name__}")
    episodes = check_number("compare", "episodes", episodes, low=1, integer=True)
    n_jobs = check_number("compare", "n_jobs", n_jobs, low=1, integer=True)
    horizon = (default_horizon("compare", instance) if horizon is None
               else check_horizon("compare", horizon, instance))
    check_flag("compare", "progress", progress)
    labels, objects = _resolve(planners)
    random_added = RANDOM not in labels
    if random_added:
        objects = objects + [make_planner(RANDOM)]
    names = labels + [RANDOM] * random_added     # the rows' names, in errors and warnings
    root = root_sequence("compare.seed", seed)
    seeds = episode_seeds(root, episodes)
    from tqdm import tqdm

    with tqdm(total=episodes, desc="compare", unit="episode", file=sys.stderr,
              disable=not progress) as bar:
        if n_jobs == 1:
            rows = _runner.run_serial(instance, objects, names, fit_seed(root), horizon,
                                      seeds, bar)
        else:
            _runner.check_picklable(labels, objects)
            rows = _runner.run_pool(instance, objects, names, fit_seed(root), horizon, seeds,
                                    n_jobs, bar)
    data = np.stack(rows, axis=2)  # (n_planners (+ random), N_FIELDS, episodes)
    returns, totals, seconds = (np.ascontiguousarray(data[:, j]) for j in range(3))
    random_returns = returns[-1] if random_added else returns[labels.index(RANDOM)]
    n = len(labels)
    arrays = [a[:n].copy() for a in (returns, totals, seconds)]
    for a in arrays:
        a.setflags(write=False)
    return _result(labels, *arrays, float(random_returns.mean()), random_added, horizon,
                   instance.discount, CONFIDENCE, _replay_seed(root))


def _replay_seed(root: np.random.SeedSequence) -> int | None:
    """The integer ``seed`` whose ``root_sequence`` is ``root`` (the same numbers), or None:
    a SeedSequence spawned from another, of another ``pool_size``, or of several words of
    entropy (a list or an array; as given, save() could not write them, nor compare take
    them back)."""
    entropy = root.entropy
    if root.spawn_key or not isinstance(entropy, (int, np.integer)) or \
            isinstance(entropy, bool) or entropy < 0:
        return None
    seed = int(entropy)                  # an np.int64 too: JSON and compare(seed=) take it
    same = np.array_equal(np.random.SeedSequence(seed).generate_state(8),
                          root.generate_state(8))
    return seed if same else None


def _result(labels, returns, totals, seconds, random_mean: float, random_added: bool,
            horizon: int, discount: float, confidence: float, seed: int | None
            ) -> ComparisonResult:
    """The comparison of the per-episode arrays (n_planners, episodes): each planner's line."""
    scores = []
    for i, label in enumerate(labels):
        mean, se, lo, hi = mean_ci(returns[i], confidence)
        normalised = mean / random_mean if random_mean > 0 else math.nan
        scores.append(PlannerScore(label, mean, se, lo, hi, normalised, float(totals[i].mean()),
                                   float(seconds[i].mean())))
    return ComparisonResult(tuple(scores), returns, totals, seconds, random_mean=random_mean,
                            random_added=random_added, episodes=returns.shape[1],
                            horizon=horizon, discount=discount, confidence=confidence,
                            seed=seed)


def load_comparison(path):
    """Read a comparison written by :meth:`ComparisonResult.save` or
    :meth:`~rmab.domains.evaluate.DomainComparisonResult.save` (no pickle; checked again).

    Returns
    -------
    ComparisonResult or DomainComparisonResult
        Whichever was saved, with every episode's numbers: tables, paired differences, CSVs
        and plots come out as from the run.
    """
    from rmab.domains.evaluate import FORMAT as DOMAIN_FORMAT, DomainComparisonResult
    from rmab.models.storage import read_archive

    arrays, meta = read_archive(path, "load_comparison", (FORMAT, DOMAIN_FORMAT), VERSION, {
        ".csv": "a comparison's CSV holds its table only: save the result itself with "
                "ComparisonResult.save (or 'rmab compare --save')"},
        members=ARRAYS + DomainComparisonResult.ARRAYS)
    owner = f"load_comparison: {path}"
    if meta["format"] == DOMAIN_FORMAT:
        return DomainComparisonResult._from_archive(arrays, meta, owner)
    names = saved_names(owner, meta)

    def number(field, **bounds):
        return check_number(owner, f"metadata.{field}", meta.get(field), error=InvalidModelError,
                            **bounds)

    episodes = number("episodes", low=1, integer=True)
    shape = (len(names), episodes)
    returns, totals, seconds = (saved_array(owner, arrays, name, shape,
                                            nonnegative=name == "decision_seconds")
                                for name in ARRAYS)
    seed = meta.get("seed")                  # a 128-bit entropy: no check_number
    if seed is not None and (type(seed) is not int or seed < 0):
        raise InvalidModelError(f"{owner}.metadata.seed: must be an integer >= 0 or null; got "
                                f"{_short(seed)}")
    random_added = meta.get("random_added")
    if random_added is not (RANDOM not in names):
        raise InvalidModelError(f"{owner}: random_added must be true exactly when 'random' is "
                                f"not among the planners {list(names)}; got {random_added!r}")
    random_mean = (number("random_mean") if random_added       # else: the row's, as compare
                   else float(returns[names.index(RANDOM)].mean()))
    return _result(names, returns, totals, seconds, random_mean, random_added,
                   number("horizon", low=1, integer=True),
                   number("discount", low=0.0, high=1.0, low_open=True),
                   number("confidence", low=0.0, high=1.0, low_open=True, high_open=True),
                   seed)
