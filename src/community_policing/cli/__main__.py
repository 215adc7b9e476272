"""``python -m community_policing.cli``: the command line, as the console script runs it."""

import sys

from community_policing.cli import main

sys.exit(main())
