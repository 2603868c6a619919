"""The paper's evaluation protocol for coRMAB domains (Xu et al. 2025 §6).

Each method runs ``episodes`` episodes of ``horizon`` periods (defaults 50 and 20). Episode
``e`` starts from states drawn so that each arm is in state 1 with probability ``p_high = 0.2``
and in state 0 otherwise (:func:`~rmab.domains.arm.initial_states`), and arm ``j`` moves up at
period ``t`` iff ``u[e, t, j] < up_prob``: the initial uniforms and the transition uniforms are
drawn once from ``seed`` and shared by every method (common random numbers). The score of an
episode is the mean per-period *expected* reward ``Σ_j E[r_j(s'_j) | s, a]``; a method's score
is the mean over episodes, and the normalised score divides it by RANDOM's on the same
instance (RANDOM = 1; NaN where RANDOM's mean is not positive, as with negative rewards, where
the ratio would invert the ranking). Every planner is fitted with one seed and reset with one
seed per episode, the same for all planners, so that a planner's scores do not depend on
which others are evaluated with it or in what order. :func:`compare_domain` repeats this over
several seeds (one generated instance per seed) and reports the mean and standard deviation of
the normalised scores.

With ``bound=True`` the comparison also holds, for every episode's start, the occupation-measure
LP bound (:func:`~rmab.domains.bound.hull_bound`) on any policy's mean per-period expected
reward over the horizon: how far the best planner could still be from optimal.
"""

from __future__ import annotations

import csv
import io
import sys
import time
import warnings
from dataclasses import dataclass

import numpy as np

from rmab._reporting import (PairedDifferenceResult, count_noun, mean_ci, paired_table,
                             saved_array, saved_names)
from rmab._repr import CompactRepr, planner_label
from rmab._validation import (as_array, as_generator, check_flag, check_number, check_path,
                              check_seed)
from rmab._warnings import caught_record, show_again
from rmab.domains.arm import check_states, initial_states
from rmab.domains.base import Domain
from rmab.errors import InvalidModelError, InvalidParameterError, SolverLimitWarning, raise_in

__all__ = ["DomainComparisonResult", "evaluate_domain", "compare_domain"]

REFERENCE = "random"
FORMAT = "rmab-domain-comparison"         # rmab.sim.load_comparison reads it


def _check_over(owner: str, over) -> None:
    if not isinstance(over, str) or over not in ("episodes", "seeds"):
        raise InvalidParameterError(f"{owner}.over: must be 'episodes' or 'seeds'; got "
                                    f"{over!r}")


