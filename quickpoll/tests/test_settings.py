"""The environment readers, and settings loaded as a whole in a fresh interpreter."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils.crypto import get_random_string

from quickpoll.env import env_bool, env_choice, env_int, env_list, env_str, env_url, with_password

REPO = Path(__file__).resolve().parents[2]

# Variables the developer's or CI's shell may carry that would change what a subprocess loads.
_SETTINGS_VARIABLES = {
    "DATABASE_URL",
    "DATABASE_POOLING",
    "REDIS_URL",
    "REDIS_PASSWORD",
    "ENVIRONMENT",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "ALLOWED_ORIGINS",
    "RATE_LIMIT_REQUESTS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
}


# --- env readers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), (" Yes ", True), ("ON", True)]
    + [("0", False), ("false", False), ("No", False), ("", False)],
)
def test_env_bool_reads_true_and_false_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("FLAG", raw)
    assert env_bool("FLAG", not expected) is expected


def test_env_bool_uses_default_when_unset(monkeypatch):
    monkeypatch.delenv("FLAG", raising=False)
    assert env_bool("FLAG", True) is True
    assert env_bool("FLAG", False) is False


@pytest.mark.parametrize("raw", ["maybe", "2", "yess"])
def test_env_bool_rejects_other_values_naming_the_variable(monkeypatch, raw):
    monkeypatch.setenv("FLAG", raw)
    with pytest.raises(ImproperlyConfigured, match=rf"FLAG must be true or false, got '{raw}'"):
        env_bool("FLAG", False)


@pytest.mark.parametrize(("raw", "expected"), [("42", 42), (" 7 ", 7), ("0", 0), ("", 60)])
def test_env_int_reads_whole_numbers(monkeypatch, raw, expected):
    monkeypatch.setenv("LIMIT", raw)
    assert env_int("LIMIT", 60) == expected


def test_env_int_uses_default_when_unset(monkeypatch):
    monkeypatch.delenv("LIMIT", raising=False)
    assert env_int("LIMIT", 60, minimum=1) == 60


@pytest.mark.parametrize("raw", ["abc", "1.5", "10k"])
def test_env_int_rejects_non_numbers_naming_the_variable(monkeypatch, raw):
    monkeypatch.setenv("LIMIT", raw)
    with pytest.raises(ImproperlyConfigured, match="LIMIT must be a whole number"):
        env_int("LIMIT", 60)


def test_env_int_enforces_the_minimum(monkeypatch):
    monkeypatch.setenv("LIMIT", "0")
    with pytest.raises(ImproperlyConfigured, match="LIMIT must be at least 1, got 0"):
        env_int("LIMIT", 60, minimum=1)
    monkeypatch.setenv("LIMIT", "1")
    assert env_int("LIMIT", 60, minimum=1) == 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('["https://a.example", "https://b.example"]', ["https://a.example", "https://b.example"]),
        ('[" https://a.example ", ""]', ["https://a.example"]),
        ("https://a.example, https://b.example,", ["https://a.example", "https://b.example"]),
        ("a.example", ["a.example"]),
        ("", ["default.example"]),
    ],
)
def test_env_list_reads_json_lists_and_comma_lists(monkeypatch, raw, expected):
    monkeypatch.setenv("HOSTS", raw)
    assert env_list("HOSTS", ["default.example"]) == expected


def test_env_list_default_is_a_copy(monkeypatch):
    monkeypatch.delenv("HOSTS", raising=False)
    default = ["default.example"]
    value = env_list("HOSTS", default)
    value.append("changed.example")
    assert default == ["default.example"]


def test_env_list_rejects_malformed_json(monkeypatch):
    monkeypatch.setenv("HOSTS", '["a.example",')
    with pytest.raises(ImproperlyConfigured, match="HOSTS is not valid JSON"):
        env_list("HOSTS", [])


@pytest.mark.parametrize("raw", ['["a.example", 3]', "[null]", '[["nested"]]'])
def test_env_list_rejects_json_items_that_are_not_strings(monkeypatch, raw):
    monkeypatch.setenv("HOSTS", raw)
    with pytest.raises(ImproperlyConfigured, match="HOSTS must be a JSON list of strings"):
        env_list("HOSTS", [])


def test_env_str_strips_and_defaults(monkeypatch):
    monkeypatch.setenv("NAME", "  QuickPoll  ")
    assert env_str("NAME", "x") == "QuickPoll"
    monkeypatch.delenv("NAME")
    assert env_str("NAME", "x") == "x"


def test_env_choice_is_case_insensitive(monkeypatch):
    monkeypatch.setenv("STAGE", "Production")
    assert env_choice("STAGE", "development", {"development", "production"}) == "production"
    monkeypatch.delenv("STAGE")
    assert env_choice("STAGE", "development", {"development", "production"}) == "development"


def test_env_choice_rejects_unknown_values_listing_the_choices(monkeypatch):
    monkeypatch.setenv("STAGE", "prod")
    with pytest.raises(ImproperlyConfigured, match="STAGE must be one of development, production, got 'prod'"):
        env_choice("STAGE", "development", {"development", "production"})


@pytest.mark.parametrize(
    "raw",
    ["postgres://u:p@127.0.0.1:5432/db", "postgresql://db.internal/quickpoll", "postgres://u@[::1]:5432/db"],
)
def test_env_url_accepts_urls_with_an_allowed_scheme(monkeypatch, raw):
    monkeypatch.setenv("DB", raw)
    assert env_url("DB", {"postgres", "postgresql"}) == raw


@pytest.mark.parametrize("raw", ["", "   "])
def test_env_url_treats_empty_as_unset(monkeypatch, raw):
    monkeypatch.setenv("DB", raw)
    assert env_url("DB", {"postgres"}) is None
    monkeypatch.delenv("DB")
    assert env_url("DB", {"postgres"}) is None


@pytest.mark.parametrize("raw", ["mysql://h/db", "http://h:5432/db", "127.0.0.1:5432", "postgres:///db", "postgres"])
def test_env_url_rejects_other_schemes_and_missing_hosts(monkeypatch, raw):
    monkeypatch.setenv("DB", raw)
    with pytest.raises(ImproperlyConfigured, match="DB must be a URL starting with postgres://, postgresql://"):
        env_url("DB", {"postgres", "postgresql"})


@pytest.mark.parametrize("raw", ["postgres://h:abc/db", "postgres://h:99999/db", "postgres://h:-1/db"])
def test_env_url_rejects_bad_ports(monkeypatch, raw):
    monkeypatch.setenv("DB", raw)
    with pytest.raises(ImproperlyConfigured, match="DB has an invalid port"):
        env_url("DB", {"postgres"})


@pytest.mark.parametrize(
    ("raw", "schemes"),
    [
        ("unix:///run/redis/redis.sock", {"redis", "rediss", "unix"}),
        ("sqlite:////var/lib/quickpoll/db.sqlite3", {"postgres", "postgresql", "sqlite"}),
    ],
)
def test_env_url_accepts_the_host_less_schemes_settings_allows(monkeypatch, raw, schemes):
    monkeypatch.setenv("URL", raw)
    assert env_url("URL", schemes) == raw


@pytest.mark.parametrize(
    ("url", "password", "expected"),
    [
        ("redis://h:6379/0", "s3cret", "redis://:s3cret@h:6379/0"),
        ("rediss://h/1", "s3cret", "rediss://:s3cret@h/1"),
        ("redis://default@h:6379/0", "s3cret", "redis://default:s3cret@h:6379/0"),
        ("redis://h:6379/0", "p@ss/w:rd", "redis://:p%40ss%2Fw%3Ard@h:6379/0"),
        ("redis://:inurl@h:6379/0", "s3cret", "redis://:inurl@h:6379/0"),
        ("redis://h:6379/0", "", "redis://h:6379/0"),
    ],
)
def test_with_password_adds_a_password_only_where_none_is_given(url, password, expected):
    assert with_password(url, password) == expected


def test_with_password_keeps_ipv6_hosts_bracketed():
    assert with_password("redis://[::1]:6379/0", "pw") == "redis://:pw@[::1]:6379/0"


def test_with_password_keeps_an_encoded_username_as_it_is():
    assert with_password("redis://us%40er@h:6379/0", "pw") == "redis://us%40er:pw@h:6379/0"


# --- settings loaded in a fresh interpreter ------------------------------------------------


def _env(**overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _SETTINGS_VARIABLES}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env | overrides


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=_env(**env), capture_output=True, text=True, timeout=60
    )


_SETTINGS = "import json, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'quickpoll.settings'; "
_SETUP = _SETTINGS + "import django; django.setup(); "


def load_settings(*names: str, **env: str) -> dict:
    """The named settings as a fresh process started with `env` sees them.

    Only the settings module is loaded, not the apps: that is what reads the environment, in a
    quarter of the time django.setup() takes.
    """
    code = f"from django.conf import settings; print(json.dumps({{n: getattr(settings, n) for n in {names!r}}}, default=str))"
    result = _run(_SETTINGS + code, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RATE_LIMIT_REQUESTS": "abc"}, "RATE_LIMIT_REQUESTS must be a whole number, got 'abc'"),
        ({"RATE_LIMIT_REQUESTS": "0"}, "RATE_LIMIT_REQUESTS must be at least 1"),
        ({"DEBUG": "maybe"}, "DEBUG must be true or false"),
        ({"ENVIRONMENT": "prod"}, "ENVIRONMENT must be one of"),
        ({"ENVIRONMENT": "production"}, "SECRET_KEY must be set when ENVIRONMENT=production"),
        ({"ALLOWED_ORIGINS": '["https://a.example",'}, "ALLOWED_ORIGINS is not valid JSON"),
        ({"DATABASE_URL": "mysql://u:p@h/db"}, "DATABASE_URL must be a URL starting with"),
        ({"REDIS_URL": "redis://h:port/0"}, "REDIS_URL has an invalid port"),
    ],
)
def test_a_malformed_variable_stops_start_up_naming_it(env, message):
    result = _run(_SETUP, **env)
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {message}" in result.stderr


def test_defaults_run_on_sqlite_local_memory_cache_and_in_process_channel_layer():
    loaded = load_settings("DATABASES", "CACHES", "CHANNEL_LAYERS", "DEBUG", "ENVIRONMENT")
    assert loaded["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert loaded["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert loaded["CHANNEL_LAYERS"]["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"
    assert loaded["ENVIRONMENT"] == "development"
    assert loaded["DEBUG"] is True


def test_database_url_switches_to_postgresql():
    loaded = load_settings("DATABASES", DATABASE_URL="postgres://u:p@127.0.0.1:5432/db")
    database = loaded["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["NAME"], database["USER"], database["PASSWORD"]) == ("db", "u", "p")
    assert (database["HOST"], database["PORT"]) == ("127.0.0.1", 5432)


def test_session_pooling_keeps_server_side_cursors_and_never_prepares_statements():
    loaded = load_settings("DATABASES", "DATABASE_POOLING", DATABASE_URL="postgres://u:p@127.0.0.1:5432/db")
    database = loaded["DATABASES"]["default"]
    assert loaded["DATABASE_POOLING"] == "session"
    assert database["DISABLE_SERVER_SIDE_CURSORS"] is False
    assert database["OPTIONS"]["prepare_threshold"] is None


def test_transaction_pooling_leaves_nothing_on_the_server_connection_past_a_transaction():
    loaded = load_settings(
        "DATABASES", "DATABASE_POOLING", DATABASE_URL="postgres://u:p@127.0.0.1:6432/db", DATABASE_POOLING="Transaction"
    )
    database = loaded["DATABASES"]["default"]
    assert loaded["DATABASE_POOLING"] == "transaction"
    assert database["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert database["OPTIONS"]["prepare_threshold"] is None
    assert database["OPTIONS"]["pool"]["max_size"] == 20  # the process's own pool stays, as PgBouncer's client


def test_database_pooling_takes_session_or_transaction_only():
    result = _run(_SETUP, DATABASE_POOLING="statement")
    assert result.returncode != 0
    assert "ImproperlyConfigured: DATABASE_POOLING must be one of session, transaction, got 'statement'" in result.stderr


def test_redis_url_switches_cache_and_channel_layer_to_redis_with_the_password():
    loaded = load_settings("CACHES", "CHANNEL_LAYERS", REDIS_URL="rediss://h:6380/0", REDIS_PASSWORD="s3cret")
    cache, layer = loaded["CACHES"]["default"], loaded["CHANNEL_LAYERS"]["default"]
    assert cache["BACKEND"] == "quickpoll.cache.SharedRedisCache"
    assert cache["LOCATION"] == "rediss://:s3cret@h:6380/0"
    assert layer["BACKEND"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert layer["CONFIG"]["hosts"][0]["address"] == "rediss://:s3cret@h:6380/0"


@pytest.mark.parametrize(
    "raw", ['["https://a.example", "https://b.example"]', "https://a.example,https://b.example"]
)
def test_allowed_origins_take_a_json_list_or_a_comma_list(raw):
    loaded = load_settings("CORS_ALLOWED_ORIGINS", ALLOWED_ORIGINS=raw)
    assert loaded["CORS_ALLOWED_ORIGINS"] == ["https://a.example", "https://b.example"]


def test_production_ignores_debug_and_turns_on_transport_security():
    loaded = load_settings(
        "DEBUG",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "ALLOWED_HOSTS",
        ENVIRONMENT="production",
        DEBUG="true",
        SECRET_KEY=get_random_string(60),
    )
    assert loaded["DEBUG"] is False
    assert loaded["SESSION_COOKIE_SECURE"] is True
    assert loaded["CSRF_COOKIE_SECURE"] is True
    assert loaded["SECURE_SSL_REDIRECT"] is True
    assert loaded["SECURE_HSTS_SECONDS"] == 31_536_000
    assert loaded["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    # Production serves no host until told which: no localhost fallback.
    assert loaded["ALLOWED_HOSTS"] == []


@pytest.mark.parametrize(
    "path",
    ["/health", "/health/"],
)
def test_production_answers_health_probes_over_plain_http(tmp_path, path):
    # Load balancers probe over plain HTTP behind the TLS proxy; everything else is sent to https.
    code = f"from django.test import Client; c = Client(); print(c.get({path!r}).status_code, c.get('/api/info').status_code)"
    result = _run(
        _SETUP + code,
        ENVIRONMENT="production",
        SECRET_KEY=get_random_string(60),
        ALLOWED_HOSTS="testserver",
        DATABASE_URL=f"sqlite:///{tmp_path / 'probe.sqlite3'}",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["200", "301"]


def test_production_passes_the_deployment_checklist():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=_env(ENVIRONMENT="production", SECRET_KEY=get_random_string(60), ALLOWED_HOSTS="example.com"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
