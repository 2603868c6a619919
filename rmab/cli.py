"""The ``rmab`` command line: one subcommand per module of :mod:`rmab.commands`.

Each command module exposes ``add_arguments(parser)`` and ``run(args) -> int``; only the
module of the command being run is imported (``import rmab`` itself is light). Results go to
stdout or files, logs and progress to stderr; a closed stdout is an error before the work. An
:class:`~rmab.errors.RmabError` prints one line ``rmab: error: ...`` and exits 1; usage errors
(an unknown planner name among them) exit 2; ``--debug`` (before or after COMMAND) shows the
traceback instead, with the same exit code.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
import warnings

from rmab.errors import (OutputError, RmabError, RmabWarning, UnknownPlannerError,
                         interrupted)

# name -> (module, one-line help); the module is imported only when its command is chosen
COMMANDS = {
    "planners": ("rmab.commands.planners", "list the registered planners with their availability"),
    "generate": ("rmab.commands.generate",
                 "generate a seeded instance or coRMAB domain and save it as .npz"),
    "estimate": ("rmab.commands.estimate",
                 "estimate arms from a CSV log (transitions, or actions and signals) as .npz"),
    "compare": ("rmab.commands.compare", "compare planners on an instance (table, CSV, plot)"),
    "solve": ("rmab.commands.solve", "solve budgeted allocation batches from a CSV file"),
    "update": ("rmab.commands.update",
               "next period's CSV of batches: beliefs updated by the actions and signals"),
    "value": ("rmab.commands.value", "value interval [lower, upper] of a .POMDP file at its start"),
    "bound": ("rmab.commands.bound", "Lagrangian bound: estimate, certified upper bound, price"),
    "index": ("rmab.commands.index",
              "Whittle indices of an instance's (or a .POMDP file's) arms to CSV"),
    "train": ("rmab.commands.train", "train SEQUOIA's Q-network on a coRMAB domain (rmab[torch])"),
}


def _chosen_command(argv) -> str | None:
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def _near_command(parser, argv) -> None:
    """A usage error suggesting the command nearest a mistyped one (``rmab solv``)."""
    import difflib

    typed = next((arg for arg in argv if not arg.startswith("-")), None)
    match = difflib.get_close_matches(typed, list(COMMANDS), n=1) if typed else []
    if match:
        parser.error(f"argument COMMAND: invalid choice: {typed!r} (choose from "
                     f"{', '.join(map(repr, COMMANDS))}); did you mean {match[0]!r}?")


# what a negative number looks like after a flag (argparse's own pattern, ``-1`` and ``-.5``
# only, took ``--price -1e-3`` and ``--threshold -inf`` for options); no rmab option starts
# with a digit or "inf"
# (digits, then a point or not: "[0-9]+\.?[0-9]*" took quadratic time on "-" and a long run
# of digits that is no number)
_NEGATIVE = re.compile(r"^-(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
                       r"|^-inf(?:inity)?$", re.IGNORECASE)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only ``command``'s arguments are built (its module imported)."""
    parser = argparse.ArgumentParser(
        prog="rmab", description="Restless multi-armed bandits: generate instances, compare "
        "planners, solve budgeted allocation batches.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    from rmab import __version__
    parser.add_argument("--version", action="version", version=f"rmab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    parser.commands = {}                          # name -> its parser (for its own errors)
    for name, (module_name, help_text) in COMMANDS.items():
        p = parser.commands[name] = sub.add_parser(name, help=help_text, description=help_text)
        p._negative_number_matcher = _NEGATIVE        # argparse's own misses -1e-3 and -inf
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show tracebacks on errors (also before COMMAND)")
        if name == command:
            module = importlib.import_module(module_name)
            module.add_arguments(p)
            p.set_defaults(_run=module.run)
    return parser


def _one_line(default):
    """A ``warnings.showwarning`` printing rmab's own warnings as one line ``rmab: warning:
    ...`` and passing the others to ``default``."""
    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, RmabWarning):
            print(f"rmab: warning: {message}", file=sys.stderr if file is None else file)
        else:
            default(message, category, filename, lineno, file, line)
    return show


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return [s for action in parser._actions for s in action.option_strings]


def _unrecognized(command: argparse.ArgumentParser, name: str, extra: list) -> None:
    """Exit 2 with ``command``'s usage for arguments it does not take: each flag that other
    commands take is said to be theirs, and each other one gets the closest option of any
    command (the top-level usage was shown, with no hint: a CLI review; ``rmab index
    --budget`` got "did you mean --debug?", closest among index's own options)."""
    import difflib

    takers: dict[str, list[str]] = {s: [] for s in _options(command)}
    for other, (module_name, _) in COMMANDS.items():
        if other != name:
            parser = argparse.ArgumentParser(add_help=False)
            importlib.import_module(module_name).add_arguments(parser)
            for s in _options(parser):
                takers.setdefault(s, []).append(f"'rmab {other}'")
    hints = []
    for flag in (arg.split("=")[0] for arg in extra if arg.startswith("--")):
        if takers.get(flag):
            hints.append(f"; {flag} is an option of {', '.join(takers[flag])}")
        elif match := difflib.get_close_matches(flag, list(takers), n=1):
            whose = takers[match[0]]
            hints.append(f"; {flag}: did you mean {match[0]}"
                         + (f" (an option of {', '.join(whose)})?" if whose else "?"))
    command.error(f"unrecognized arguments: {' '.join(extra)}{''.join(hints)}")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    for stream in (sys.stdout, sys.stderr):     # λ, ±, Σ on an ASCII or Latin-1 terminal
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        command = _chosen_command(argv)
        parser = build_parser(command)                    # imports the command's modules
        if command is None:
            _near_command(parser, argv)
        args, extra = parser.parse_known_args(argv)
        if extra:                 # the command's usage, not rmab's, and the near options
            _unrecognized(parser.commands[args.command], args.command, extra)
    except KeyboardInterrupt:
        print("rmab: interrupted", file=sys.stderr)
        return 130
    hook = sys.unraisablehook
    sys.unraisablehook = _raise_interrupt(hook)
    try:
        with warnings.catch_warnings():
            if not args.debug:
                warnings.showwarning = _one_line(warnings.showwarning)
            return _run(args)
    finally:
        sys.unraisablehook = hook
        for timer in _LOST:         # none may interrupt the caller after main returns
            timer.cancel()
        _LOST.clear()


def _raise_interrupt(hook):
    """``sys.unraisablehook`` raising again a Ctrl-C that Python could only report: one that
    lands in a ctypes callback, llvmlite's object cache while Numba compiles a kernel (the
    first run), was printed as 'Exception ignored' and lost, the run going on (or failing on
    numba's 'no compiled object yet' with a traceback); ``hook`` has any other."""
    def unraisable(info):
        if isinstance(info.exc_value, KeyboardInterrupt):
            import _thread
            import threading

            # soon, not now: an interrupt raised here is lost too, as the hook's own; one
            # landing in another callback comes back here
            timer = threading.Timer(_AGAIN_AFTER, _thread.interrupt_main)
            timer.daemon = True
            _LOST.append(timer)
            timer.start()
            return
        hook(info)
    return unraisable


_LOST: list = []        # the timers raising lost interrupts again (_raise_interrupt)
_AGAIN_AFTER = 0.01     # seconds


def _run(args) -> int:
    try:
        if sys.stdout is None and getattr(args, "out", None) in (None, "-") and \
                not getattr(args, "check", False):             # --check reports on stderr
            raise OutputError(f"{args.command}: standard output is closed, so the results "
                              f"would be lost"
                              + ("; give --out FILE" if hasattr(args, "out") else ""))
        return int(args._run(args) or 0)
    except UnknownPlannerError as exc:       # a mistyped name is a usage error, --debug or not
        if args.debug:
            import traceback

            traceback.print_exc()
        else:
            print(f"rmab: error: {exc}", file=sys.stderr)
        return 2
    except RmabError as exc:
        if args.debug:
            raise
        print(f"rmab: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly, as Unix tools do
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print("rmab: interrupted", file=sys.stderr)
        return 130
    except SystemError as exc:           # a Ctrl-C seen through a compiled kernel
        if not interrupted(exc):
            raise
        print("rmab: interrupted", file=sys.stderr)
        return 130
    except (MemoryError, ValueError) as exc:  # numpy's 'array is too big' is a ValueError
        if args.debug or not (isinstance(exc, MemoryError) or "array is too big" in str(exc)):
            raise
        jobs = ", or fewer --n-jobs" if hasattr(args, "n_jobs") else ""  # commands with it
        print(f"rmab: error: out of memory{': ' + str(exc) if str(exc) else ''} (a smaller "
              f"instance{jobs})", file=sys.stderr)
        return 1
    except OSError as exc:       # a full disk or a closed stream while printing results
        if args.debug:
            raise
        print(f"rmab: error: {exc}", file=sys.stderr)
        return 1
    except Exception:   # numba's 'no compiled object yet' after a Ctrl-C lost in its compile
        if not _LOST:
            raise
        print("rmab: interrupted", file=sys.stderr)
        return 130