@dataclass(frozen=True, eq=False, repr=False)
class DomainComparisonResult(CompactRepr):
    """Scores of several planners on one or more instances.

    ``rewards`` (n_seeds, n_planners, episodes): mean per-period expected reward of every
    episode; ``normalised`` (n_seeds, n_planners): mean reward / RANDOM's mean reward on the
    same instance; ``seconds_per_step`` (n_seeds, n_planners) mean planning time; ``starts``
    (n_seeds, episodes, n_arms) the start states every planner shared (None if not recorded);
    ``bound`` (n_seeds, episodes) the LP bound on any policy's per-period reward from each
    start (None unless asked for).
    """

    ARRAYS = ("rewards", "seconds_per_step", "starts", "bound")     # what save writes

    kind: str
    planners: tuple
    seeds: tuple
    rewards: np.ndarray
    normalised: np.ndarray
    seconds_per_step: np.ndarray
    horizon: int
    episodes: int
    starts: np.ndarray | None = None
    bound: np.ndarray | None = None

    @property
    def mean_reward(self) -> np.ndarray:
        """(n_planners,) mean over seeds and episodes."""
        return self.rewards.mean(axis=(0, 2))

    @property
    def mean_normalised(self) -> np.ndarray:
        return self.normalised.mean(axis=0)

    @property
    def normalised_bound(self) -> np.ndarray | None:
        """(n_seeds,) the LP bound's mean over episodes / RANDOM's mean reward (None without
        the bound)."""
        if self.bound is None:
            return None
        return _ratio(self.bound.mean(axis=1),
                      self.rewards[:, self.planners.index(REFERENCE)].mean(axis=1))

    @property
    def sem_reward(self) -> np.ndarray:
        """(n_planners,) standard error of :attr:`mean_reward` over the episodes (the seeds'
        standard errors combined; NaN with one episode)."""
        return np.array([mean_ci(self.rewards[:, p], 0.95)[1]
                         for p in range(len(self.planners))])

    def paired_difference(self, first: str, second: str, confidence: float = 0.95,
                          over: str = "episodes") -> PairedDifferenceResult:
        """``first - second``: both planners played the same starts and random numbers, so the
        difference of their per-step rewards is paired.

        ``over="episodes"``: its mean over seeds and episodes with the seeds as strata
        (:attr:`sem_reward`'s rule; ``episodes`` counts the pairs): the interval holds for
        *these* instances. ``over="seeds"``: the mean of each seed's mean difference, with
        the Student-t interval over the seeds (``n_seeds - 1`` degrees of freedom; NaN with
        one seed): the interval holds for instances drawn from the generator, so the spread
        between instances counts. ``episodes`` then counts the seeds."""
        owner = "DomainComparisonResult.paired_difference"
        confidence = check_number(owner, "confidence", confidence, low=0.0, high=1.0,
                                  low_open=True, high_open=True)
        _check_over(owner, over)
        rows = [self._index(name, field) for name, field in ((first, "first"),
                                                             (second, "second"))]
        d = self.rewards[:, rows[0]] - self.rewards[:, rows[1]]            # (seeds, episodes)
        d = d if over == "episodes" else d.mean(axis=1)
        mean, se, lo, hi = mean_ci(d, confidence)
        return PairedDifferenceResult(first, second, mean, se, lo, hi, d.size, confidence)

    def _index(self, name: str, field: str, method: str = "paired_difference") -> int:
        try:
            return self.planners.index(name)
        except ValueError:
            raise InvalidParameterError(f"DomainComparisonResult.{method}.{field}: must be one "
                                        f"of {list(self.planners)}; got {name!r}") from None

    def paired_table(self, reference: str, over: str = "episodes") -> str:
        """Every other planner's :meth:`paired_difference` against ``reference`` (``over``
        episodes or seeds), as an aligned text table with a verdict per row (the interval
        above, below or around 0)."""
        self._index(reference, "reference", "paired_table")
        _check_over("DomainComparisonResult.paired_table", over)
        diffs = [self.paired_difference(name, reference, over=over) for name in self.planners
                 if name != reference]
        n = len(self.seeds)
        scope = (f"; over the episodes of {n} instances (seeds as strata): the CI holds for "
                 f"these instances" if over == "episodes" and n > 1 else
                 f"; each seed's mean, the CI over {n} seeds: it holds for instances drawn "
                 f"from the generator" if over == "seeds" else "")
        return paired_table(diffs, reference, 4, "per-step rewards") + scope

    def save(self, path) -> None:
        """Write the whole comparison, every episode's reward and start included, to ``path``
        (``.npz``, atomically; :func:`rmab.load_comparison` reads it back)."""
        from rmab.models.storage import write_archive

        check_path("DomainComparisonResult.save", path, suffix=".npz")
        arrays = {name: getattr(self, name) for name in self.ARRAYS
                  if getattr(self, name) is not None}             # starts, bound: optional
        meta = {"format": FORMAT, "version": 1, "kind": self.kind,
                "planners": list(self.planners), "seeds": list(self.seeds),
                "horizon": self.horizon, "episodes": self.episodes}
        write_archive(path, arrays, meta, "DomainComparisonResult")

    @classmethod
    def _from_archive(cls, arrays: dict, meta: dict, owner: str) -> DomainComparisonResult:
        """The result :meth:`save` wrote (``arrays``, ``meta``), checked; errors name
        ``owner``."""
        names = saved_names(owner, meta)
        kind, seeds = meta.get("kind"), meta.get("seeds")
        if REFERENCE not in names or not isinstance(kind, str):
            raise InvalidModelError(f"{owner}: must name its domain kind and hold the planner "
                                    f"{REFERENCE!r}; got kind {kind!r}, planners {list(names)}")
        if not isinstance(seeds, list) or not seeds or seeds != [None] and (
                len(set(seeds)) < len(seeds)
                or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds)):
            raise InvalidModelError(f"{owner}: seeds must be a list of distinct integers, or "
                                    f"[null] (one instance, seeded otherwise); got "
                                    f"{str(seeds)[:80]}")
        horizon, episodes = (check_number(owner, f"metadata.{f}", meta.get(f), low=1,
                                          integer=True, error=InvalidModelError)
                             for f in ("horizon", "episodes"))
        n = (len(seeds), len(names))
        rewards = saved_array(owner, arrays, "rewards", (*n, episodes))
        starts = bound = None
        if "starts" in arrays:
            n_arms = arrays["starts"].shape[-1] if arrays["starts"].ndim == 3 else -1
            starts = saved_array(owner, arrays, "starts", (n[0], episodes, max(n_arms, 1)),
                                 integer=True, nonnegative=True)
        if "bound" in arrays:
            bound = saved_array(owner, arrays, "bound", (n[0], episodes))
        ref = rewards[:, names.index(REFERENCE)].mean(axis=1)
        normalised = np.stack([_ratio(r.mean(axis=1), m) for r, m in zip(rewards, ref)])
        return cls(kind, names, tuple(seeds), rewards, normalised,
                   saved_array(owner, arrays, "seconds_per_step", n, nonnegative=True),
                   horizon, episodes, starts, bound)

    @property
    def std_normalised(self) -> np.ndarray:
        return self.normalised.std(axis=0, ddof=1) if len(self.seeds) > 1 else \
            np.zeros(len(self.planners))

    def table(self) -> str:
        """A plain-text table: planner, mean reward ± its standard error over episodes,
        normalised mean ± std over seeds ("-" with one seed), ms/step; a last line says what
        the columns are."""
        w = max([18] + [len(name) for name in self.planners])   # sampling(n_samples=50)
        head = (f"{'planner':<{w}} {'reward':>8} {'± se':>7} {'normalised':>11} {'± std':>7} "
                f"{'ms/step':>9}")
        lines = [f"{self.kind}: {count_noun(len(self.seeds), 'seed')}, "
                 f"{count_noun(self.episodes, 'episode')}, "
                 f"H = {self.horizon} (RANDOM = 1)", head, "-" * len(head)]

        def cell(x) -> str:
            return f"{x:7.4f}" if np.isfinite(x) else f"{'-':>7}"

        sem = self.sem_reward
        for p, name in enumerate(self.planners):
            spread = cell(self.std_normalised[p]) if len(self.seeds) > 1 else f"{'-':>7}"
            lines.append(f"{name:<{w}} {self.mean_reward[p]:8.4f} {cell(sem[p])} "
                         f"{self.mean_normalised[p]:11.4f} {spread} "
                         f"{1e3 * self.seconds_per_step[:, p].mean():9.3f}")
        if self.bound is not None:
            norm = self.normalised_bound
            spread = cell(norm.std(ddof=1)) if len(self.seeds) > 1 else f"{'-':>7}"
            b = self.bound
            lines.append(f"{'upper bound (LP)':<{w}} {b.mean():8.4f} {cell(mean_ci(b, 0.95)[1])} "
                         f"{norm.mean():11.4f} {spread} {'-':>9}")
        if self.bound is not None:
            lines += self._above_the_bound()
        lines += ["reward: expected reward per step, mean over episodes and seeds ± its standard "
                  "error;",
                  "normalised: reward / RANDOM's on the same instance, mean ± std over seeds;",
                  "the planners share starts and random numbers (paired_difference compares "
                  "two)"]
        return "\n".join(lines)

    def _above_the_bound(self) -> list[str]:
        """A line per planner whose mean reward passes the bound's mean, by how many standard
        errors of their per-episode difference (the bound is each episode's start's, so the
        two are paired; the seeds are strata, :func:`mean_ci`): the bound holds for the
        expected reward, so a lower end of the difference's 99.73 % Student-t interval (3
        standard errors with many episodes) at or below 0 is sampling noise, and above it a
        fault worth reporting. The planner's own standard error with a fixed 3 had called 7.1
        of them a fault over 5 episodes of path, where the difference's 3.4 with 4 degrees of
        freedom is noise (from 200 episodes per start the planner was 0.12 below)."""
        lines = []
        for p, (name, m) in enumerate(zip(self.planners, self.mean_reward)):
            excess = m - self.bound.mean()
            if excess <= 0:
                continue
            _, se, low, _ = mean_ci(self.rewards[:, p] - self.bound, NOISE_LEVEL)
            if not np.isfinite(se):             # one episode: no standard error
                lines.append(f"({name} passes the bound by {excess:.4f}; one episode cannot "
                             f"tell sampling noise from a fault)")
                continue
            z = excess / se if se > 0 else np.inf
            why = ("sampling noise: the bound holds for the expected reward" if low <= 0 else
                   "more than sampling noise explains: please report it")
            lines.append(f"({name} passes the bound by {excess:.4f}, "
                         + (f"{z:.1f} standard errors" if np.isfinite(z) else "with no spread")
                         + f"; {why})")
        return lines

    def to_csv(self, path=None, per_episode: bool = False) -> str:
        """One row per (seed, planner), and per seed an ``upper-bound`` row when the bound was
        computed (its seconds_per_step empty); with ``per_episode=True`` one row per (seed,
        planner, episode) instead, the reward of that episode (``upper-bound`` rows: the
        bound from its start). Written atomically to ``path`` if given. Returns the CSV
        text."""
        if path is not None:
            check_path("DomainComparisonResult.to_csv", path, suffix=".csv")
        check_flag("DomainComparisonResult.to_csv", "per_episode", per_episode)
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        if per_episode:
            w.writerow(["kind", "seed", "planner", "episode", "reward", "horizon"])
            for k, seed in enumerate(self.seeds):
                rows = list(zip(self.planners, self.rewards[k]))
                if self.bound is not None:
                    rows.append(("upper-bound", self.bound[k]))
                for name, values in rows:
                    w.writerows([self.kind, "" if seed is None else seed, name, e,
                                 float(v), self.horizon] for e, v in enumerate(values))
        else:
            w.writerow(["kind", "seed", "planner", "mean_reward", "sem_reward", "normalised",
                        "seconds_per_step", "episodes", "horizon"])
        for k, seed in enumerate(() if per_episode else self.seeds):
            for p, name in enumerate(self.planners):
                r = self.rewards[k, p]
                w.writerow([self.kind, "" if seed is None else seed, name, f"{r.mean():.10g}",
                            f"{mean_ci(r, 0.95)[1]:.6g}",
                            f"{self.normalised[k, p]:.10g}",
                            f"{self.seconds_per_step[k, p]:.6g}", self.episodes, self.horizon])
            if self.bound is not None:
                b = self.bound[k]
                w.writerow([self.kind, "" if seed is None else seed, "upper-bound",
                            f"{b.mean():.10g}", f"{mean_ci(b, 0.95)[1]:.6g}",
                            f"{self.normalised_bound[k]:.10g}", "", self.episodes,
                            self.horizon])
        text = buf.getvalue()
        if path is not None:
            from rmab.models.storage import atomic_write

            with atomic_write(path, ".csv") as tmp:
                tmp.write_text(text, encoding="utf-8")
        return text

    def plot(self, path) -> None:
        """Bar chart of the normalised reward per planner (RANDOM = 1, dashed line), saved to
        ``path`` (``.png``, ``.pdf`` or ``.svg``; atomically; matplotlib's Agg canvas, no global
        backend change).

        Bars: mean over seeds. Error bars: the standard deviation over seeds when there are
        several; with one seed, the 95 % Student-t confidence interval of the mean over
        episodes (RANDOM's mean reward taken as fixed). The title says which. With the LP
        bound, a dotted line at its normalised mean over seeds.
        """
        from rmab._reporting import save_bar_chart

        mean = self.mean_normalised
        if len(self.seeds) > 1:
            err = np.broadcast_to(self.std_normalised, (2, mean.size))
            what = f"{len(self.seeds)} seeds, error bars: std over seeds"
        else:
            ref = self.rewards[0, self.planners.index(REFERENCE)].mean()
            ci = np.array([mean_ci(_ratio(r, ref), 0.95)[2:] for r in self.rewards[0]]).T
            err = np.nan_to_num(np.array([mean - ci[0], ci[1] - mean]))
            what = (f"1 seed, {self.episodes} episodes, error bars: 95% CI over episodes"
                    if self.episodes > 1 else "1 seed, 1 episode, no error bars")
        save_bar_chart(path, self.planners, mean, err, ylabel="normalised reward (RANDOM = 1)",
                       title=f"{self.kind}, H = {self.horizon}: {what}",
                       owner="DomainComparisonResult.plot", reference_line=1.0,
                       bound_line=None if self.bound is None else
                       float(self.normalised_bound.mean()))


