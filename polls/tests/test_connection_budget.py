"""The connection budget: what hosts x processes x pools open, against PostgreSQL's max_connections."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from quickpoll.connection_budget import Deployment, available, client_lines, server_lines, total


def test_each_http_and_socket_process_counts_its_whole_pool_on_every_host():
    deployment = Deployment(hosts=3, web_processes=2, socket_processes=2, pool_min=2, pool_max=20)
    lines = {line.what: line.connections for line in server_lines(deployment)}
    assert lines == {"HTTP processes": 120, "socket processes": 120, "clock": 2, "migrate": 2}
    assert total(server_lines(deployment)) == 244


def test_one_thread_processes_hold_the_pools_minimum_and_at_least_one():
    lines = server_lines(Deployment(hosts=1, web_processes=1, socket_processes=1, pool_min=0, pool_max=5))
    assert {line.what: line.connections for line in lines}["clock"] == 1
    assert total(lines) == 5 + 5 + 1 + 1


def test_behind_pgbouncer_postgresql_sees_its_server_pools_and_migrate_only():
    deployment = Deployment(
        hosts=10, web_processes=4, socket_processes=2, pool_min=2, pool_max=20, pooling="transaction",
        pgbouncers=2, pgbouncer_pool=25,
    )  # fmt: skip
    assert total(client_lines(deployment)) == 10 * 4 * 20 + 10 * 2 * 20 + 2
    assert {line.what: line.connections for line in server_lines(deployment)} == {
        "PgBouncer server pools": 50,
        "migrate": 2,
    }


def test_available_sets_aside_reserved_slots_and_the_operators_reserve():
    assert available(300, 3, 5) == 292


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="asks PostgreSQL for max_connections; set DATABASE_URL")
@pytest.mark.django_db
def test_the_command_checks_against_the_connected_databases_max_connections(monkeypatch, capsys):
    monkeypatch.setenv("WEB_CONCURRENCY", "2")
    monkeypatch.setenv("SOCKET_CONCURRENCY", "1")
    with connection.cursor() as cursor:
        cursor.execute("SELECT setting::int FROM pg_settings WHERE name = 'max_connections'")
        max_connections = cursor.fetchone()[0]
    pool_max = connection.settings_dict["OPTIONS"]["pool"]["max_size"]
    per_host = 3 * pool_max
    fitting = max(1, (max_connections - 20) // per_host)

    call_command("connection_budget", hosts=fitting)
    assert f"max_connections {max_connections} - " in capsys.readouterr().out

    with pytest.raises(CommandError, match="over budget by"):
        call_command("connection_budget", hosts=max_connections // per_host + 1)


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs the PostgreSQL pool settings; set DATABASE_URL")
def test_the_command_plans_against_a_given_max_connections(settings, capsys, monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "2")
    monkeypatch.setenv("SOCKET_CONCURRENCY", "2")
    settings.DATABASE_POOLING = "transaction"
    call_command("connection_budget", hosts=50, max_connections=100, pgbouncer_pool=30)
    out = capsys.readouterr().out
    assert "PgBouncer server pools" in out and "= 32 needed" in out
