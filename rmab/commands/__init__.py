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


def check_suffix(owner: str, path, suffix: str) -> None:
    """Refuse an output path that does not end in ``suffix`` (a CSV written to ``-o
    README.md`` would replace the README); the error names the flag (``owner``)."""
    from rmab.errors import InvalidParameterError

    if not str(path).lower().endswith(suffix):
        raise InvalidParameterError(f"{owner}: must be a path ending in {suffix}; got "
                                    f"{str(path)!r}")
