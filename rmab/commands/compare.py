"""``rmab compare``: evaluate planners on one instance with common random numbers."""

from __future__ import annotations

import argparse

import os
import re
import sys
import warnings

from rmab._validation import check_number, decimal_int
from rmab.commands import (domain_budget, hint_numbers, integer_arg, number_arg, param_arg,
                           progress_arg, seed_arg, show_progress, split_top, typed_number)
from rmab.errors import (InvalidModelError, InvalidParameterError, MissingDependencyError,
                         RmabWarning, UnknownPlannerError)
from rmab.models import health_intervention, load_instance
from rmab.planners import available_planners, planner_names
from rmab.sim import compare
from rmab.sim.compare import params_label


# the paper's baselines and the strongest of ours (Whittle, discounted and over the
# evaluation's horizon, Lagrangian: docs/domains.md)
DOMAIN_DEFAULT = ("no-action", "random", "sampling", "myopic", "iterative-myopic", "whittle",
                  "whittle-finite", "lagrangian")


def default_planners() -> list[str]:
    """Every registered planner whose optional dependencies are installed, but rollout (about
    0.2 s a step on the bundled example: minutes for a default comparison; ask for it)."""
    return [s.name for s in available_planners() if s.available and s.name != "rollout"]


# flags of one source only (their defaults are applied where that source is read)
MODE_FLAGS = {"domain": ("arms", "budget", "seeds"),
              "health": ("budget_fraction", "n_states", "instance_seed")}


def _check_mode_flags(args) -> None:
    """Refuse a flag of another source (it would be ignored silently)."""
    for mode, flags in MODE_FLAGS.items():
        if getattr(args, mode) is None:
            for flag in flags:
                if getattr(args, flag) is not None:
                    option = "--" + flag.replace("_", "-")
                    raise InvalidParameterError(f"compare.{flag}: only with --{mode}; got "
                                                f"{option} {getattr(args, flag)}")


