"""One module per ``rmab`` subcommand: ``add_arguments(parser)`` and ``run(args) -> int``;
the table of commands and their one-line help is ``rmab.cli.COMMANDS``."""
