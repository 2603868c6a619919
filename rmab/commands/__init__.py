"""One module per ``rmab`` subcommand: ``add_arguments(parser)`` and ``run(args) -> int``;
the table of commands and their one-line help is ``rmab.cli.COMMANDS``."""

import contextlib

EXIT_SOME_FAILED = 3        # --keep-going: some batches failed, the others were written


def option(dest: str) -> str:
    """The flag of an argparse ``dest``: ``max_active`` is ``--max-active``."""
    return "--" + dest.replace("_", "-")


@contextlib.contextmanager
def named_by_flags(command: str, owners: tuple, fields: dict, words: tuple = ()):
    """Errors of a field of ``owners`` (``Instance.max_active: ...``) that a flag sets named
    by the command and the flag's dest (``generate.max_active: ...``; ``fields``: field ->
    dest), as the command's own errors are; the ``words`` (fields) in the message written as
    their flags (``lower min_active`` -> ``lower --min-active``). Others pass unchanged."""
    import re

    from rmab.errors import InvalidModelError, InvalidParameterError

    try:
        yield
    except (InvalidParameterError, InvalidModelError) as exc:
        head, _, rest = str(exc).partition(": ")
        owner, _, field = head.partition(".")
        if owner not in owners or field not in fields:
            raise
        for word in words:
            rest = re.sub(rf"\b{word}\b", option(fields[word]), rest)
        raise InvalidParameterError(f"{command}.{fields[field]}: {rest}") from exc


def seed_arg(text: str) -> int:
    """argparse type of a seed: a non-negative integer (a usage error otherwise, named by its
    flag rather than by the function it would reach)."""
    import argparse

    from rmab._validation import decimal_int

    try:
        value = decimal_int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer; got {text!r}")
    return value


def integer_arg(text: str) -> int:
    """argparse type of an integer in ASCII digits (``int`` also takes ``1_0`` and other
    scripts' digits); its range is checked by the command."""
    import argparse
    import re

    from rmab._validation import THOUSANDS, decimal_int

    try:
        return decimal_int(text)
    except ValueError:
        hint = f" (a thousands separator? write {text.strip().replace(',', '')!r})" \
            if re.fullmatch(THOUSANDS, text.strip()) else ""
        raise argparse.ArgumentTypeError(f"must be an integer; got {text!r}{hint}") from None


def number_arg(text: str) -> float:
    """argparse type of a number: an ASCII decimal or inf / nan, as the CSV and .POMDP
    readers take them; its range (and finiteness) is checked by the command."""
    import argparse

    from rmab._validation import comma_hint, decimal_float

    try:
        return decimal_float(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a decimal number; got {text!r}"
                                         f"{comma_hint(text)}") from None


def param_arg(text: str) -> tuple[str, object]:
    """argparse type of a planner parameter ``KEY=VALUE``, VALUE read as a JSON scalar
    (number, true/false/null; also ``inf`` and ``-inf``) or object (rollout's
    ``base_params={"knapsack": "greedy"}``), else text (``04``, ``+5``, ``.5`` too: see
    :func:`typed_number`)."""
    import argparse
    import json

    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"must be KEY=VALUE; got {text!r}")
    if value.strip().lower() in ("inf", "+inf", "-inf"):
        return key.strip(), float(value)
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        if value.lstrip().startswith(("{", "[")):    # meant as JSON, not as text
            raise argparse.ArgumentTypeError(
                f"VALUE starting with {value.lstrip()[0]!r} must be valid JSON ({exc}); got "
                f"{value!r} (text inside needs double quotes: "
                f"'base_params={{\"knapsack\": \"greedy\"}}')") from None
        parsed = value
    if isinstance(parsed, list):
        raise argparse.ArgumentTypeError(f"VALUE must be a number, true/false/null, a JSON "
                                         f"object or text; got {value!r}")
    return key.strip(), parsed


def typed_number(value) -> int | float | None:
    """The number a parameter value from the command line looks like where Python reads it as
    one and JSON does not (``04``, ``+5``, ``.5``, ``1.e-3``: 4, 5, 0.5, 0.001), else None:
    :func:`param_arg` keeps such a value text, as JSON does, and a planner wanting a number
    refuses it."""
    from rmab._validation import DECIMAL

    if not isinstance(value, str) or not DECIMAL.fullmatch(value.strip()):
        return None
    text = value.strip()
    try:
        number = int(text) if text.lstrip("+-").isdigit() else float(text)
    except ValueError:             # beyond int's 4300 digits: a traceback, not a message
        return None
    return None if number in (float("inf"), float("-inf")) else number     # 400 digits.5


def hint_numbers(error: Exception, values) -> None:
    """``error``'s message given `` (a number? write 4)`` after each ``must be an integer; got
    '04'`` (or a number) quoting one of ``values``, the planner parameters read from the
    command line, that :func:`typed_number` reads: the planners' own errors say what they
    got, the hint says why where the command line is the reason (not where text is wanted:
    ``knapsack=04``)."""
    import re

    message = str(error)
    for value in values:
        number = typed_number(value)
        hint = f" (a number? write {number})"
        if number is not None and hint not in message:
            wants = rf"must be [^;]*\b(?:number|integer)\b[^;]*; got {re.escape(repr(value))}"
            message = re.sub(wants, lambda m: m.group() + hint, message)
    error.args = (message,)