def add_arguments(parser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("instance", nargs="?", metavar="INSTANCE",
                        help="instance file (.npz written by 'rmab generate' / save_instance), "
                             "or a CSV of batches with --batch-id")
    parser.add_argument("--batch-id", metavar="ID", default=None,
                        help="with INSTANCE a CSV of batches (the file rmab solve reads): "
                             "compare on the batch of this id, its arms, budget, discount and "
                             "current beliefs")
    source.add_argument("--health", type=integer_arg, metavar="N",
                        help="generate a health-intervention instance with N arms instead")
    source.add_argument("--domain", choices=("interventions", "capacity", "scheduling", "path"),
                        help="compare the coRMAB domain planners on generated instances "
                             "(the paper's protocol: H = 20, Bernoulli(0.2) starts, RANDOM = 1)")
    source.add_argument("--domain-file", metavar="NPZ",
                        help="compare the domain planners on a saved coRMAB domain (e.g. the "
                             "domain.npz written by 'rmab train')")
    source.add_argument("--show", metavar="NPZ",
                        help="show a comparison saved with --save (its table, and --paired, "
                             "--out, --episodes-out, --plot) without running it again")
    parser.add_argument("--network", metavar="NPZ", default=None,
                        help="with --domain-file: add SEQUOIA and iterative DQN with this "
                             "trained network (the sequoia.npz written by 'rmab train'); "
                             "with --planners naming one of them, that one alone")
    parser.add_argument("--time-limit", type=number_arg, default=None,
                        help="with --domain or --domain-file: seconds per MIP solve of the "
                             "planners that make them (myopic, whittle, whittle-finite, "
                             "lagrangian, rollout, sequoia); a solve at the limit plays the "
                             "best of its action so far, doing nothing (where allowed) and 100 "
                             "random feasible actions, with a warning (default: none; 0 = "
                             "none, as in 'rmab train')")
    parser.add_argument("--backend", default=None,
                        help="with --domain or --domain-file: the MIP backend of the same "
                             "planners: highs (default), pyomo (its first available solver), "
                             "pyomo:SOLVER (e.g. pyomo:gurobi_persistent) or scipy; "
                             "docs/solvers.md")
    parser.add_argument("--bound", action="store_true",
                        help="with --domain or --domain-file: add the LP upper bound on any "
                             "policy's reward from the same starts (one LP per episode; "
                             "0.1-2 s each at J = 20)")
    parser.add_argument("--arms", type=integer_arg, default=None,
                        help="with --domain: arms (default 20)")
    parser.add_argument("--budget", type=integer_arg, default=None,
                        help="with --domain: budget B (default 5)")
    parser.add_argument("--seeds", default=None,
                        help="with --domain: comma-separated instance seeds (default 0,1,2)")
    parser.add_argument("--budget-fraction", type=number_arg, default=None,
                        help="with --health: budget as a fraction of N (default 0.1)")
    parser.add_argument("--n-states", type=integer_arg, choices=(2, 3), default=None,
                        help="with --health: 2 or 3 states (default 2)")
    parser.add_argument("--instance-seed", type=seed_arg, default=None,
                        help="with --health: seed of the generator (default 0)")
    parser.add_argument("--planners", default=None,
                        help="comma-separated planner names, each with optional "
                             "parameters as NAME(KEY=VALUE, ...), e.g. "
                             "'myopic,lagrangian(charge_now=true)' (default: every available "
                             "registered planner but rollout, which takes 30-50 ms a step, see "
                             "'rmab planners'; with --domain or "
                             "--domain-file: the domain planners " + ",".join(DOMAIN_DEFAULT)
                             + ", see docs/domains.md)")
    parser.add_argument("--episodes", type=integer_arg, default=None,
                        help="episodes (default 20; 50 with --domain or --domain-file)")
    parser.add_argument("--seed", type=seed_arg, default=None,
                        help="simulation seed (default 0; not with --domain, where each "
                             "instance seed s of --seeds seeds its evaluation, as "
                             "SeedSequence([s, 1]))")
    parser.add_argument("--n-jobs", type=integer_arg, default=None,
                        help="worker processes (default 1; not with --domain or --domain-file)")
    parser.add_argument("--horizon", type=integer_arg, default=None,
                        help="periods per episode (default: the instance's episode length; "
                             "with --network, the horizon it was trained for)")
    parser.add_argument("--paired", metavar="PLANNER", default=None,
                        help="also print every other planner's paired difference against "
                             "PLANNER (same episodes, so most noise cancels), with its CI and "
                             "whether it is resolved; a domain comparison over several seeds "
                             "adds the table over seeds (its CI counts the spread between "
                             "instances)")
    parser.add_argument("--out", metavar="CSV", default=None,
                        help="write the table as CSV (a path ending in .csv)")
    parser.add_argument("--episodes-out", metavar="CSV", default=None,
                        help="write every planner's score in every episode as CSV, one row "
                             "per planner and episode (a path ending in .csv)")
    parser.add_argument("--save", metavar="NPZ", default=None,
                        help="save the whole comparison, every episode included (.npz; "
                             "'rmab compare --show' and rmab.load_comparison read it)")
    parser.add_argument("--plot", metavar="IMAGE", default=None,
                        help="write a bar chart with confidence intervals, .png, .pdf or .svg "
                             "(needs rmab[plot])")
    progress_arg(parser)


def _names(text: str, field: str, what: str) -> list[str]:
    """Comma-separated ``what`` of ``--field``, none empty."""
    names = [p.strip() for p in text.split(",")]
    if not all(names):
        raise InvalidParameterError(f"compare.{field}: must be comma-separated {what} without "
                                    f"empty ones; got {text!r}")
    return names


def _planner_specs(text: str, field: str = "planners", typed: str | None = None) -> list:
    """``--planners``: comma-separated names, each with optional parameters in parentheses,
    ``lagrangian(charge_now=true, knapsack=greedy)`` (values as ``rmab solve --param``'s);
    a name alone stays a name, one with parameters becomes a ``(name, params)`` pair. Errors
    name ``compare.{field}`` and quote the whole as ``typed`` (default ``text``)."""
    typed = text if typed is None else typed
    parts = split_top(text)
    if parts is None:
        raise InvalidParameterError(f"compare.{field}: must have balanced brackets and "
                                    f"quotes; got {typed!r}")
    if not all(part.strip() for part in parts):
        raise InvalidParameterError(f"compare.{field}: must be comma-separated names without "
                                    f"empty ones; got {typed!r}")
    specs: list = []
    for part in parts:
        name, paren, rest = part.strip().partition("(")
        name = name.strip()
        inside = rest.rstrip()[:-1]
        # the brackets of 'a(x=1)(y=2)' balance, those inside its first pair do not
        items = split_top(inside) if inside.strip() else []
        if not name or (paren and (not rest.rstrip().endswith(")") or items is None)):
            raise InvalidParameterError(f"compare.{field}: must be comma-separated names, "
                                        f"each NAME or NAME(KEY=VALUE, ...); got {part.strip()!r}"
                                        f" in {typed!r}")
        if not paren:
            specs.append(name)
            continue
        params: dict = {}
        for item in items:
            try:
                key, value = param_arg(item)
            except argparse.ArgumentTypeError as exc:
                raise InvalidParameterError(f"compare.{field}: {name}'s parameter {exc}") \
                    from None
            if key in params:
                raise InvalidParameterError(f"compare.{field}: {name}'s parameters must give "
                                            f"each KEY once; got {key!r} twice")
            params[key] = value
        specs.append((name, params))
    return specs


def _label(spec) -> str:
    return spec if isinstance(spec, str) else params_label(*spec)


def _run_domain(args) -> int:
    from rmab.domains.evaluate import compare_domain

    text = "0,1,2" if args.seeds is None else args.seeds
    names = _names(text, "seeds", "integers")
    try:
        seeds = [decimal_int(s) for s in names]
    except ValueError:
        raise InvalidParameterError(f"compare.seeds: must be comma-separated integers; got "
                                    f"{args.seeds!r}") from None
    if args.seed is not None:
        raise InvalidParameterError(f"compare.seed: not with --domain, whose instance seeds "
                                    f"(--seeds) also seed the evaluation; got --seed {args.seed}")
    horizon = _horizon(args)
    specs = list(DOMAIN_DEFAULT) if args.planners is None else _planner_specs(args.planners)
    _check_domain_paired(args, specs)
    result = compare_domain(args.domain, n_arms=_count(args, "arms", 20),
                            budget=domain_budget("compare", args), seeds=seeds,
                            episodes=_count(args, "episodes", 50),
                            horizon=horizon, bound=args.bound,
                            planners=_domain_planners(specs, args, horizon),
                            progress=show_progress(args))
    return _report(result, args)


def _horizon(args) -> int:
    """``--horizon`` (default 20), checked before any planner is made for it."""
    return _count(args, "horizon", 20)


def _count(args, flag: str, default: int) -> int:
    """A count flag (``--episodes``, ``--arms``, ...), ``default`` if not given, checked here
    so that its error names the flag, not the generator or evaluation it would reach."""
    value = getattr(args, flag)
    return default if value is None else check_number("compare", flag, value, low=1,
                                                      integer=True)


def _run_domain_file(args) -> int:
    from rmab.domains import load_domain
    from rmab.domains.evaluate import evaluate_domain

    horizon, episodes = _horizon(args), _count(args, "episodes", 50)   # before the loading
    if args.horizon is None and args.network is not None:   # the time-to-go's scale
        from rmab.planners.sequoia.features import load_network, planning_horizon

        horizon = planning_horizon("compare", load_network("compare", args.network), None)
    domain = load_domain(args.domain_file)
    specs = list(DOMAIN_DEFAULT) if args.planners is None else _planner_specs(args.planners)
    network_planners = ("sequoia", "iterative-dqn")
    if args.network is not None and not set(network_planners) & set(map(_name, specs)):
        specs += list(network_planners)
    _check_domain_paired(args, specs)
    result = evaluate_domain(domain, _domain_planners(specs, args, horizon),
                             episodes=episodes,
                             horizon=horizon, seed=0 if args.seed is None else args.seed,
                             bound=args.bound, progress=show_progress(args))
    return _report(result, args)


def _name(spec) -> str:
    return spec if isinstance(spec, str) else spec[0]


def _check_domain_paired(args, specs) -> None:
    labels = [_label(s) for s in specs]
    _check_paired(args, labels + ["random"] * ("random" not in labels))   # always evaluated


def _domain_planners(specs: list, args, horizon: int) -> list:
    """The planners to evaluate: a name is made into a planner where it has parameters
    (``sampling(n_samples=50)``, labelled so), needs ``--network`` (SEQUOIA, iterative DQN)
    or takes ``--time-limit`` or ``--backend``; other names (unknown ones included) are left to
    :func:`evaluate_domain`. A parameter given in the name wins over the flag's."""
    import inspect

    from rmab.domains.baselines import DOMAIN_PLANNERS, make_domain_planner

    time_limit = None
    if args.time_limit is not None:
        time_limit = check_number("compare", "time_limit", args.time_limit, low=0.0) or None
    backend = getattr(args, "backend", None)
    backend = None if backend is None else _backend(backend)
    names = [_name(s) for s in specs]
    labels = [_label(s) for s in specs]
    twice = next((label for i, label in enumerate(labels) if label in labels[:i]), None)
    if twice is not None:                  # evaluate_domain's error named evaluate_domain
        raise InvalidParameterError(f"compare.planners: must name each domain planner once; "
                                    f"got {twice!r} twice")
    out, limited, solving = [], False, False
    for name, given in ((_name(s), {} if isinstance(s, str) else s[1]) for s in specs):
        spec = DOMAIN_PLANNERS.get(name)
        params = {}
        if spec is not None and spec.requires:
            if args.network is None and "network" not in given:
                need = ("--network sequoia.npz" if getattr(args, "domain_file", None) else
                        "--domain-file DOMAIN.npz --network sequoia.npz")
                raise InvalidParameterError(
                    f"compare.planners: {name!r} plays a trained network: give {need} (written "
                    f"by 'rmab train'), or {name}(network=FILE)")
            params["horizon"], params["network"] = horizon, args.network
        if spec is not None and spec.horizon:
            params["horizon"] = horizon
        takes = inspect.signature(spec.load()).parameters if spec is not None else {}
        if time_limit is not None and "time_limit" in takes:
            params["time_limit"], limited = time_limit, True
        if backend is not None and "backend" in takes:
            params["backend"], solving = backend, True
        if not given:
            out.append(make_domain_planner(name, **params) if params else name)
            continue
        try:
            planner = make_domain_planner(name, **{**params, **given})
        except InvalidParameterError as exc:
            hint_numbers(exc, given.values())
            raise InvalidParameterError(f"compare.planners: {name}'s parameters: {exc}") \
                from None
        # its own clock, compared once the planner has read it: horizon=04 is the text '04' (as
        # in 'rmab solve --param'), which the planner refuses, never a horizon to give
        own = getattr(planner, "horizon", None) if "horizon" in given else None
        if own not in (None, horizon):
            raise InvalidParameterError(f"compare.planners: {name}'s horizon= plans for {own} "
                                        f"periods; this comparison's horizon is {horizon}: give "
                                        f"--horizon {own}, or leave out {name}'s horizon=")
        planner.name = params_label(name, given)        # its row: sampling(n_samples=50)
        out.append(planner)
    if backend is not None and not solving:
        raise InvalidParameterError(f"compare.backend: none of the planners {names} makes "
                                    f"MIP solves (myopic, whittle, whittle-finite, lagrangian, "
                                    f"rollout and sequoia do); got --backend {args.backend}")
    if time_limit is not None and not limited:
        raise InvalidParameterError(f"compare.time_limit: none of the planners {names} makes "
                                    f"MIP solves (myopic, whittle, whittle-finite, lagrangian, "
                                    f"rollout and sequoia do); got --time-limit {args.time_limit}")
    return out


def _backend(name: str) -> str:
    """``--backend``, checked before any planner runs: a backend that is unknown or cannot run
    here is refused with the ones that can."""
    from solvers.backends import get_backend
    from solvers.errors import SolverError

    try:
        get_backend(name)
    except SolverError as exc:
        raise InvalidParameterError(str(exc).replace("solve.backend", "compare.backend", 1)
                                    ) from None
    return name


def _check_outputs(args) -> None:
    """Refuse, before the comparison runs, a --out or --plot that could not be written, would
    replace an input (instance, domain or network file), or whose suffix is not its content's
    (.csv; .png, .pdf or .svg)."""
    from rmab._reporting import plot_format
    from rmab.commands import check_suffix
    from rmab.models.storage import check_writable

    for flag, suffix in (("out", ".csv"), ("episodes_out", ".csv"), ("save", ".npz")):
        if getattr(args, flag) is not None:     # an empty --out "" wrote nothing, silently
            check_suffix(f"compare.{flag}", getattr(args, flag), suffix)
    if args.plot is not None:
        plot_format("compare.plot", args.plot)
    inputs = [p for p in (args.instance, args.domain_file, args.network, args.show) if p]
    outputs = {f: getattr(args, f) for f in ("out", "episodes_out", "save", "plot")
               if getattr(args, f) is not None}
    seen = {}
    for flag, path in outputs.items():
        check_writable(path, inputs, owner=f"compare.{flag}")
        other = seen.setdefault(os.path.realpath(path), flag)
        if other != flag:
            raise InvalidParameterError(f"compare.{flag}: must not be the file of --"
                                        f"{other.replace('_', '-')}; got {path!r}")
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise MissingDependencyError("compare.plot: needs matplotlib: pip install "
                                         "'rmab[plot]'") from None


def _check_paired(args, names) -> str | None:
    """--paired's row among those of ``names`` (a repeated name's rows are 'name #2', ...),
    None without --paired; refused before the run if it will have none. Errors quote --paired
    as typed (not as its row's label)."""
    from rmab.sim.compare import distinct_labels

    if args.paired is None:
        return None
    rows = distinct_labels(names)
    paired = args.paired if args.paired in rows else _paired_label(args.paired, rows)
    if paired not in rows:
        raise InvalidParameterError(f"compare.paired: must be one of the planners compared "
                                    f"{rows}; got {args.paired!r}{_paired_hint(args.paired, rows)}")
    if len(rows) < 2:       # it printed an empty table
        raise InvalidParameterError(f"compare.paired: needs another planner to pair with; got "
                                    f"--paired {args.paired} with the one planner {rows}")
    return paired


def _paired_hint(text: str, rows) -> str:
    """`` (horizon=04 is the text '04': a number? write 4)`` for each value of --paired's
    NAME(KEY=VALUE, ...) that :func:`typed_number` reads, where those numbers name a row."""
    try:
        spec, suffix = _spec_of(text, "paired")
    except InvalidParameterError:
        return ""
    if isinstance(spec, str):
        return ""
    name, params = spec
    numbers = {key: typed_number(value) for key, value in params.items()}
    fixed = {key: value if numbers[key] is None else numbers[key]
             for key, value in params.items()}
    if (_unordered((name, fixed)), suffix) not in map(_label_spec, rows):
        return ""
    return "".join(f" ({key}={params[key].strip()} is the text {params[key]!r}: a number? "
                   f"write {number})" for key, number in numbers.items() if number is not None)


def _paired_label(text: str, rows) -> str:
    """``--paired`` not a row's label as printed: NAME(KEY=VALUE, ...) as ``--planners`` gives
    it (``charge_now=true``), or its row's label (``charge_now=True``), the keys in any order,
    a repeat's ``' #2'`` kept: the label of the row among ``rows`` with that name and those
    parameters, else the label it would have; other text as it is."""
    if "(" not in text:
        return text
    read = _label_spec(text)        # as a label prints it: a quoted comma or bracket reads
    try:
        spec, suffix = _spec_of(text, "paired")
    except InvalidParameterError:
        if read is None:
            raise
        spec = suffix = None
    if spec is not None and (isinstance(spec, str) or _label(spec) + suffix in rows):
        return _label(spec) + suffix
    # the text in the --planners form (charge_now=true) or as a label (charge_now=True), and
    # the rows as labels: values read as --planners reads them, or as the Python literals a
    # label prints (ast.literal_eval: literals only, never code)
    wanted = {read, None if spec is None else (_unordered(spec), suffix)} - {None}  # unread
    for row in rows:
        if _label_spec(row) in wanted:
            return row
    return text if spec is None else _label(spec) + suffix


def _label_spec(label: str):
    """A row label ``NAME(KEY=VALUE, ...)`` (a repeat's ``' #2'`` kept aside) read back as
    ``(_unordered(spec), suffix)``, its values as Python literals (``inf``, ``-inf`` and ``nan``
    too, as a float's repr prints them); None if it does not read. The parentheses are read by
    Python's parser, never run: a string value may hold commas, brackets and quotes."""
    import ast

    base, suffix = _repeat(label)
    name, paren, rest = base.partition("(")
    if not paren:
        return _unordered(name.strip()), suffix
    source = "f(" + rest
    last = source.rsplit("\n", 1)[-1]
    try:
        call = ast.parse(source, mode="eval").body
        if (not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name) or call.args
                or any(k.arg is None for k in call.keywords)      # f(..)(..), f(1), f(**x)
                or len({k.arg for k in call.keywords}) < len(call.keywords)     # f(a=1, a=2)
                or (call.end_lineno, call.end_col_offset)         # 'f(x=1) # note'
                != (source.count("\n") + 1, len(last.encode("utf-8")))):
            return None
        params = {k.arg: _literal(k.value) for k in call.keywords}
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return _unordered((name.strip(), params)), suffix


