"""``rmab estimate``: arms estimated from a CSV log, saved as an instance file.

The log has one row per arm and period, in time order (or ``--order-by`` a date column):
``arm_id, state, action, next_state`` (``--columns`` maps your names; other columns ignored).
Each row of transition probabilities is the posterior mean under a prior (``--prior``,
``--strength``: :func:`rmab.models.estimate_probabilities`), so an (arm, action, state) never
logged takes the population's behaviour. With ``--hidden`` the log is ``arm_id, action,
signal`` (the state never seen) and the arms are fitted by EM
(:func:`rmab.models.estimate_hidden_arms`). The instance's ``metadata['arm_ids']`` lists the
arms in ``model_arm`` order; ``--batch`` also writes next period's batch CSV (each arm in its
last logged state, or its belief) for ``rmab solve`` (docs/csv.md), in the log's batches with
their budgets where it has ``batch_id`` and ``budget`` columns."""

from __future__ import annotations

import csv
import os
import sys
import warnings

import numpy as np

from rmab._reporting import count_noun
from rmab._validation import (check_discount, check_number, check_stochastic, comma_hint,
                              decimal_float)
from rmab.commands import check_suffix, integer_arg, number_arg, seed_arg
from rmab.errors import BatchInputError, InvalidParameterError, RmabWarning
from rmab.models.estimate import _PRIORS


def add_arguments(parser) -> None:
    parser.add_argument("log", metavar="LOG", help="CSV log: arm_id, state, action, next_state "
                        "(with --hidden: arm_id, action, signal); batch_id and budget, if "
                        "given, reach --batch")
    parser.add_argument("--hidden", action="store_true",
                        help="the state is never seen: the log gives each period's action and "
                             "the signal after it (empty: none; '?': not known), and the arms "
                             "are fitted by EM")
    parser.add_argument("--signal-names", metavar="NAMES", default=None,
                        help="with --hidden: a name for each signal, ';'-separated, e.g. 'no "
                             "answer;answered' (default: signals 0, 1, ... up to the largest "
                             "logged, at least 2)")
    parser.add_argument("--known-signals", metavar="ROWS", default=None,
                        help="with --hidden: the signal model if you know it, held fixed: "
                             "one row per state (in the order of --rewards) of each signal's "
                             "probability, ';' between rows, ',' within, e.g. '0.85,0.15;"
                             "0.2,0.8' (after each action the log shows a signal for)")
    parser.add_argument("--signal-strength", type=number_arg, default=None, metavar="W",
                        help="with --hidden: pseudo-observations added to each signal row, "
                             "spread evenly over the signals (W/n_obs each), so that a signal "
                             "no record shows after an action stays possible (default 0: it "
                             "gets probability 0); not with --known-signals")
    parser.add_argument("--rewards", required=True, metavar="R",
                        help="reward of each state, ';'-separated (their number is the number "
                             "of states), e.g. '0;1' for not engaged / engaged")
    parser.add_argument("--costs", metavar="C", default=None,
                        help="cost of each action, ';'-separated, the first 0 (default 0;1;... "
                             "up to the largest action logged)")
    parser.add_argument("--action-names", metavar="NAMES", default=None,
                        help="a name for each action, ';'-separated, e.g. 'none;call': the log "
                             "may write an action by its name, and rmab solve writes them in "
                             "its action_name column")
    parser.add_argument("--state-names", metavar="NAMES", default=None,
                        help="a name for each state, ';'-separated, e.g. 'not engaged;engaged':"
                             " the log may write a state by its name")
    parser.add_argument("--columns", metavar="MAP", default=None,
                        help="your log's column for each name that differs, ';'-separated, "
                             "e.g. 'arm_id=beneficiary;action=called'")
    parser.add_argument("--order-by", metavar="COLUMN", default=None,
                        help="a column of numbers or ISO dates (2026-12-05) putting the records"
                             " in time order (default: the file's order, oldest first)")
    parser.add_argument("--skip-incomplete", action="store_true",
                        help="leave out, with a warning naming their lines, the rows with an "
                             "empty state, action or next_state cell (a missed follow-up) "
                             "rather than stop at the first (not with --hidden, where an empty "
                             "signal is no signal)")
    parser.add_argument("--prior", choices=_PRIORS, default=None,
                        help="rows shrunk towards: all arms' frequencies (pooled, default) or "
                             "1/n_states (uniform; not with --hidden)")
    parser.add_argument("--strength", type=_strength_arg, default=1.0,
                        help="pseudo-observations of the prior per row (default 1; 0: the "
                             "observed frequencies, which needs data in every row; with "
                             "--hidden > 0, or inf for one model shared by all arms; auto: "
                             "the best held-out likelihood of 0.3, 1, 3, ... 100 (and inf "
                             "with --hidden), each arm's last quarter of records held out)")
    parser.add_argument("--max-iter", type=integer_arg, default=None,
                        help="with --hidden: EM iterations per stage at most (default 1000)")
    parser.add_argument("--seed", type=seed_arg, default=None,
                        help="with --hidden: the seed of EM's random starts (default 0)")
    parser.add_argument("--budget", type=number_arg, default=None,
                        help="budget per period (default 10 %% of the arms, rounded half up); "
                             "with a batch_id column in the log, each batch's (default 10 %% "
                             "of its arms); not with a budget column")
    parser.add_argument("--discount", type=number_arg, default=0.95,
                        help="discount (default 0.95)")
    parser.add_argument("--out", "-o", required=True, help="output instance .npz")
    parser.add_argument("--batch", metavar="CSV", default=None,
                        help="also write next period's batch CSV: every arm in its last "
                             "logged state (with --hidden: its belief), naming the instance "
                             "file")
    parser.add_argument("--batch-id", default=None,
                        help="the batch's id (default 'next'; not with a batch_id column in "
                             "the log, which gives each arm's)")


