"""One line per family of checks for the summary `.ci/run` prints last (see QUICKPOLL_CI_SUMMARY there)."""

import os


def record(line: str) -> None:
    path = os.environ.get("QUICKPOLL_CI_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as summary:
            summary.write(line + "\n")


def report(terminalreporter, line: str) -> None:
    terminalreporter.write_line(line)
    record(line)