def _ratio(x, ref):
    """``x / ref`` (RANDOM's mean reward), NaN where ``ref <= 0``."""
    ref = np.asarray(ref, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ref > 0, np.asarray(x) / np.where(ref > 0, ref, 1.0), np.nan)


# two-sided level of the interval whose lower end tells noise from a fault above the bound:
# 3 standard errors of the normal, more with few episodes
NOISE_LEVEL = 0.9973


def _planners(planners, horizon: int) -> list:
    """Planner objects for ``planners``: a name is made, for ``horizon`` periods if it plans
    for a number of periods (``DomainPlannerSpec.horizon``); a planner object for another
    number of periods is refused."""
    from rmab.domains.baselines import DOMAIN_PLANNERS, DomainPlanner, make_domain_planner

    if isinstance(planners, str) or not hasattr(planners, "__iter__"):
        raise InvalidParameterError(f"evaluate_domain.planners: must be a sequence of names or "
                                    f"planners; got {planners!r}")
    planners = list(planners)
    for i, p in enumerate(planners):    # None reached p.name as a raw AttributeError
        if not isinstance(p, (str, DomainPlanner)):
            raise InvalidParameterError(f"evaluate_domain.planners[{i}]: must be a domain "
                                        f"planner name or object (fit, reset, plan, name); "
                                        f"got {type(p).__name__}")
    made = [p if not isinstance(p, str) else
            make_domain_planner(p, horizon=horizon)
            if getattr(DOMAIN_PLANNERS.get(p), "horizon", False) else make_domain_planner(p)
            for p in planners]
    if not made:
        raise InvalidParameterError("evaluate_domain.planners: must not be empty")
    for p in made:              # a planner for another number of periods plays a wrong clock
        h = getattr(p, "horizon", None)
        if isinstance(h, (int, np.integer)) and h != horizon:
            raise InvalidParameterError(f"evaluate_domain.planners: {planner_label(p)!r} plans for "
                                        f"horizon {h}; this evaluation's horizon is {horizon} "
                                        f"(evaluate with horizon={h}, or make it with "
                                        f"horizon={horizon})")
    names = [planner_label(p) for p in made]
    if len(set(names)) != len(names):
        raise InvalidParameterError(f"evaluate_domain.planners: names must be unique; got "
                                    f"{names}")
    if REFERENCE not in names:
        made.append(make_domain_planner(REFERENCE))
    return made


