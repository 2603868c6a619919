"""Seeded instance generators (every function takes ``seed``; no global random state).

Health-intervention family (``../shared/specs/PORMAB.md`` §2, parameter ranges ours):

========================  =================================================================
states                    0 = disengaged, 1 = engaged (optionally 2 = dropped out)
actions / costs           0 = none (0), 1 = call (1), 2 = visit (2)
signals                   0 = no response, 1 = response
reward                    1 per period in the engaged state, else 0 (any action)
cluster centres           per risk group ``k``, drawn once per instance:
                          ``engage[k, none]  ~ U[0.05, 0.25]``  (Pr 0 -> 1)
                          ``engage[k, call]  = engage[k, none] + U[0.10, 0.30]``
                          ``engage[k, visit] = engage[k, call] + U[0.10, 0.25]``
                          ``stay[k, none]    ~ U[0.55, 0.85]``  (Pr 1 -> 1)
                          ``stay[k, call]    = stay[k, none] + U[0.05, 0.15]``
                          ``stay[k, visit]   = stay[k, call] + U[0.02, 0.10]``
per-arm noise             ``U[-noise, noise]`` added to every probability (default 0.05),
                          clipped to [0.01, 0.99] and kept non-decreasing in the action
response accuracy         Pr(response | engaged): none ``U[0.55, 0.65]`` (weak),
                          call ``U[0.80, 0.90]``, visit ``U[0.90, 0.98]``;
                          Pr(response | disengaged) = 1 - the same accuracy
dropped out (3 states)    from 0 or 1 drop out w.p. none ``U[0.02, 0.06]``, call half of that,
                          visit a quarter; absorbing under none/call; a visit brings the arm
                          back to 0 w.p. ``U[0.2, 0.5]``; responds like disengaged
initial belief            Pr(engaged) ~ U[0.3, 0.7] per arm (3 states: 5 % dropped out)
budget                    ``budget_fraction * n_arms`` cost units (calls), rounded half up,
                          at least 1 when the fraction is positive
========================  =================================================================
"""

from __future__ import annotations

import numpy as np

from rmab._validation import as_generator, check_number
from rmab.errors import InvalidParameterError
from rmab.models.arms import MDPArms, POMDPArms
from rmab.models.instance import Instance

__all__ = [
    "health_intervention",
    "random_mdp_arms",
    "random_pomdp_arms",
    "collapsing_arms",
    "random_instance",
    "budget_from_fraction",
]

HEALTH_COSTS = (0.0, 1.0, 2.0)
HEALTH_ACTIONS = ("none", "call", "visit")


def _seeded(seed, owner: str) -> tuple[np.random.Generator, int | None]:
    """The generator of ``seed`` and the seed as metadata: an integer (numpy's too); with no
    seed, the fresh entropy drawn, so the instance can be made again; else None (a generator
    or sequence)."""
    if seed is None:
        seed = np.random.SeedSequence().entropy
    ok = isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)
    return as_generator(seed, f"{owner}.seed"), int(seed) if ok else None


def budget_from_fraction(fraction: float, n_arms: int) -> float:
    """``fraction * n_arms`` rounded half up (Python's ``round`` takes 2.5 to 2), and at least 1
    when ``fraction > 0``, so that a small instance still acts (N = 10 at 5 %: 1, not 0).
    ``fraction`` must be finite and ``>= 0``, ``n_arms`` an integer ``>= 1``."""
    fraction = check_number("budget_from_fraction", "fraction", fraction, low=0.0)
    n_arms = check_number("budget_from_fraction", "n_arms", n_arms, low=1, integer=True)
    exact = fraction * n_arms                      # 0.145 * 100 = 14.499999999999998
    budget = float(np.floor(exact + 0.5 + 1e-9 * max(1.0, exact)))
    return max(budget, 1.0) if fraction > 0 else budget


