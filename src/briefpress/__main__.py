"""Allow ``python -m briefpress``."""

import sys

from .cli import main

sys.exit(main())