def _literal(node):
    """The value of a parsed label value ``node``: a Python literal, or a non-finite float."""
    import ast

    try:
        return ast.literal_eval(node)
    except ValueError:
        text = ast.unparse(node)
        if text in ("inf", "-inf", "nan"):
            return float(text)
        raise


def _repeat(text: str) -> tuple[str, str]:
    """``text`` stripped, a repeat's ``' #2'`` kept aside: ``(base, suffix)``, in time linear in
    its length (a lazy regex's took quadratic time on a run of spaces: 30 s for 60,000)."""
    base = text.strip()
    repeat = re.search(r" #[0-9]+\Z", base)
    return (base, "") if repeat is None else (base[:repeat.start()].rstrip(), repeat.group())


def _spec_of(text: str, field: str) -> tuple:
    """One planner NAME or NAME(KEY=VALUE, ...), a repeat's ``' #2'`` aside: ``(spec,
    suffix)``, the spec as :func:`_planner_specs` gives it; errors quote ``text`` as typed."""
    base, suffix = _repeat(text)
    specs = _planner_specs(base, field, typed=text)
    if len(specs) != 1:
        raise InvalidParameterError(f"compare.{field}: must be one planner, NAME or "
                                    f"NAME(KEY=VALUE, ...); got {text!r}")
    return specs[0], suffix