def _strength_arg(text: str):
    """argparse type of ``--strength``: a number, or ``auto``."""
    return "auto" if text.strip() == "auto" else number_arg(text)


def _numbers(flag: str, text: str) -> np.ndarray:
    try:
        values = np.array([decimal_float(x.strip()) for x in text.split(";")])
    except ValueError:
        raise InvalidParameterError(f"estimate.{flag}: must be numbers separated by ';'; got "
                                    f"{text!r}{comma_hint(text, listed=True)}") from None
    if not np.isfinite(values).all():
        raise InvalidParameterError(f"estimate.{flag}: must be finite; got {text!r}")
    return values


def _names(flag: str, text, count: int | None = None, of: str = "") -> tuple | None:
    """';'-separated labels, ``count`` of them where given (one per entry of ``of``)."""
    from rmab.io.logs import check_names

    if text is None:
        return None
    names = check_names("estimate", flag, text.split(";"))
    if count is not None and len(names) != count:
        raise InvalidParameterError(f"estimate.{flag}: must be one name per entry of {of}, "
                                    f"{count}; got {len(names)} in {text!r}")
    return names


def _columns(text, fields: tuple) -> dict | None:
    """``'arm_id=beneficiary;action=called'`` as a dict, its keys checked."""
    from rmab.io.logs import check_columns

    if text is None:
        return None
    pairs = [part.partition("=") for part in text.split(";") if part.strip()]
    keys = [key.strip() for key, _, _ in pairs]
    if not pairs or any(not eq or not key for (_, eq, _), key in zip(pairs, keys)) or \
            len(set(keys)) < len(keys):
        raise InvalidParameterError(f"estimate.columns: must be name=column pairs separated by "
                                    f"';', each name once, e.g. "
                                    f"'arm_id=beneficiary;action=called'; got {text!r}")
    return check_columns("estimate", {key: value for key, (_, _, value) in zip(keys, pairs)},
                         fields)


