"""Print the fuzzing figures at the end of the run."""

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.fuzz.test_schemathesis import STATS

    for kind, counts in sorted(STATS.items()):
        terminalreporter.write_line(
            f"fuzz ({kind}): {counts['requests']} requests, {counts['5xx']} answered 5xx"
        )
