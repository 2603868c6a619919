"""The ``rmab`` command line: one subcommand per module of :mod:`rmab.commands`.

Each command module exposes ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int``. Results go to stdout or files, logs and progress to stderr. An
:class:`~rmab.errors.RmabError` prints one line ``rmab: error: ...`` and exits 1; usage errors
exit 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from rmab.errors import RmabError

# name -> module (imported only when the command runs or its parser is built)
COMMANDS = {
    "planners": "rmab.commands.planners",
    "generate": "rmab.commands.generate",
    "compare": "rmab.commands.compare",
    "solve": "rmab.commands.solve",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rmab", description="Restless multi-armed bandits: generate instances, compare "
        "planners, solve budgeted allocation batches.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    from rmab import __version__
    parser.add_argument("--version", action="version", version=f"rmab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except RmabError as exc:
        if args.debug:
            raise
        print(f"rmab: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("rmab: interrupted", file=sys.stderr)
        return 130
