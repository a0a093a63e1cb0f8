"""``python -m briefpress.speedups BRIEF...`` (run by ``make venv``): compile the package's templates into its
``__pycache__`` and keep each brief's hyphenation patterns parsed there, as Python keeps compiled modules."""

import sys

from ..render.jinja import precompile
from .hyphenation import prepare

print(f"{precompile()} templates compiled")
for line in prepare(sys.argv[1:]):
    print(line)
