"""`python -m fieldapp` runs the command line."""

import sys

from fieldapp.cli import main

sys.exit(main())