def _clip_monotone(p: np.ndarray) -> np.ndarray:
    """Clip to [0.01, 0.99] and make non-decreasing along the last axis."""
    return np.maximum.accumulate(np.clip(p, 0.01, 0.99), axis=-1)


def health_intervention(n_arms: int, *, n_states: int = 2, budget_fraction: float = 0.1,
                        n_clusters: int = 3, noise: float = 0.05, discount: float = 0.95,
                        horizon: int | None = None, seed=None) -> Instance:
    """Health-intervention instance: hidden engagement, none/call/visit actions (costs 0/1/2).

    Parameter ranges are in the module docstring and ``docs/instances.md``.

    Parameters
    ----------
    n_arms : int, >= 1
    n_states : {2, 3}
        3 adds an absorbing "dropped out" state that only a visit leaves.
    budget_fraction : float in [0, 2]
        Budget per period as a fraction of ``n_arms`` (in call units).
    n_clusters : int, >= 1
        Number of risk groups; arms are assigned to groups uniformly at random.
    noise : float in [0, 0.2]
        Half-width of the per-arm uniform perturbation of every probability.
    discount, horizon : see :class:`~rmab.models.instance.Instance`.
    seed : int, SeedSequence or Generator

    Returns
    -------
    Instance with :class:`POMDPArms` of shape (n_arms, 3, n_states, 2); ``metadata['cluster']``
    gives each arm's risk group.
    """
    owner = "health_intervention"
    n_arms = check_number(owner, "n_arms", n_arms, low=1, integer=True)
    n_states = check_number(owner, "n_states", n_states, low=2, high=3, integer=True)
    budget_fraction = check_number(owner, "budget_fraction", budget_fraction, low=0.0)
    if budget_fraction > 2.0:               # 2: every arm visited (cost 2); 10 is a budget?
        raise InvalidParameterError(f"{owner}.budget_fraction: must be <= 2 (a share of the "
                                    f"arms: 2 visits them all); got {budget_fraction:g}, a "
                                    f"budget of {budget_fraction:g} calls? "
                                    f"health_intervention(...).replace(budget="
                                    f"{budget_fraction:g})")
    n_clusters = check_number(owner, "n_clusters", n_clusters, low=1, integer=True)
    # abs: -0.0 passes low=0.0 but rng.uniform(-noise, noise) refuses it
    noise = abs(check_number(owner, "noise", noise, low=0.0, high=0.2))
    rng, seed_label = _seeded(seed, owner)
    n_actions = 3

    engage_c = np.empty((n_clusters, n_actions))
    engage_c[:, 0] = rng.uniform(0.05, 0.25, n_clusters)
    engage_c[:, 1] = engage_c[:, 0] + rng.uniform(0.10, 0.30, n_clusters)
    engage_c[:, 2] = engage_c[:, 1] + rng.uniform(0.10, 0.25, n_clusters)
    stay_c = np.empty((n_clusters, n_actions))
    stay_c[:, 0] = rng.uniform(0.55, 0.85, n_clusters)
    stay_c[:, 1] = stay_c[:, 0] + rng.uniform(0.05, 0.15, n_clusters)
    stay_c[:, 2] = stay_c[:, 1] + rng.uniform(0.02, 0.10, n_clusters)

    cluster = rng.integers(0, n_clusters, n_arms)
    engage = _clip_monotone(engage_c[cluster] + rng.uniform(-noise, noise, (n_arms, n_actions)))
    stay = _clip_monotone(stay_c[cluster] + rng.uniform(-noise, noise, (n_arms, n_actions)))
    accuracy = np.stack([rng.uniform(0.55, 0.65, n_arms), rng.uniform(0.80, 0.90, n_arms),
                         rng.uniform(0.90, 0.98, n_arms)], axis=1)

    p = np.zeros((n_arms, n_actions, n_states, n_states))
    p[:, :, 0, 1] = engage
    p[:, :, 0, 0] = 1.0 - engage
    p[:, :, 1, 1] = stay
    p[:, :, 1, 0] = 1.0 - stay
    o = np.zeros((n_arms, n_actions, n_states, 2))
    o[:, :, 1, 1] = accuracy
    o[:, :, 1, 0] = 1.0 - accuracy
    o[:, :, 0, 0] = accuracy
    o[:, :, 0, 1] = 1.0 - accuracy
    belief = np.zeros((n_arms, n_states))
    engaged0 = rng.uniform(0.3, 0.7, n_arms)
    if n_states == 3:
        drop_none = rng.uniform(0.02, 0.06, n_arms)
        drop = drop_none[:, None] * np.array([1.0, 0.5, 0.25])[None, :]  # (N, A)
        for s in (0, 1):
            p[:, :, s, :2] *= (1.0 - drop)[:, :, None]
            p[:, :, s, 2] = drop
        back = rng.uniform(0.2, 0.5, n_arms)
        p[:, 0, 2, 2] = 1.0
        p[:, 1, 2, 2] = 1.0
        p[:, 2, 2, 0] = back
        p[:, 2, 2, 2] = 1.0 - back
        o[:, :, 2, :] = o[:, :, 0, :]
        belief[:, 2] = 0.05
        engaged0 = engaged0 * 0.95
    belief[:, 1] = engaged0
    belief[:, 0] = 1.0 - belief[:, 1:].sum(axis=1)
    rewards = np.zeros((n_arms, n_states))
    rewards[:, 1] = 1.0
    arms = POMDPArms(p, o, rewards, np.array(HEALTH_COSTS))
    budget = budget_from_fraction(budget_fraction, n_arms)
    meta = {"generator": "health_intervention",
            "params": {"n_arms": n_arms, "n_states": n_states, "budget_fraction": budget_fraction,
                       "n_clusters": n_clusters, "noise": noise},
            "seed": seed_label,
            "actions": list(HEALTH_ACTIONS),
            "cluster": cluster.tolist()}
    return Instance(arms, budget, discount=discount, horizon=horizon, initial_belief=belief,
                    name=f"health-{n_arms}", metadata=meta)


