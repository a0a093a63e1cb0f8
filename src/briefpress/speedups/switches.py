"""Which speed-ups are on: all, unless ``BRIEFPRESS_SPEEDUPS`` says otherwise.

``BRIEFPRESS_SPEEDUPS=off`` turns every one off; ``BRIEFPRESS_SPEEDUPS=no-printer,no-gc`` turns off those
named. ``make bench`` measures each so, against all on, in alternating rounds.
"""

from __future__ import annotations

import os
import sys

#: printer: WeasyPrint imported in a forked process while the brief renders, which then lays it out;
#: path: that import made with an empty PATH; drawing: a long brief's parts drawn in forked processes;
#: server: a rebuild handed to the build server, which keeps the brief's layouts loaded (``server``);
#: exit: the process ends without Python's teardown once the command has returned (``quickexit``);
#: ffi: WeasyPrint imported with its C declarations precompiled (``declarations``).
NAMES = ("printer", "path", "drawing", "server", "exit", "ffi")


def on(name: str) -> bool:
    """Whether the speed-up ``name`` is on."""
    value = os.environ.get("BRIEFPRESS_SPEEDUPS", "").strip().lower()
    if value == "off":
        return False
    return f"no-{name}" not in {item.strip() for item in value.split(",")}


def serving() -> bool:
    """Whether builds may ask the build server, and start one (``server``): the ``server`` speed-up is on,
    ``BRIEFPRESS_SERVER`` is not ``off``, this is not a CI run (``CI`` set), and the system is Linux. Decided
    here, without importing the server, which a build that asks nothing does not need."""
    setting = os.environ.get("BRIEFPRESS_SERVER", "").strip().lower()
    return on("server") and setting != "off" and not os.environ.get("CI") and sys.platform.startswith("linux")
