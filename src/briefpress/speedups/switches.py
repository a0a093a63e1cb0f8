"""Which speed-ups are on: all, unless ``BRIEFPRESS_SPEEDUPS`` says otherwise.

``BRIEFPRESS_SPEEDUPS=off`` turns every one off; ``BRIEFPRESS_SPEEDUPS=no-printer,no-gc`` turns off those
named. ``make bench`` measures each so, against all on, in alternating rounds.
"""

from __future__ import annotations

import os

#: printer: WeasyPrint imported in a forked process while the brief renders, which then lays it out;
#: path: that import made with an empty PATH; drawing: a long brief's parts drawn in forked processes;
#: server: a rebuild handed to the build server, which keeps the brief's layouts loaded (``server``).
NAMES = ("printer", "path", "drawing", "server")


def on(name: str) -> bool:
    """Whether the speed-up ``name`` is on."""
    value = os.environ.get("BRIEFPRESS_SPEEDUPS", "").strip().lower()
    if value == "off":
        return False
    return f"no-{name}" not in {item.strip() for item in value.split(",")}
