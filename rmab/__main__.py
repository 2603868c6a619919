"""``python -m rmab`` runs the command line."""

import sys

from rmab.cli import main

sys.exit(main())
