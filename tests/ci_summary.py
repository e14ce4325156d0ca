"""One line per family of checks for the summary `.ci/run` prints last (see QUICKPOLL_CI_SUMMARY there).

A test hands its line to `summarise`; the line travels on the test's report, so it reaches the
run's terminal summary from whichever worker process ran the test (root conftest.py prints it).
"""

import os

SUMMARY_PROPERTY = "ci_summary"


def summarise(request, line: str) -> None:
    request.node.user_properties.append((SUMMARY_PROPERTY, line))


def report(terminalreporter, line: str) -> None:
    terminalreporter.write_line(line)
    path = os.environ.get("QUICKPOLL_CI_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as summary:
            summary.write(line + "\n")
