"""Poll reads under load, and what they cost the database in writes.

Writes are counted as transaction ids handed out: PostgreSQL gives one to every transaction
that writes and to none that only reads, so the count is exact and needs no stats flush.
Autovacuum's ANALYZE takes ids too, so it is paused while reads are measured.
"""

import time
from urllib.parse import urlsplit

import psycopg

from bench.hot import load, measured, repeat


def _connect(database_url: str):
    parts = urlsplit(database_url)
    return psycopg.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres",
        dbname=parts.path.lstrip("/"), autocommit=True,
    )  # fmt: skip


def _next_xid(connection) -> int:
    # Reading the snapshot takes no transaction id of its own (txid_current() would).
    return int(connection.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint").fetchone()[0])


def _views_count(connection, poll_id: str) -> int:
    return connection.execute("SELECT views_count FROM polls_poll WHERE id = %s", (poll_id,)).fetchone()[0]


def read_phase(server, *, database_url: str, poll: dict, kind: str, path: str, connections: int, seconds: float) -> dict:
    with _connect(database_url) as connection:
        connection.execute("ALTER SYSTEM SET autovacuum = off")
        connection.execute("SELECT pg_reload_conf()")
        try:
            time.sleep(1.0)  # let a running autovacuum worker notice
            xid_before, views_before = _next_xid(connection), _views_count(connection, poll["id"])
            summary = measured(server, lambda: load(server, connections=connections, seconds=seconds, requests=repeat(path)), 200)
            time.sleep(0.5)
            xid_after, views_after = _next_xid(connection), _views_count(connection, poll["id"])
        finally:
            connection.execute("ALTER SYSTEM RESET autovacuum")
            connection.execute("SELECT pg_reload_conf()")
    reads = summary["wanted"]
    summary.update(
        kind=kind,
        path=path,
        writing_transactions=xid_after - xid_before,
        writes_per_read=round((xid_after - xid_before) / reads, 4) if reads else None,
        views_count_moved=views_after - views_before,
    )
    return summary
