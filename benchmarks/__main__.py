"""`python -m benchmarks`: the bench's command line (benchmarks/cli.py)."""

import sys

from benchmarks.cli import main

sys.exit(main())