def _unordered(spec) -> tuple:
    """A (name, params) pair's name and parameters, whatever their order."""
    return (spec, ()) if isinstance(spec, str) else \
        (spec[0], tuple(sorted((key, repr(value)) for key, value in spec[1].items())))


def _load_instance(path: str, batch: str | None):
    """The instance file at ``path``, or the instance of batch ``batch`` of the CSV of batches
    at ``path`` (a CSV without ``batch`` is refused with how to name one)."""
    import difflib

    from rmab.io import read_batches

    if not path.lower().endswith(".csv"):
        return load_instance(path)
    batches = {b.batch_id: b for b in read_batches(path)}
    if batch in batches:
        return batches[batch].instance
    ids = ", ".join(map(repr, list(batches)[:5])) + (", ..." if len(batches) > 5 else "")
    close = difflib.get_close_matches(batch or "", list(batches), n=1)
    raise InvalidParameterError(
        f"compare.batch_id: must name a batch of {path!r} to compare on (its arms, budget and "
        f"beliefs); got " + ("none (a CSV of batches is no instance file: give --batch-id ID)"
                             if batch is None else repr(batch))
        + (f" (did you mean {close[0]!r}?)" if close else "") + f"; its batches are {ids}")


def _report(result, args) -> int:
    """Write the files asked for (each atomically), then print the table and the paired
    differences (a failing stdout, e.g. a full disk or a closed pipe, then loses no file)."""
    paired = _check_paired(args, getattr(result, "names", None) or result.planners)
    for path, write in ((args.out, result.to_csv),
                        (args.episodes_out, lambda p: result.to_csv(p, per_episode=True)),
                        (args.save, result.save), (args.plot, result.plot)):
        if path:
            write(path)
            print(f"wrote {path}", file=sys.stderr)
    print(result.table())
    if paired is not None:
        print()
        print(result.paired_table(paired))
        if len(getattr(result, "seeds", ())) > 1:     # a domain comparison over instances
            print()
            print(result.paired_table(paired, over="seeds"))
    return 0


