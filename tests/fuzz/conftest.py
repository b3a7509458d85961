"""Fixtures of the fuzzing tests, and the figures printed at the end of the run.

The `api` fixture is the suite's own (tests/conftest.py): its app is built once per
settings and each test gets a fresh copy of the migrated template database.
"""

import sys

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    module = sys.modules.get("tests.fuzz.test_schemathesis")
    for kind, counts in sorted(getattr(module, "STATS", {}).items()):
        terminalreporter.write_line(
            f"fuzz ({kind}): {counts['requests']} requests, {counts['5xx']} answered 5xx"
        )
