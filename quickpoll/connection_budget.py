"""How many PostgreSQL connections a deployment can open, against what PostgreSQL accepts.

Every HTTP and socket process keeps its own pool of up to DATABASE_POOL_MAX_SIZE connections, so
the sum grows with hosts x processes. Behind PgBouncer (DATABASE_POOLING=transaction) those pools
are PgBouncer's clients, and PostgreSQL only sees PgBouncer's own server pools. docs/scaling.md.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Deployment:
    hosts: int
    web_processes: int  # WEB_CONCURRENCY per host
    socket_processes: int  # SOCKET_CONCURRENCY per host
    pool_min: int  # DATABASE_POOL_MIN_SIZE
    pool_max: int  # DATABASE_POOL_MAX_SIZE
    pooling: str = "session"  # DATABASE_POOLING
    pgbouncers: int = 1
    pgbouncer_pool: int = 20  # PgBouncer's default_pool_size + reserve_pool_size, per database and user

    @property
    def single_thread_process(self) -> int:
        """What a one-thread process (the clock, migrate) holds: its pool opens min_size connections."""
        return max(self.pool_min, 1)


@dataclass(frozen=True)
class Line:
    what: str
    how: str
    connections: int


def client_lines(deployment: Deployment) -> list[Line]:
    """The connections QuickPoll's processes open: to PostgreSQL, or to PgBouncer in transaction pooling."""
    d = deployment
    return [
        Line(
            "HTTP processes",
            f"{d.hosts} hosts x {d.web_processes} (WEB_CONCURRENCY) x {d.pool_max} (DATABASE_POOL_MAX_SIZE)",
            d.hosts * d.web_processes * d.pool_max,
        ),
        Line(
            "socket processes",
            f"{d.hosts} hosts x {d.socket_processes} (SOCKET_CONCURRENCY) x {d.pool_max} (DATABASE_POOL_MAX_SIZE)",
            d.hosts * d.socket_processes * d.pool_max,
        ),
        Line("clock", f"1 process x {d.single_thread_process} (DATABASE_POOL_MIN_SIZE, one thread)", d.single_thread_process),
    ]


def server_lines(deployment: Deployment) -> list[Line]:
    """The connections PostgreSQL itself must accept."""
    d = deployment
    migrate = Line("migrate", f"1 process x {d.single_thread_process}, straight to PostgreSQL", d.single_thread_process)
    if d.pooling != "transaction":
        return [*client_lines(d), migrate]
    return [
        Line(
            "PgBouncer server pools",
            f"{d.pgbouncers} PgBouncer x {d.pgbouncer_pool} (default_pool_size + reserve_pool_size)",
            d.pgbouncers * d.pgbouncer_pool,
        ),
        migrate,
    ]


def total(lines: list[Line]) -> int:
    return sum(line.connections for line in lines)


def available(max_connections: int, superuser_reserved: int, reserve: int) -> int:
    """Connections left for QuickPoll once superusers' slots and the operator's reserve are set aside."""
    return max_connections - superuser_reserved - reserve