def _run(domain: Domain, planners: list, episodes: int, horizon: int, p_high: float, seed,
         bar, starts=None):
    rng = as_generator(seed, "evaluate_domain.seed")
    n = domain.n_arms
    u0 = rng.random((episodes, n))
    u = rng.random((episodes, horizon, n))
    planner_seeds = rng.integers(0, 2**63 - 1, size=episodes + 1)     # shared (module doc)
    if starts is None:
        starts = np.array([initial_states(n, p_high=p_high, u=u0[e]) for e in range(episodes)])
    rewards = np.zeros((len(planners), episodes))
    seconds = np.zeros(len(planners))
    shown: set = set()          # each (text, category, line) once per run, unless "always"
    for planner in planners:    # all first: one that does not fit fails before any episode
        bar.set_postfix_str(planner_label(planner), refresh=False)
        planner.fit(domain, seed=int(planner_seeds[0]))
    for p, planner in enumerate(planners):
        bar.set_postfix_str(planner_label(planner), refresh=False)
        limited = []            # the first time-limit warning of each step that had one
        for e in range(episodes):
            planner.reset(seed=int(planner_seeds[e + 1]))
            s = starts[e]
            total = 0.0
            for t in range(horizon):
                try:
                    try:
                        with warnings.catch_warnings(record=True) as caught:
                            warnings.simplefilter("always")
                            clock = time.perf_counter()
                            planned = planner.plan(s, t=t)
                            seconds[p] += time.perf_counter() - clock
                            action = domain.check_action(planned)
                    finally:    # shown even when plan raised; a limit's first one at once
                        _pass_on(caught, limited, shown)
                except Exception as exc:    # a warning an "error" filter raises in _pass_on too
                    raise_in(exc, f"planner {planner_label(planner)!r} in episode {e} at t={t}")
                levels = domain._arm_levels(action)
                total += domain.arms.expected_reward(s, levels)
                s = domain.arms.next_states(s, levels, u[e, t])
            rewards[p, e] = total / horizon
            bar.update()
        if len(limited) > 1:    # the first was shown; then a count, not a line per step
            warnings.warn(f"evaluate_domain: planner {planner_label(planner)!r} stopped at the "
                          f"solver time limit in {len(limited)} of {episodes * horizon} steps and "
                          f"played the best action found", SolverLimitWarning,
                          stacklevel=4)                                  # the caller's line
    return rewards, seconds / (episodes * horizon), starts