def run(args) -> int:
    from rmab.io.logs import (BATCH_COLUMNS, LOG_COLUMNS, SIGNAL_LOG_COLUMNS, read_signal_log,
                              read_transition_log)
    from rmab.io.reader import _id_text
    from rmab.models import Instance, budget_from_fraction, save_instance
    from rmab.models.storage import check_writable

    check_suffix("estimate.out", args.out, ".npz")
    check_writable(args.out, [args.log], owner="estimate.out")
    if args.batch is not None:
        check_suffix("estimate.batch", args.batch, ".csv")
        check_writable(args.batch, [args.log, args.out], owner="estimate.batch")
        if args.batch_id is not None and _id_text(args.batch_id) is None:   # before the
            # instance file is written
            raise InvalidParameterError(f"estimate.batch_id: must be a name without blanks at "
                                        f"either end; got {args.batch_id!r}")
    rewards = _numbers("rewards", args.rewards)
    if len(rewards) < 2:
        raise InvalidParameterError(f"estimate.rewards: must give one reward per state, at "
                                    f"least 2; got {args.rewards!r}")
    strength = _strength(args)
    if args.budget is not None:                   # named by the flag, not as Instance.budget
        check_number("estimate", "budget", args.budget, low=0.0)
    check_discount("estimate", args.discount)
    state_names = _names("state_names", args.state_names, len(rewards), "--rewards")
    names = _names("action_names", args.action_names)
    if args.costs is not None and names is not None and len(names) != len(_numbers(
            "costs", args.costs)):
        raise InvalidParameterError(f"estimate.action_names: must be one name per action of "
                                    f"--costs; got {args.action_names!r}")
    if args.hidden:
        log = read_signal_log(args.log, columns=_columns(args.columns,
                                                         SIGNAL_LOG_COLUMNS + BATCH_COLUMNS),
                              order_by=args.order_by, action_names=names,
                              signal_names=_names("signal_names", args.signal_names))
    else:
        log = read_transition_log(args.log, columns=_columns(args.columns,
                                                             LOG_COLUMNS + BATCH_COLUMNS),
                                  order_by=args.order_by, state_names=state_names,
                                  action_names=names, skip_incomplete=args.skip_incomplete)
    n_actions = max(2, int(log.actions.max()) + 1)
    if args.costs is None and names is None:       # a typo'd action: 20 001 actions
        _refuse_a_gap(log, log.actions, "action", "takes action", "--costs to set the actions")
    costs = (_numbers("costs", args.costs) if args.costs is not None else
             np.arange(float(n_actions if names is None else len(names))))
    batches, budgets = _batches(args, log, budget_from_fraction)    # its flags refused first
    fit = _fit_hidden if args.hidden else _fit_counts
    arms, beliefs, params, summary = fit(args, log, rewards, costs, strength)
    n = len(log.arm_ids)
    budget = float(sum(budgets.values()))              # all the batches' arms as one decision
    instance = Instance(arms, budget, discount=args.discount, name=f"estimate-{n}",
                        initial_belief=beliefs,
                        metadata={"generator": "estimate", "arm_ids": list(log.arm_ids),
                                  "params": {"log": os.path.basename(args.log), **params,
                                             "records": int(len(log.arm_index))},
                                  **({} if names is None else {"actions": list(names)})})
    path = save_instance(instance, args.out)
    print(f"wrote {path}: {count_noun(n, 'arm')} from {count_noun(len(log.arm_index), 'record')}, "
          f"{count_noun(len(rewards), 'state')}, {count_noun(len(costs), 'action')}, budget "
          f"{budget:g}; {summary}", file=sys.stderr)
    if args.batch is not None:
        if not args.hidden:
            _warn_of_breaks(log, args.order_by)
        _write_batch(args, log, batches, budgets, path, beliefs)
    return 0


def _batches(args, log, budget_from_fraction) -> tuple:
    """Each arm's batch, and each batch's budget (a dict in order of first appearance): the
    log's ``batch_id`` and ``budget`` columns, else one batch (``--batch-id``) and
    ``--budget`` (default 10 % of the batch's arms)."""
    if log.arm_batches is not None and args.batch_id is not None:
        raise InvalidParameterError(f"estimate.batch_id: not with the log's batch_id column "
                                    f"{log.columns.get('batch_id', 'batch_id')!r}, which "
                                    f"gives each arm's batch; got {args.batch_id!r}")
    if log.arm_budgets is not None and args.budget is not None:
        raise InvalidParameterError(f"estimate.budget: not with the log's budget column "
                                    f"{log.columns.get('budget', 'budget')!r}, which gives "
                                    f"each batch's budget; got {args.budget:g}")
    batches = (log.arm_batches.tolist() if log.arm_batches is not None else
               [args.batch_id or "next"] * len(log.arm_ids))
    if log.arm_budgets is not None:
        return batches, dict(zip(batches, log.arm_budgets.tolist()))
    sizes = dict.fromkeys(batches, 0)
    for batch in batches:
        sizes[batch] += 1
    return batches, {b: budget_from_fraction(0.1, size) if args.budget is None else
                     args.budget for b, size in sizes.items()}


