"""One module per ``rmab`` subcommand: ``add_arguments(parser)`` and ``run(args) -> int``;
the table of commands and their one-line help is ``rmab.cli.COMMANDS``."""


def seed_arg(text: str) -> int:
    """argparse type of a seed: a non-negative integer (a usage error otherwise, named by its
    flag rather than by the function it would reach)."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer; got {text!r}")
    return value