def _random_rows(rng: np.random.Generator, shape: tuple, concentration: float) -> np.ndarray:
    """Dirichlet(concentration) rows, every entry at least about 1e-12."""
    if concentration >= 0.1:    # the draws of earlier versions (seeded instances unchanged)
        rows = rng.gamma(concentration, 1.0, shape) + 1e-12
        return rows / rows.sum(axis=-1, keepdims=True)
    # below, most Gamma(c) draws fall under 1e-12 and the floor made rows nearly uniform:
    # Gamma(c) = Gamma(c + 1) U^(1/c), normalised in log space, floored after; the logs are
    # kept times c (finite for every c > 0: divided first, 5e-324 made them all -inf, NaN rows)
    scaled = concentration * np.log(rng.gamma(concentration + 1.0, 1.0, shape)) + \
        np.log(1.0 - rng.random(shape))                               # U in (0, 1]
    with np.errstate(over="ignore"):                                # -inf: an entry of 0
        rows = np.exp((scaled - scaled.max(axis=-1, keepdims=True)) / concentration)
    rows = np.maximum(rows / rows.sum(axis=-1, keepdims=True), 1e-12)
    return rows / rows.sum(axis=-1, keepdims=True)


def _check_sizes(owner, n_arms, n_states, n_actions, concentration, min_states=1):
    return (check_number(owner, "n_arms", n_arms, low=1, integer=True),
            check_number(owner, "n_states", n_states, low=min_states, integer=True),
            check_number(owner, "n_actions", n_actions, low=1, integer=True),
            check_number(owner, "concentration", concentration, low=0.0, low_open=True))