def _pass_on(caught: list, limited: list, shown: set) -> None:
    """Show a step's recorded warnings under the caller's filters (:func:`show_again`: each
    once per run unless they say "always"); of the solver time-limit warnings only a
    planner's first is shown here, and every step that had one is counted in ``limited``."""
    at_limit = [w for w in caught if issubclass(w.category, SolverLimitWarning)]
    for w in caught:
        if w not in at_limit or (w is at_limit[0] and not limited):
            show_again(*caught_record(w), shown)
    limited += at_limit[:1]


def _check_starts(domain: Domain, starts) -> np.ndarray:
    arr = as_array("evaluate_domain", "starts", starts,
                   f"(episodes >= 1, n_arms={domain.n_arms})")
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] != domain.n_arms:
        raise InvalidParameterError(f"evaluate_domain.starts: must have shape (episodes >= 1, "
                                    f"n_arms={domain.n_arms}); got {arr.shape}")
    return np.stack([check_states(f"evaluate_domain.starts[{e}]", row, domain.n_arms,
                                  domain.n_states) for e, row in enumerate(arr)])


def _check_protocol(episodes, horizon, p_high):
    owner = "evaluate_domain"
    return (check_number(owner, "episodes", episodes, low=1, integer=True),
            check_number(owner, "horizon", horizon, low=1, integer=True),
            check_number(owner, "p_high", p_high, low=0.0, high=1.0))