def progress_arg(parser) -> None:
    """``--progress`` / ``--no-progress``, unset by default: see :func:`show_progress`."""
    import argparse

    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="progress bar on stderr (default: on when stderr is a terminal)")


def show_progress(args) -> bool:
    """``--progress`` as given, else whether stderr is a terminal: a log file or pipe
    collected every redraw of the bar (a cron log filled with ``compare:  10%|█`` lines)."""
    import sys

    if args.progress is not None:
        return args.progress
    try:                  # None where the process started without one ('2>&-'), or closed
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):
        return False


def split_top(text: str) -> list[str] | None:
    """``text`` split at the commas outside brackets and double-quoted strings (``a(x=1,
    y={"k": [1, 2]}),b`` gives two parts); ``None`` if its brackets do not balance."""
    parts, depth, start, quoted, escaped = [], [], 0, False, False
    pairs = {")": "(", "]": "[", "}": "{"}
    for i, ch in enumerate(text):
        if quoted:
            escaped, quoted = (False, True) if escaped else (ch == "\\", ch != '"')
        elif ch == '"':
            quoted = True
        elif ch in "([{":
            depth.append(ch)
        elif ch in pairs:
            if not depth or depth.pop() != pairs[ch]:
                return None
        elif ch == "," and not depth:
            parts.append(text[start:i])
            start = i + 1
    if depth or quoted:
        return None
    return parts + [text[start:]]


def check_suffix(owner: str, path, suffix: str) -> None:
    """Refuse an output path that does not end in ``suffix`` (a CSV written to ``-o
    README.md`` would replace the README); the error names the flag (``owner``)."""
    from rmab.errors import InvalidParameterError

    if not str(path).lower().endswith(suffix):
        raise InvalidParameterError(f"{owner}: must be a path ending in {suffix}; got "
                                    f"{str(path)!r}")


def read_instance(owner: str, path, budget: float | None = None):
    """The instance at ``path`` (``budget``: in place of its own), or a ``.POMDP`` file's one
    arm as an instance at the file's discount (``budget``, default 0). A file whose actions all
    cost nothing is refused: an index is a price per unit of cost, and a budget binds nothing;
    the error says how to give costs."""
    import warnings

    from rmab.errors import InvalidModelError, InvalidParameterError
    from rmab.models import load_instance
    from rmab.models.pomdp_format import read_pomdp

    if not str(path).lower().endswith(".pomdp"):
        if budget is None:
            return load_instance(path)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            instance = load_instance(path)
        for w in caught:     # not "no arm can act" of the file's own budget, which is replaced
            if budget == instance.budget or not str(w.message).startswith("Instance.budget:"):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        try:
            return instance.replace(budget=budget)
        except InvalidModelError as exc:       # named by the flag, not Instance.min_active
            raise InvalidParameterError(f"{owner}.budget: --budget {budget:g} does not fit "
                                        f"{path}: {exc}") from exc
    model = read_pomdp(path)
    if model.discount >= 1.0:
        raise InvalidParameterError(f"{owner}.instance: {path} has discount 1, which needs a "
                                    f"horizon; a .POMDP file is read here at a discount below "
                                    f"1 (over H periods: save read_pomdp(path).to_instance("
                                    f"horizon=H) with save_instance and give that)")
    if not model.arms.costs.any():
        raise InvalidParameterError(f"{owner}.instance: {path} gives no action costs; add a "
                                    f"line '# rmab-costs: ...' to the file, one cost per "
                                    f"action ({', '.join(model.action_names)})")
    return model.to_instance(budget=0.0 if budget is None else budget)


DEFAULT_BUDGET = 5          # of a generated domain


def domain_budget(owner: str, args) -> int:
    """``--budget`` of a generated domain, default 5, after checking ``--arms``; errors name
    the flags (make_capacity's 'budget: must be <= 2; got 5' named a value the user never
    typed beside ``--arms 2``: a CLI review)."""
    from rmab._validation import check_number
    from rmab.errors import InvalidParameterError

    if args.arms is not None:               # named by the flag, not by make_capacity.n_arms
        check_number(owner, "arms", args.arms, low=1, integer=True)
    if args.budget is not None:
        budget = check_number(owner, "budget", args.budget, low=1, integer=True)
        if args.arms is not None and budget > args.arms:   # was make_capacity.budget's error
            raise InvalidParameterError(f"{owner}.budget: must be <= --arms {args.arms} (every "
                                        f"domain pulls at most its arms); got --budget {budget}")
        return budget
    if args.arms is not None and args.arms < DEFAULT_BUDGET:
        raise InvalidParameterError(f"{owner}.budget: the default budget {DEFAULT_BUDGET} "
                                    f"exceeds --arms {args.arms}; pass --budget B with B <= "
                                    f"{args.arms}")
    return DEFAULT_BUDGET