def random_mdp_arms(n_arms: int, n_states: int, n_actions: int = 2, *,
                    concentration: float = 1.0, seed=None) -> MDPArms:
    """Random fully observed arms: Dirichlet(``concentration``) transition rows, rewards
    ``U[0, 1]`` per (state, action), costs ``0, 1, ..., n_actions - 1``."""
    owner = "random_mdp_arms"
    n_arms, n_states, n_actions, concentration = _check_sizes(owner, n_arms, n_states,
                                                              n_actions, concentration)
    rng = as_generator(seed, f"{owner}.seed")
    p = _random_rows(rng, (n_arms, n_actions, n_states, n_states), concentration)
    r = rng.uniform(0.0, 1.0, (n_arms, n_states, n_actions))
    return MDPArms(p, r, np.arange(n_actions, dtype=float))


def random_pomdp_arms(n_arms: int, n_states: int, n_actions: int = 2, n_obs: int = 2, *,
                      concentration: float = 1.0, seed=None) -> POMDPArms:
    """Random partially observable arms: Dirichlet rows for transitions and signals, rewards
    ``U[0, 1]``, costs ``0, 1, ..., n_actions - 1``."""
    owner = "random_pomdp_arms"
    n_arms, n_states, n_actions, concentration = _check_sizes(owner, n_arms, n_states,
                                                              n_actions, concentration)
    n_obs = check_number(owner, "n_obs", n_obs, low=1, integer=True)
    rng = as_generator(seed, f"{owner}.seed")
    p = _random_rows(rng, (n_arms, n_actions, n_states, n_states), concentration)
    o = _random_rows(rng, (n_arms, n_actions, n_states, n_obs), concentration)
    r = rng.uniform(0.0, 1.0, (n_arms, n_states, n_actions))
    return POMDPArms(p, o, r, np.arange(n_actions, dtype=float))


def collapsing_arms(n_arms: int, n_states: int = 2, *, concentration: float = 1.0,
                    seed=None) -> POMDPArms:
    """Collapsing arms (Mate et al. 2020): binary action; acting reveals the arm's (next)
    state, resting gives an uninformative signal.

    Signals ``0..n_states-1`` name the state; signal ``n_states`` is "nothing seen".
    Rewards are ``s / (n_states - 1)`` (higher states are better), costs ``(0, 1)``.
    """
    owner = "collapsing_arms"
    n_arms, n_states, _, concentration = _check_sizes(owner, n_arms, n_states, 2, concentration,
                                                      min_states=2)
    rng = as_generator(seed, f"{owner}.seed")
    p = _random_rows(rng, (n_arms, 2, n_states, n_states), concentration)
    o = np.zeros((n_arms, 2, n_states, n_states + 1))
    o[:, 0, :, n_states] = 1.0
    o[:, 1, :, :n_states] = np.eye(n_states)
    r = np.broadcast_to(np.arange(n_states, dtype=float) / (n_states - 1), (n_arms, n_states))
    return POMDPArms(p, o, r, np.array([0.0, 1.0]))


def random_instance(n_arms: int, n_states: int = 2, n_actions: int = 2, n_obs: int | None = 2, *,
                    budget: float | None = None, discount: float = 0.95,
                    horizon: int | None = None, seed=None) -> Instance:
    """Random instance: POMDP arms (``n_obs`` signals) or MDP arms (``n_obs=None``).

    ``budget`` defaults to ``budget_from_fraction(0.2, n_arms)``. The initial belief is uniform.
    """
    rng, seed_label = _seeded(seed, "random_instance")
    if n_obs is None:
        arms = random_mdp_arms(n_arms, n_states, n_actions, seed=rng)
    else:
        arms = random_pomdp_arms(n_arms, n_states, n_actions, n_obs, seed=rng)
    if budget is None:
        budget = budget_from_fraction(0.2, arms.n_arms)
    return Instance(arms, budget, discount=discount, horizon=horizon, name=f"random-{n_arms}",
                    metadata={"generator": "random_instance",
                              "params": {"n_arms": arms.n_arms, "n_states": arms.n_states,
                                         "n_actions": arms.n_actions,
                                         "n_obs": None if n_obs is None else arms.n_obs},
                              "seed": seed_label})