def _progress_bar(total: int, progress, owner: str):
    """A tqdm bar on stderr over ``total`` (planner, episode) pairs, or a silent one."""
    from tqdm import tqdm

    check_flag(owner, "progress", progress)
    return tqdm(total=total, desc=owner, unit="episode", file=sys.stderr, disable=not progress)


def evaluate_domain(domain: Domain, planners=("no-action", "random", "sampling", "myopic",
                                              "iterative-myopic"), *,
                    episodes: int | None = None, horizon: int = 20, p_high: float = 0.2,
                    seed=0, starts=None, bound: bool = False,
                    progress: bool = False) -> DomainComparisonResult:
    """Evaluate ``planners`` (names from :data:`~rmab.domains.baselines.DOMAIN_PLANNERS` or
    planner objects) on one instance with the paper's protocol (module docstring). RANDOM is
    added if missing (it is the normalisation reference). Every action is checked feasible.
    ``starts``: int (episodes, n_arms), the episodes' start states instead of Bernoulli(p_high)
    draws (another implementation's, to compare on its episodes). ``episodes``: 50 by default,
    or the number of ``starts``. ``bound``: also compute the LP bound from every start (module
    docstring).
    ``progress``: a progress bar on stderr (the planner in play beside it)."""
    if not isinstance(domain, Domain):
        raise InvalidParameterError(f"evaluate_domain.domain: must be a Domain; got "
                                    f"{type(domain).__name__}")
    check_flag("evaluate_domain", "bound", bound)
    if starts is not None:
        starts = _check_starts(domain, starts)
        if episodes is not None and episodes != len(starts):   # silently replaced before
            raise InvalidParameterError(f"evaluate_domain.episodes: must be the number of "
                                        f"starts ({len(starts)}) or left out; got {episodes!r}")
        episodes = len(starts)
    episodes, horizon, p_high = _check_protocol(50 if episodes is None else episodes, horizon,
                                                p_high)
    made = _planners(planners, horizon)
    with _progress_bar(len(made) * episodes, progress, "evaluate_domain") as bar:
        return _evaluate(domain, made, episodes, horizon, p_high, seed, bound, bar, starts)


