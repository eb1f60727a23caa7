"""``python -m racewatch``: the same command line as ``racewatch``."""

import sys

from racewatch.cli import main

if __name__ == "__main__":
    sys.exit(main())