# the flags that run a comparison (the rest say what to show of one, or how)
RUN_FLAGS = ("time_limit", "backend", "bound", "arms", "budget", "seeds", "budget_fraction",
             "n_states", "instance_seed", "planners", "episodes", "seed", "n_jobs", "horizon",
             "network", "save", "batch_id")


def _show(args) -> int:
    from rmab.sim import load_comparison

    for flag in RUN_FLAGS:
        value = getattr(args, flag)
        if value is not None and value is not False:        # 0 is given too
            option = "--" + flag.replace("_", "-")
            raise InvalidParameterError(f"compare.{flag}: not with --show, which shows a "
                                        f"comparison already run; got {option}"
                                        + ("" if value is True else f" {value}"))
    return _report(load_comparison(args.show), args)


def run(args) -> int:
    _check_outputs(args)
    if args.show is not None:
        return _show(args)
    if args.batch_id is not None and not str(args.instance or "").lower().endswith(".csv"):
        raise InvalidParameterError(f"compare.batch_id: only with a CSV of batches as INSTANCE; "
                                    f"got --batch-id {args.batch_id}"
                                    + (f" with {args.instance!r}" if args.instance else ""))
    if args.backend is not None and not (args.domain or args.domain_file):
        raise InvalidParameterError(f"compare.backend: only with --domain or --domain-file (it "
                                    f"chooses the domain planners' MIP solver); got --backend "
                                    f"{args.backend}")
    if args.time_limit is not None and not (args.domain or args.domain_file):
        raise InvalidParameterError(f"compare.time_limit: only with --domain or --domain-file "
                                    f"(it limits the domain planners' MIP solves); got "
                                    f"--time-limit {args.time_limit}")
    _check_mode_flags(args)
    if args.n_jobs is not None and (args.domain or args.domain_file):
        raise InvalidParameterError(f"compare.n_jobs: not with --domain or --domain-file (the "
                                    f"domain evaluation runs in one process); got --n-jobs "
                                    f"{args.n_jobs}")
    if args.domain_file is not None:
        return _run_domain_file(args)
    if args.network is not None:  # a network is trained for one saved domain instance
        raise InvalidParameterError("compare.network: only with --domain-file (the domain the "
                                    f"network was trained on); got {args.network!r}")
    if args.domain is not None:
        return _run_domain(args)
    if args.bound:
        raise InvalidParameterError("compare.bound: only with --domain or --domain-file (for an "
                                    "instance, 'rmab bound' gives the Lagrangian bound)")
    if args.health is not None:
        instance = health_intervention(
            _count(args, "health", 1), n_states=2 if args.n_states is None else args.n_states,
            budget_fraction=0.1 if args.budget_fraction is None else args.budget_fraction,
            seed=0 if args.instance_seed is None else args.instance_seed)
    else:
        instance = _load_instance(args.instance, args.batch_id)
    planners = default_planners() if args.planners is None else _planner_specs(args.planners)
    paired = _check_paired(args, [_label(p) for p in planners])
    episodes = _count(args, "episodes", 20)
    while True:
        try:
            result = compare(instance, planners, episodes=episodes,
                             seed=0 if args.seed is None else args.seed,
                             n_jobs=1 if args.n_jobs is None else args.n_jobs,
                             horizon=args.horizon, progress=show_progress(args))
            return _report(result, args)
        except UnknownPlannerError as exc:
            from rmab.domains.baselines import DOMAIN_PLANNERS

            unknown = next((name for name in (p if isinstance(p, str) else p[0]
                                              for p in planners)
                            if name not in planner_names()), None)
            if unknown not in DOMAIN_PLANNERS:
                raise
            raise UnknownPlannerError(f"{exc}; {unknown!r} plans the coRMAB domains "
                                      f"('rmab compare --domain', 'rmab planners --domain')"
                                      ) from exc
        except (InvalidParameterError, InvalidModelError) as exc:
            name = getattr(exc, "planner", None)        # a default planner that does not apply
            if args.planners is not None or name not in planners:
                hint_numbers(exc, [v for p in planners if not isinstance(p, str)
                                   for v in p[1].values()])
                raise                                   # (e.g. no-action: min_active > 0)
            if name == paired:
                raise InvalidParameterError(f"compare.paired: {name!r} does not apply to this "
                                            f"instance ({getattr(exc, 'reason', exc)}); got "
                                            f"--paired {args.paired}") from exc
            warnings.warn(f"compare: leaving out {name!r}, which does not apply to this "
                          f"instance ({getattr(exc, 'reason', exc)})", RmabWarning)
            planners.remove(name)