def _strength(args) -> float | str:
    """``--strength`` checked (a number, or ``auto``), and the options of the other kind of log
    refused."""
    auto = args.strength == "auto"
    if not args.hidden:
        for flag in ("signal_names", "known_signals", "signal_strength", "max_iter", "seed"):
            if getattr(args, flag) is not None:
                raise InvalidParameterError(f"estimate.{flag}: is for a signal log (--hidden)")
        return "auto" if auto else check_number("estimate", "strength", args.strength, low=0.0)
    for flag, value, why in (("prior", args.prior, "the prior is the pooled model's"),
                             ("state_names", args.state_names,
                              "a signal log has no state column"),
                             ("skip_incomplete", args.skip_incomplete or None,
                              "an empty signal cell is no signal")):
        if value is not None:
            raise InvalidParameterError(f"estimate.{flag}: not with --hidden ({why})")
    if args.max_iter is not None:
        check_number("estimate", "max_iter", args.max_iter, low=1, integer=True)
    if args.signal_strength is not None:
        check_number("estimate", "signal_strength", args.signal_strength, low=0.0)
        if args.known_signals is not None:
            raise InvalidParameterError("estimate.signal_strength: not with --known-signals (the "
                                        "signal model is then yours, held fixed: give it every "
                                        "entry > 0 instead)")
    if auto or args.strength == np.inf:
        return args.strength
    if check_number("estimate", "strength", args.strength, low=0.0) == 0.0:
        raise InvalidParameterError("estimate.strength: must be > 0 with --hidden (one arm's "
                                    "log alone cannot fill every row), or inf for one model "
                                    "shared by all arms; got 0")
    return args.strength


def _fit_counts(args, log, rewards, costs, strength) -> tuple:
    """Arms from a transition log's counts: (arms, None, params, summary)."""
    from rmab.models import MDPArms
    from rmab.models.estimate import estimate_probabilities

    from rmab.models.estimate import score_strengths

    prior = args.prior or "pooled"
    counts = log.counts(len(rewards), len(costs))
    if strength == "auto":
        strength = _best(_scores(score_strengths, log.arm_index, log.states, log.actions,
                                 log.next_states, n_arms=len(log.arm_ids),
                                 n_states=len(rewards), n_actions=len(costs), prior=prior))
    empty = np.argwhere(counts.sum(axis=-1) == 0)
    if strength == 0 and len(empty):              # by the arm's id, not its index
        arm, action, state = (int(i) for i in empty[0])
        raise InvalidParameterError(f"estimate.strength: 0 needs data for every arm, action "
                                    f"and state; arm {log.arm_ids[arm]!r} has no record of "
                                    f"action {action} in state {state} ({len(empty)} such rows):"
                                    f" use --strength > 0 to fill them from the prior")
    transitions = estimate_probabilities(counts, prior=prior, strength=strength)
    n = len(log.arm_ids)
    arms = MDPArms(transitions, np.repeat(rewards[None, :, None], len(costs), axis=2)
                   .repeat(n, axis=0), costs=costs)
    never = np.flatnonzero(counts.sum(axis=(0, 2, 3)) == 0)
    if len(never):              # every arm's rows of it are the prior's (uniform: no data)
        warnings.warn(f"estimate.costs: no record takes action{'s' * (len(never) > 1)} "
                      f"{', '.join(map(str, never))}; its rows are the prior's, uniform "
                      f"(no arm has data to pool)", RmabWarning, stacklevel=3)
    _warn_of_unseen(args, transitions, prior, strength)
    return arms, None, {"prior": prior, "strength": strength}, (
        f"{len(empty)} of {counts[..., 0].size} (arm, action, state) rows without data took "
        f"the {prior} prior")


