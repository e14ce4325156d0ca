"""QuickPoll's own SQL leaves nothing on a server connection past its transaction.

Behind PgBouncer's transaction pooling (DATABASE_POOLING=transaction) each transaction may run on
another server connection: a session-level SET, advisory lock, LISTEN, temporary table or prepared
statement would stay behind on one connection, for whoever gets it next.
"""

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
APPS = ("quickpoll", "accounts", "polls", "realtime")

SESSION_STATE = re.compile(
    r"\bpg_(try_)?advisory_lock(_shared)?\b"  # the _xact_ variants end with the transaction
    r"|\b(LISTEN|UNLISTEN|NOTIFY|PREPARE|DECLARE)\b"
    r"|\bCREATE\s+(TEMP|TEMPORARY)\b"
    r"|\bSET\s+(SESSION\b|(?!TRANSACTION\b|LOCAL\b)\w+\s*(=|TO)\b)"
    r"|\bset_config\s*\([^)]*,\s*false\s*\)",
    re.IGNORECASE,
)


def executed_sql() -> list[tuple[str, str]]:
    """(where, SQL text) of every literal passed to an .execute() in the apps' code (migrations run unpooled)."""
    found = []
    for app in APPS:
        for path in (REPO / app).rglob("*.py"):
            parts = path.relative_to(REPO).parts
            if "tests" in parts or "migrations" in parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "execute" and node.args:
                    text = " ".join(
                        part.value
                        for part in ast.walk(node.args[0])
                        if isinstance(part, ast.Constant) and isinstance(part.value, str)
                    )
                    found.append((f"{path.relative_to(REPO)}:{node.lineno}", text))
    return found


def test_the_scan_finds_quickpolls_sql_and_would_see_session_state():
    statements = dict(executed_sql())
    assert any("pg_advisory_xact_lock" in sql for sql in statements.values())
    for session_level in ("SELECT pg_advisory_lock(1)", "SET search_path TO x", "LISTEN poll", "CREATE TEMP TABLE t ()"):
        assert SESSION_STATE.search(session_level), session_level
    for transaction_level in ("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", "SET LOCAL lock_timeout = 1"):
        assert not SESSION_STATE.search(transaction_level), transaction_level


def test_no_sql_of_quickpolls_keeps_session_state():
    offenders = [f"{where}: {sql}" for where, sql in executed_sql() if SESSION_STATE.search(sql)]
    assert offenders == []
