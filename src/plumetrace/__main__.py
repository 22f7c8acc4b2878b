"""``python -m plumetrace`` runs the CLI."""

import sys

from plumetrace.cli.app import main

sys.exit(main())