def _warn_of_unseen(args, transitions: np.ndarray, prior: str, strength: float) -> None:
    """Warn of the transitions of probability 0 for every arm: no record shows them and the
    prior gives them no weight (the pooled prior's to a transition no arm made; strength 0's),
    so that ``rmab update`` refuses them as impossible should they happen."""
    zero = np.argwhere((transitions == 0).all(axis=0))           # (action, state, next)
    if not len(zero):
        return
    states = _names("state_names", args.state_names) or ()
    actions = _names("action_names", args.action_names) or ()

    def named(k: int, names: tuple) -> str:
        return f"{k} ({names[k]!r})" if k < len(names) else f"{k}"

    a, s, s2 = (int(i) for i in zero[0])
    more = " and --strength > 0" if strength == 0 else ""
    warnings.warn(f"estimate.prior: {len(zero)} of {transitions[0].size} (action, state, "
                  f"next_state) transitions have probability 0 for every arm: no record shows "
                  f"them and the {prior} prior (strength {strength:g}) gives them no weight "
                  f"(first: state {named(s, states)} to {named(s2, states)} under action "
                  f"{named(a, actions)}); should one happen, rmab update refuses it as "
                  f"impossible. If it can happen, give every transition a little weight with "
                  f"--prior uniform{more} (strength/n_states pseudo-observations each)",
                  RmabWarning, stacklevel=4)


def _fit_hidden(args, log, rewards, costs, strength) -> tuple:
    """Arms fitted to a signal log by EM: (arms, each arm's belief now, params, summary)."""
    from rmab.models.hidden import estimate_hidden_arms, score_hidden_strengths

    signal_names = _names("signal_names", args.signal_names)
    if signal_names is not None and len(signal_names) < 2:     # one signal tells nothing
        raise InvalidParameterError(f"estimate.signal_names: must give a name per signal, at "
                                    f"least 2; got {args.signal_names!r}")
    if signal_names is None:                   # a typo'd 10000 for 1: 10 001 signals, GBs
        _refuse_a_gap(log, log.signals, "signal", "gives signal",
                      "--signal-names to set the signals")
    n_obs = len(signal_names) if signal_names else max(2, int(log.signals.max()) + 1)
    log.check_sizes(len(costs), n_obs)
    seed = 0 if args.seed is None else args.seed
    weight = args.signal_strength or 0.0
    options = dict(n_arms=len(log.arm_ids), n_states=len(rewards), n_actions=len(costs),
                   n_obs=n_obs, seed=seed,
                   **({"signal_strength": weight} if weight else {}),
                   **({} if args.max_iter is None else {"max_iter": args.max_iter}),
                   **_known_signals(args.known_signals, log, len(rewards), n_obs, len(costs)))
    if strength == "auto":
        strength = _best(_scores(score_hidden_strengths, log.arm_index, log.actions,
                                 log.signals, **options), hidden=True)
    est = estimate_hidden_arms(log.arm_index, log.actions, log.signals, strength=strength,
                               **options)
    never = np.flatnonzero(np.bincount(log.actions, minlength=len(costs)) == 0)
    if len(never):                  # as from a transition log: a planner may pick it blind
        warnings.warn(f"estimate.costs: no record takes action{'s' * (len(never) > 1)} "
                      f"{', '.join(map(str, never))}; its transition and signal rows are "
                      f"uniform (no arm has data)", RmabWarning, stacklevel=3)
    if args.known_signals is None:
        _warn_of_unheard(args, est.observations[0], signal_names)
    iterations = len(est.history_pooled) + len(est.history_arms)
    params = {"hidden": True, "seed": seed, "log_likelihood": est.log_likelihood,
              "converged": est.converged,
              **({} if args.known_signals is not None else {"signal_strength": weight}),
              **({} if signal_names is None else {"signals": list(signal_names)}),
              "strength": strength if np.isfinite(strength) else "inf"}   # JSON has no inf
    return (est.arms(rewards, costs), est.beliefs, params,
            f"{count_noun(n_obs, 'signal')}, log-likelihood {est.log_likelihood:.6g} after "
            f"{iterations} EM iterations{'' if est.converged else ' (not converged)'}")


