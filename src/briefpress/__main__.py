"""Allow ``python -m briefpress``."""

import sys

from .cli import entry

sys.exit(entry())
