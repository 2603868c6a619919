"""``rmab train``: train SEQUOIA's Q-network on a coRMAB domain (needs ``rmab[torch]``).

Writes to ``--out DIR``: ``domain.npz`` (the instance, for evaluation on the same arms),
``sequoia.pt`` (state dicts, read back with ``torch.load(..., weights_only=True)``) and
``sequoia.npz`` (the network as numpy weights, what :class:`SequoiaPlanner` loads). The summary
(argmax solves and, for the MIP, how many stopped at their time limit; cache hits, time) goes
to stdout, progress to stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rmab._reporting import count_noun
from rmab._validation import decimal_int
from rmab.commands import (domain_budget, integer_arg, named_by_flags, number_arg,
                           progress_arg, seed_arg, show_progress)
from rmab.errors import InvalidParameterError, OutputError

KINDS = ("capacity", "interventions", "scheduling", "path")


def _hidden(text: str) -> tuple:
    try:
        sizes = tuple(decimal_int(x) for x in text.split(","))   # "3,,4" is a typo, not [3, 4]
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"must be comma-separated positive widths; got {text!r}")
    return sizes


def add_arguments(parser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--domain", choices=KINDS, help="generate this domain (paper's generator)")
    source.add_argument("--domain-file", metavar="NPZ", help="a domain saved with save_domain")
    parser.add_argument("--arms", type=integer_arg, default=None,
                        help="arms (default 20; not with --domain-file)")
    parser.add_argument("--budget", type=integer_arg, default=None,
                        help="budget B (default 5; not with --domain-file)")
    parser.add_argument("--domain-seed", type=seed_arg, default=None,
                        help="seed of the domain generator (default: --seed)")
    parser.add_argument("--episodes", type=integer_arg, default=100,
                        help="DQN episodes (default 100)")
    parser.add_argument("--horizon", type=integer_arg, default=20,
                        help="episode length (default 20)")
    parser.add_argument("--hidden", type=_hidden, default=(32, 32),
                        help="hidden widths, comma-separated (default 32,32)")
    parser.add_argument("--target-update", type=integer_arg, default=50,
                        help="gradient steps between hard target updates (default 50)")
    parser.add_argument("--workers", type=integer_arg, default=0,
                        help="worker processes for target solves (default 0: in-process)")
    parser.add_argument("--argmax", choices=("auto", "mip", "brute"), default="auto",
                        help="argmax oracle: the MIP, enumeration of the feasible actions "
                             "(brute), or enumeration where at most 5 000 are listed (auto, "
                             "default: every domain at small J; at J = 20 path and multiple "
                             "interventions)")
    parser.add_argument("--time-limit", type=number_arg, default=None,
                        help="seconds per acting MIP solve (default 2; 0 = none; not with an "
                             "argmax that enumerates)")
    parser.add_argument("--target-time-limit", type=number_arg, default=None,
                        help="seconds per target MIP solve (default 0.5; 0 = none; not with an "
                             "argmax that enumerates)")
    parser.add_argument("--stability", type=number_arg, default=1.0,
                        help="weight of the ReLU-stability penalty that keeps the MIP argmax "
                             "fast (default 1; 0 = none)")
    parser.add_argument("--warm-start", choices=("lagrangian", "myopic"), default="lagrangian",
                        help="regression target before DQN: the Lagrangian bound on the action "
                             "value (default) or the one-step reward (the paper's)")
    parser.add_argument("--warm-start-samples", type=integer_arg, default=4000,
                        help="(state, time-to-go, action) samples of the warm-start "
                             "regression (default 4000; 0 = no warm start)")
    parser.add_argument("--warm-start-epochs", type=integer_arg, default=40,
                        help="passes over them (default 40)")
    parser.add_argument("--offset", choices=("lagrangian", "none"), default="lagrangian",
                        help="what the network learns: Q less the Lagrangian bound on the "
                             "state value (default) or Q itself (none, the paper's)")
    parser.add_argument("--control-variate", choices=("lagrangian", "none"),
                        default="lagrangian",
                        help="zero-mean Lagrangian correction of the Bellman targets' sampled "
                             "successor (default) or none (the plain target)")
    parser.add_argument("--validate-every", type=integer_arg, default=10,
                        help="episodes between validations of the greedy policy; the best "
                             "validated network is kept (default 10; 0 = keep the last)")
    parser.add_argument("--validation-episodes", type=integer_arg, default=None,
                        help="episodes of each validation (default 20; not with "
                             "--validate-every 0)")
    parser.add_argument("--restarts", type=integer_arg, default=1,
                        help="independent trainings scored on the same validation episodes; "
                             "the best validated network of all is kept (default 1)")
    parser.add_argument("--discount", type=number_arg, default=0.99,
                        help="discount of the Bellman targets (default 0.99, the paper's; 1 = "
                             "the undiscounted per-step mean that evaluation reports)")
    parser.add_argument("--p-high", type=number_arg, default=0.5,
                        help="probability of each arm starting in state 1 in training and "
                             "validation episodes (default 0.5, the paper's; evaluation uses 0.2)")
    parser.add_argument("--gain-table", choices=("none", "whittle", "both"), default="none",
                        help="per-arm gain table added to the network and warm-started at the "
                             "Whittle policy's gains (whittle), no table (none, default), or one "
                             "training of each per restart, the best validated kept (both)")
    parser.add_argument("--whittle", choices=("discounted", "finite"), default="discounted",
                        help="the Whittle gains the gain table starts at: the discounted "
                             "infinite-horizon indices (discounted, default) or the undiscounted "
                             "horizon's, one table per time-to-go (finite: the whittle-finite "
                             "policy)")
    parser.add_argument("--selection-episodes", type=integer_arg, default=0,
                        help="after training, score the 3 best validated networks again on so "
                             "many fresh episodes and keep the best there (default 0: keep the "
                             "validated best; see --selection-margin)")
    parser.add_argument("--selection-margin", type=number_arg, default=None,
                        help="with the Whittle gain table, its warm start (the Whittle policy) "
                             "is re-scored too and stays unless the best beats it by more than "
                             "so many paired standard errors (default 2; 0 = the best)")
    parser.add_argument("--training-jobs", type=integer_arg, default=None,
                        help="processes running the trainings (restarts x gain tables) side by "
                             "side, at most one per training; the result is the same (default "
                             "1: one after another)")
    parser.add_argument("--seed", type=seed_arg, default=0, help="training seed (default 0)")
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    progress_arg(parser)


OUTPUTS = ("sequoia.pt", "domain.npz", "sequoia.npz")


def _check_outputs(out: Path, inputs) -> None:
    """Refuse, before training, an output folder where the files cannot be written or that
    holds an input as one of them (the folders this makes are removed again: a run stopped
    before its first checkpoint leaves nothing behind)."""
    from rmab.models.storage import check_writable

    if out.exists() and not out.is_dir():
        raise OutputError(f"train.out: must be a folder; got the file {str(out)!r}")
    for name in OUTPUTS:
        check_writable(out / name, inputs, owner="train.out")


def _check_limits_apply(limits: dict, argmax: str, domain) -> None:
    """Refuse a time limit given for an argmax that enumerates (it would be ignored; 0, "none",
    is what enumeration does anyway)."""
    from rmab.planners.sequoia.argmax import AUTO_ENUMERATION

    limits = {flag: value for flag, value in limits.items() if value > 0}
    if not limits or argmax == "mip":
        return
    if argmax == "auto":
        listed = domain.feasible_actions(AUTO_ENUMERATION)
        if listed is None:
            return                                  # auto takes the MIP here
        how = (f"with --argmax auto the {len(listed)} feasible actions (<= "
               f"{AUTO_ENUMERATION}) are enumerated")
    else:
        how = "--argmax brute enumerates the feasible actions"
    flag, value = next(iter(limits.items()))
    raise InvalidParameterError(f"train.{flag}: not used: {how}, without MIP solves to limit; "
                                f"drop --{flag.replace('_', '-')} or pass --argmax mip; got "
                                f"--{flag.replace('_', '-')} {value}")


def _kept_and_gain(res) -> tuple[int, float]:
    """Index (into ``res.validated_at``) of the kept network's validation, and its validation
    reward minus that of its own training's warm start (training 1's made another training's
    Whittle start a DQN gain: a SEQUOIA review)."""
    import numpy as np

    mine = res.validated_restart == res.restart
    kept = int(np.flatnonzero((res.validated_at == res.best_episode) & mine)[0])
    own = int(np.flatnonzero((res.validated_at == 0) & mine)[0])
    return kept, float(res.validation_rewards[kept] - res.validation_rewards[own])


def _gain_text(res) -> str:
    """The kept network's validation reward against its warm start's, in words."""
    kept, gain = _kept_and_gain(res)
    if gain:
        return f"{gain:+.4f} over the warm start's"
    if not res.n_updates:
        return "the same as the warm start's (DQN made no gradient step)"
    if res.validated_at[kept] == 0:     # the warm start itself: later ones scored lower
        return "the same as the warm start's: it is the warm start (DQN did not improve on it)"
    return ("the same as the warm start's (DQN did not improve on it; of equal rewards the "
            "later network is kept)")


def _config(args, limits: dict):
    """The :class:`SequoiaConfig` of the flags (``limits``: the time limits given)."""
    from rmab.planners.sequoia.train import SequoiaConfig

    return SequoiaConfig(episodes=args.episodes, horizon=args.horizon, hidden=args.hidden,
                         target_update=args.target_update, workers=args.workers,
                         argmax=args.argmax,
                         time_limit=limits.get("time_limit",
                                               SequoiaConfig.time_limit) or None,
                         target_time_limit=limits.get("target_time_limit",
                                                      SequoiaConfig.target_time_limit) or None,
                         stability=args.stability, warm_start=args.warm_start,
                         warm_start_samples=args.warm_start_samples,
                         warm_start_epochs=args.warm_start_epochs,
                         offset=args.offset, control_variate=args.control_variate,
                         validate_every=args.validate_every,
                         validation_episodes=_given(args, "validation_episodes"),
                         discount=args.discount, restarts=args.restarts,
                         p_high=args.p_high, gain_table=args.gain_table,
                         whittle=args.whittle,
                         selection_episodes=args.selection_episodes,
                         selection_margin=args.selection_margin,
                         training_jobs=_given(args, "training_jobs"))


def _given(args, flag: str):
    """A flag whose default is the config's (``None`` when not given, so that a flag with no
    effect can be refused)."""
    from rmab.planners.sequoia.train import SequoiaConfig

    value = getattr(args, flag)
    return getattr(SequoiaConfig, flag) if value is None else value


def _check_used(args, config) -> None:
    """Refuse flags the configuration would ignore (a CLI review: --validation-episodes 5
    and 20 with --validate-every 0 wrote the same network)."""
    if args.validation_episodes is not None and config.validate_every == 0:
        raise InvalidParameterError(f"train.validation_episodes: not used with "
                                    f"--validate-every 0 (no validation); got "
                                    f"--validation-episodes {args.validation_episodes}")
    trainings = len(config.trainings)
    if args.training_jobs is not None and config.training_jobs > trainings:
        raise InvalidParameterError(
            f"train.training_jobs: runs at most one process per training (--restarts x gain "
            f"tables: {trainings} here); got --training-jobs {config.training_jobs}")


def run(args) -> int:
    import numpy as np

    from rmab.domains import load_domain, make_domain, save_domain
    from rmab.models.storage import atomic_write
    from rmab.planners.sequoia.train import SequoiaConfig, paired_difference, train_sequoia

    if not args.out.strip():      # Path("") is the current folder: files landed there unasked
        raise InvalidParameterError(f"train.out: must be a folder path; got {args.out!r}")
    limits = {f: getattr(args, f) for f in ("time_limit", "target_time_limit")
              if getattr(args, f) is not None}                 # given on the command line
    for flag, value in limits.items():                         # the flags take 0 for "none"
        if not value >= 0:
            raise InvalidParameterError(f"train.{flag}: must be >= 0 seconds (0 = none); got "
                                        f"{value}")
    if args.selection_margin is None:                 # not given: the config's default
        args.selection_margin = SequoiaConfig.selection_margin
    elif args.gain_table == "none" or args.selection_episodes == 0:
        raise InvalidParameterError("train.selection_margin: weighs the Whittle start against "
                                    "the re-scored networks, so it needs --gain-table whittle "
                                    "or both and --selection-episodes > 0; got "
                                    f"--gain-table {args.gain_table}, --selection-episodes "
                                    f"{args.selection_episodes}")
    if args.domain_file is not None:
        given = [f"--{n.replace('_', '-')}" for n in ("arms", "budget", "domain_seed")
                 if getattr(args, n) is not None]
        if given:
            raise InvalidParameterError(f"train.domain_file: the saved domain fixes its size "
                                        f"and arms; got {' and '.join(given)} too")
        domain = load_domain(args.domain_file)
    else:
        seed = args.seed if args.domain_seed is None else args.domain_seed
        domain = make_domain(args.domain, 20 if args.arms is None else args.arms,
                             domain_budget("train", args), seed=seed)
    _check_limits_apply(limits, args.argmax, domain)
    out = Path(args.out)
    with named_by_flags("train", ("SequoiaConfig",), {f: f for f in vars(args)}):
        config = _config(args, limits)
        _check_used(args, config)
        _check_outputs(out, [args.domain_file] if args.domain_file else [])
        res = train_sequoia(domain, config, seed=args.seed, progress=show_progress(args),
                            checkpoint=out / "sequoia.pt")
    out.mkdir(parents=True, exist_ok=True)
    save_domain(domain, out / "domain.npz")
    with atomic_write(out / "sequoia.npz", ".npz") as tmp, open(tmp, "wb") as fh:
        res.network.save(fh)                # with its training record (network.meta)
    trainings = len(config.trainings)
    rewards = res.episode_rewards.reshape(trainings, -1)      # (trainings, episodes)
    k = min(10, rewards.shape[1])
    print(f"domain {domain.kind}: {count_noun(domain.n_arms, 'arm')}, budget {domain.budget}, "
          f"action size {domain.action_size}; network {list(res.network.hidden_sizes)}")
    periods = getattr(res.network, "n_periods", None)
    if periods is not None:
        print(f"gain table: one per period of horizon {periods}; plan with that horizon "
              f"('rmab compare --horizon {periods}')")
    if not rewards.size:
        print("episodes 0: the network is the warm start (no DQN episode)")
    elif trainings == 1:
        print(f"episodes {config.episodes}; mean per-step reward of the last "
              f"{count_noun(k, 'episode')} {rewards[0, -k:].mean():.4f}")
    else:
        lasts = ", ".join(f"{x:.4f}" for x in rewards[:, -k:].mean(axis=1))
        print(f"episodes {config.episodes} in each of {trainings} trainings; mean per-step "
              f"reward of the last {count_noun(k, 'episode')} of each: {lasts}")
    if res.validated_at.size:
        n = len(config.trainings)

        def which(i):
            return count_noun(res.validated_at[i], "episode") + (
                f" of training {res.validated_restart[i] + 1}/{n}"
                + ((" (finite-horizon Whittle gain table)" if config.whittle == "finite"
                    else " (Whittle gain table)")
                   if config.trainings[res.validated_restart[i]] else "")
                if n > 1 else "")

        kept, _ = _kept_and_gain(res)
        print(f"kept the network after {which(kept)}: validation reward "
              f"{res.validation_rewards[kept]:.4f} per step, {_gain_text(res)}")
        if res.selected.size:
            print(f"re-scored on {config.selection_episodes} fresh episodes: " + "; ".join(
                f"{which(i)} {r:.4f}" for i, r in zip(res.selected, res.selection_rewards)))
            per, start = res.selection_episode_rewards, res.whittle_start
            mean, se = (paired_difference(per[int(np.argmax(res.selection_rewards))],
                                          per[list(res.selected).index(start)])
                        if start >= 0 else (0.0, 0.0))
            if mean > 0:
                print(f"the best there is ahead of the Whittle start by {mean:.4f} ± {se:.4f} "
                      f"per step (paired; it replaces the start beyond "
                      f"{config.selection_margin:g} standard errors)")
    oracle = {"mip": "MIP", "brute": "enumeration"}[res.argmax]

    def solves(n: int, limited: int) -> str:     # enumeration has no time limit
        return f"{n}, {limited} at the time limit" if res.argmax == "mip" else f"{n}"

    print(f"{oracle} solves {res.n_action_solves + res.n_target_solves} (acting "
          f"{solves(res.n_action_solves, res.n_action_limited)}; targets "
          f"{solves(res.n_target_solves, res.n_target_limited)}); cache hits {res.cache_hits}; "
          f"gradient steps {res.n_updates}; hard target updates {res.n_target_updates}; time "
          f"{res.seconds:.1f} s")
    print(f"wrote {out / 'sequoia.pt'}, {out / 'sequoia.npz'}, {out / 'domain.npz'}")
    sys.stdout.flush()
    return 0