def _warn_of_unheard(args, observations: np.ndarray, signal_names) -> None:
    """Warn of the (action, signal) pairs of probability 0 in every state, for every arm: no
    record shows the signal after the action (the maximum likelihood's 0, at
    ``--signal-strength 0``), so that ``rmab update`` refuses it as impossible."""
    zero = np.argwhere((observations == 0).all(axis=1))           # (action, signal)
    if not len(zero):
        return
    actions = _names("action_names", args.action_names) or ()

    def named(k: int, names) -> str:
        return f"{k} ({names[k]!r})" if k < len(names or ()) else f"{k}"

    a, o = (int(i) for i in zero[0])
    pairs = observations.shape[0] * observations.shape[2]
    warnings.warn(f"estimate.signal_strength: {len(zero)} of {pairs} (action, signal) pairs "
                  f"have probability 0 in every state, for every arm: no record shows them and the "
                  f"signal model (--signal-strength 0) gives them no weight (first: signal "
                  f"{named(o, signal_names)} after action {named(a, actions)}); should one "
                  f"happen, rmab update refuses it as impossible. If it can happen, give every "
                  f"signal a little weight with --signal-strength 1 (1/n_obs pseudo-observations "
                  f"each), or hold a signal model you know, every entry > 0, with "
                  f"--known-signals", RmabWarning, stacklevel=4)


def _known_signals(text, log, n_states: int, n_obs: int, n_actions: int) -> dict:
    """``--known-signals`` as ``estimate_hidden_arms``' fixed ``observations``: the rows for
    each action the log shows a signal after, uniform rows for the others."""
    if text is None:
        return {}
    try:
        rows = np.array([[decimal_float(x.strip()) for x in row.split(",")]
                         for row in text.split(";")])
    except ValueError:
        rows = None                                  # ragged or not numbers
    if rows is None or rows.shape != (n_states, n_obs) or not np.isfinite(rows).all():
        raise InvalidParameterError(f"estimate.known_signals: must be {n_states} rows (one per "
                                    f"state of --rewards) of {n_obs} probabilities (one per "
                                    f"signal), ';' between rows and ',' within; got {text!r}")
    check_stochastic("estimate", "known_signals", rows, row_desc="state {0}",
                     error=InvalidParameterError)
    heard = np.bincount(log.actions[log.signals >= 0], minlength=n_actions) > 0
    return {"observations": np.where(heard[:, None, None], rows, 1.0 / n_obs),
            "fixed": ("observations",)}


def _refuse_a_gap(log, values, column: str, verb: str, remedy: str) -> None:
    """Refuse logged numbers 1, 2, ... that skip one (a typo such as 20000 for 1 would make
    that many actions or signals), naming the largest's line."""
    used = np.unique(values[values > 0])
    gaps = np.flatnonzero(used != np.arange(1, len(used) + 1))
    if len(gaps):
        top = int(np.argmax(values))
        raise BatchInputError(f"log.{column}: no record {verb} {int(gaps[0]) + 1}, below the "
                              f"largest logged, {int(values[top])} (a typo?): give {remedy}",
                              file=log.file, line=int(log.lines[top]),
                              column=log.columns.get(column, column))


def _scores(score, *args, **options) -> dict:
    """``score(*args, **options)`` (the held-out score of each strength); a log too short to
    hold any record out is said in the command's terms, not the function's."""
    try:
        return score(*args, **options)
    except InvalidParameterError as exc:
        if ".holdout: holds out no" not in str(exc):
            raise
        what = "signal" if "no signal" in str(exc) else "record"
        raise InvalidParameterError(
            f"estimate.strength: auto scores each strength on each arm's last quarter of its "
            f"records (rounded down), and this log leaves no {what} to score (an arm needs 4 "
            f"records); give --strength a number (default 1)") from exc


