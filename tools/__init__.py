"""Tools for checking briefpress's outputs and code: used by ``make check``, ``make release`` and the tests."""
