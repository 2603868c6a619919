"""One module per ``rmab`` subcommand: ``HELP``, ``add_arguments(parser)``, ``run(args)``."""
