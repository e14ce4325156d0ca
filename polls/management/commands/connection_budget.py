"""The PostgreSQL connections N hosts of QuickPoll can open, checked against the database's max_connections."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from quickpoll import connection_budget
from quickpoll.env import env_int

RESERVE = 5  # connections kept free for psql, backups and monitoring


class Command(BaseCommand):
    help = (
        "Print the PostgreSQL connections HOSTS hosts running bin/production (or bin/http + bin/sockets) can "
        "open with the current settings, and exit non-zero if they exceed the connected database's "
        "max_connections less its reserved slots and --reserve."
    )

    def add_arguments(self, parser):
        parser.add_argument("--hosts", type=int, default=1, help="hosts (or containers) each running the servers")
        parser.add_argument(
            "--max-connections",
            type=int,
            help="plan against this max_connections instead of asking the database (reserved slots are then 3)",
        )
        parser.add_argument("--reserve", type=int, default=RESERVE, help=f"connections kept free (default {RESERVE})")
        parser.add_argument("--pgbouncers", type=int, default=1, help="PgBouncer instances (DATABASE_POOLING=transaction)")
        parser.add_argument(
            "--pgbouncer-pool",
            type=int,
            default=20,
            help="server connections per PgBouncer: its default_pool_size + reserve_pool_size (default 20)",
        )

    def handle(self, *args, hosts, max_connections, reserve, pgbouncers, pgbouncer_pool, **options):
        if min(hosts, pgbouncers, pgbouncer_pool) < 1 or reserve < 0:
            raise CommandError("--hosts, --pgbouncers and --pgbouncer-pool must be at least 1, --reserve at least 0")
        pool = settings.DATABASES["default"].get("OPTIONS", {}).get("pool")
        if not pool:
            raise CommandError("the budget concerns PostgreSQL with its connection pool: set DATABASE_URL to one")
        deployment = connection_budget.Deployment(
            hosts=hosts,
            # The server scripts' own variables, with their defaults.
            web_processes=env_int("WEB_CONCURRENCY", 2, minimum=1),
            socket_processes=env_int("SOCKET_CONCURRENCY", 2, minimum=1),
            pool_min=pool["min_size"],
            pool_max=pool["max_size"],
            pooling=settings.DATABASE_POOLING,
            pgbouncers=pgbouncers,
            pgbouncer_pool=pgbouncer_pool,
        )
        if max_connections is None:
            max_connections, reserved = self._database_limits()
        else:
            reserved = 3  # PostgreSQL's default superuser_reserved_connections

        self.stdout.write(f"PostgreSQL connections for {hosts} hosts (DATABASE_POOLING={deployment.pooling}):")
        if deployment.pooling == "transaction":
            clients = connection_budget.client_lines(deployment)
            self._table(clients)
            self.stdout.write(
                f"  = {connection_budget.total(clients)} clients of PgBouncer (its max_client_conn, summed over "
                f"{pgbouncers} PgBouncer, must be at least this); PostgreSQL sees:"
            )
        needed_lines = connection_budget.server_lines(deployment)
        self._table(needed_lines)
        needed = connection_budget.total(needed_lines)
        room = connection_budget.available(max_connections, reserved, reserve)
        self.stdout.write(
            f"  = {needed} needed; max_connections {max_connections} - {reserved} reserved - {reserve} kept free "
            f"(--reserve) = {room} available"
        )
        if needed > room:
            raise CommandError(
                f"over budget by {needed - room}: lower DATABASE_POOL_MAX_SIZE or the process counts, raise "
                "max_connections, or put PgBouncer in front (DATABASE_POOLING=transaction)"
            )
        self.stdout.write(self.style.SUCCESS(f"within budget: {room - needed} to spare"))

    def _database_limits(self) -> tuple[int, int]:
        if connection.vendor != "postgresql":
            raise CommandError("connected to SQLite: pass --max-connections to plan for PostgreSQL")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name, setting::int FROM pg_settings "
                "WHERE name IN ('max_connections', 'superuser_reserved_connections', 'reserved_connections')"
            )
            limits = dict(cursor.fetchall())
        return limits["max_connections"], limits["superuser_reserved_connections"] + limits.get("reserved_connections", 0)

    def _table(self, lines: list) -> None:
        width = max(len(line.what) for line in lines)
        for line in lines:
            self.stdout.write(f"  {line.what:<{width}}  {line.how:<72}  {line.connections:>5}")