def _best(scores: dict, hidden: bool = False) -> float:
    """The strength of the best held-out score, the scores said on stderr."""
    best = max(scores, key=scores.get)
    if scores[best] == -np.inf:              # every strength alike: none is better
        raise InvalidParameterError(
            f"estimate.strength: auto: every strength gives a held-out record probability 0 (a "
            f"{'signal' if hidden else 'transition'} no arm's earlier records show), so none "
            f"scores better; give --strength a number, or "
            f"{'--signal-strength 1' if hidden else '--prior uniform'} to keep it possible")
    print("held-out log-likelihood per record (per signal with --hidden): " + ", ".join(
        f"{k:g}: {v:.5f}" for k, v in scores.items()) + f"; --strength auto took {best:g}",
        file=sys.stderr)
    return best


def _warn_of_breaks(log, order_by) -> None:
    """The batch's states are each arm's last record's next_state, the last in time order
    (``order_by``'s, or the file's): warn when records do not chain (a log not oldest first,
    with gaps or duplicated rows)."""
    breaks = log.breaks()
    if not len(breaks):
        return
    k = int(breaks[0])
    before = np.flatnonzero(log.arm_index[:k] == log.arm_index[k])[-1]
    order = ("; it reads as newest first" if len(breaks) > 2 * len(log.reversed().breaks())
             else "")
    warnings.warn(f"estimate.batch: {len(breaks)} of {len(log.arm_index)} records do not "
                  f"start in the state their arm's previous record "
                  f"reached (first: line {log.lines[k]}, arm {log.arm_ids[log.arm_index[k]]!r} "
                  f"in state {log.states[k]}, after next_state {log.next_states[before]} on "
                  f"line {log.lines[before]}){order}: each arm's batch state is its last "
                  f"record's next_state, so the log must be in time order, oldest first"
                  + (f" by {order_by!r}" if order_by else
                     " (or name its date column with --order-by)")
                  + "; gaps and duplicated rows also break the chain", RmabWarning,
                  stacklevel=2)


def _write_batch(args, log, batches, budgets: dict, model, beliefs) -> None:
    """Next period's batches: every arm in its batch (``batches``, each one's budget in
    ``budgets``), in its last logged state (or, from a signal log, its belief), naming the
    instance file by its path relative to the batch file's folder."""
    from rmab.models.storage import atomic_write

    relative = os.path.relpath(os.path.abspath(model),
                               os.path.dirname(os.path.abspath(args.batch)))
    now = (log.last_states() if beliefs is None else
           [";".join(f"{p:.12g}" for p in row) for row in beliefs])
    with atomic_write(args.batch, ".csv") as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(["batch_id", "arm_id", "budget",
                             "state" if beliefs is None else "belief", "model", "model_arm"])
            for k, (batch, arm, cell) in enumerate(zip(batches, log.arm_ids, now)):
                writer.writerow([batch, arm, f"{budgets[batch]:.12g}", cell, relative, k])
    state = "state" if beliefs is None else "belief"
    default = ("" if args.budget is not None or log.arm_budgets is not None else
               " (10 % of the arms: --budget sets it)" if log.arm_batches is None else
               " (10 % of each batch's arms: --budget or a budget column sets them)")
    if log.arm_batches is None:
        print(f"wrote {args.batch}: batch {batches[0]!r}, {count_noun(len(batches), 'arm')} "
              f"each in its last logged {state}, budget {budgets[batches[0]]:g}{default}; "
              f"edit its batch_id and budget cells to split it (or give the log batch_id and "
              f"budget columns)", file=sys.stderr)
        return
    sizes = dict(zip(*np.unique(np.asarray(batches, dtype=object), return_counts=True)))
    print(f"wrote {args.batch}: {count_noun(len(budgets), 'batch', 'batches')} of the log's "
          f"batch_id column: " + "; ".join(f"{b!r} {count_noun(int(sizes[b]), 'arm')}, "
                                          f"budget {v:g}" for b, v in budgets.items())
          + f"{default}; each arm in its last logged {state}", file=sys.stderr)