def _evaluate(domain, made, episodes, horizon, p_high, seed, bound, bar, starts=None):
    rewards, seconds, starts = _run(domain, made, episodes, horizon, p_high, seed, bar, starts)
    names = tuple(planner_label(p) for p in made)
    ref = rewards[names.index(REFERENCE)].mean()
    seed_label = (int(seed) if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)
                  else None)                     # a SeedSequence, Generator or None: no label
    bounds = None
    if bound:
        from rmab.domains.bound import hull_bound

        bounds = hull_bound(domain, starts, horizon)[None] / horizon
    return DomainComparisonResult(domain.kind, names, (seed_label,), rewards[None],
                                  _ratio(rewards.mean(axis=1), ref)[None], seconds[None],
                                  horizon, episodes, starts[None], bounds)


def compare_domain(kind: str, *, n_arms: int = 20, budget: int = 5, seeds=(0, 1, 2),
                   planners=("no-action", "random", "sampling", "myopic", "iterative-myopic"),
                   episodes: int = 50, horizon: int = 20, p_high: float = 0.2,
                   bound: bool = False, progress: bool = False,
                   **params) -> DomainComparisonResult:
    """:func:`evaluate_domain` on one generated instance per seed (``make_domain(kind,
    n_arms, budget, seed=s, **params)``), evaluated with ``seed=np.random.SeedSequence([s,
    1])`` (a stream apart from the instance's draws; pass that seed to :func:`evaluate_domain`
    on a loaded copy to replay the same episodes), with one progress bar for all of them if
    ``progress``."""
    from rmab.domains import make_domain

    check_flag("compare_domain", "bound", bound)
    episodes, horizon, p_high = _check_protocol(episodes, horizon, p_high)
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise InvalidParameterError(f"compare_domain.seeds: must be a sequence of instance "
                                    f"seeds, e.g. (0, 1, 2); got {seeds!r}")
    seeds = tuple(check_seed("compare_domain.seeds", s, sequence=False) for s in seeds)
    if not seeds:
        raise InvalidParameterError("compare_domain.seeds: must not be empty")
    if len(set(seeds)) != len(seeds):
        raise InvalidParameterError(f"compare_domain.seeds: must be distinct (a repeated seed "
                                    f"is the same run again, not another sample); got {seeds}")
    domains = [make_domain(kind, n_arms, budget, seed=s, **params) for s in seeds]
    made = [_planners(planners, horizon) for _ in seeds]    # names make new planners per seed
    with _progress_bar(sum(map(len, made)) * episodes, progress, "compare_domain") as bar:
        results = [_evaluate(d, m, episodes, horizon, p_high, np.random.SeedSequence([s, 1]),
                             bound, bar) for d, m, s in zip(domains, made, seeds)]
    first = results[0]
    return DomainComparisonResult(first.kind, first.planners, seeds,
                                  np.concatenate([r.rewards for r in results]),
                                  np.concatenate([r.normalised for r in results]),
                                  np.concatenate([r.seconds_per_step for r in results]),
                                  horizon, episodes,
                                  np.concatenate([r.starts for r in results]),
                                  np.concatenate([r.bound for r in results]) if bound else None)
