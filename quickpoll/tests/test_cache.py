"""quickpoll.cache leans on private parts of Django's Redis cache; these fail when upstream changes them.

No Redis is needed for those: redis-py connects on the first command, and they send none. The rate-limit
counters' own tests need it (CI has it).
"""

import secrets
import threading

import pytest
import redis
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django_ratelimit.core import get_usage

from quickpoll.cache import SharedRedisCache, SharedRedisCacheClient

SERVERS = ["redis://127.0.0.1:1/9", "redis://127.0.0.1:2/9"]  # a primary and a replica, never reached
PARAMS = {"OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}


def test_djangos_client_has_the_internals_the_shared_client_uses():
    client = RedisCacheClient(SERVERS, socket_timeout=1)

    assert client._servers == SERVERS
    assert client._get_connection_pool_index(True) == 0  # writes go to the first server
    assert client._get_connection_pool_index(False) == 1  # reads to a replica
    assert client._pool_class is redis.ConnectionPool
    assert client._client is redis.Redis
    assert client._pool_options["socket_timeout"] == 1 and "parser_class" in client._pool_options


def test_djangos_client_still_builds_a_client_per_call_so_sharing_one_still_pays():
    client = RedisCacheClient(SERVERS[:1])

    assert client.get_client() is not client.get_client()


def test_the_cache_builds_its_client_from_the_class_it_is_given():
    assert isinstance(SharedRedisCache(SERVERS[0], PARAMS)._cache, SharedRedisCacheClient)


def test_one_client_per_server_for_every_cache_object_and_thread():
    from_threads = []

    def in_a_thread():
        from_threads.append(SharedRedisCache(SERVERS[0], PARAMS)._cache.get_client(write=True))

    thread = threading.Thread(target=in_a_thread)
    thread.start()
    thread.join()

    assert SharedRedisCache(SERVERS[0], PARAMS)._cache.get_client() is from_threads[0]


def settings_of(client: redis.Redis) -> dict:
    """How a client's pool connects: its options, leaving out the helper objects each pool makes anew."""
    return {
        name: value
        for name, value in client.connection_pool.connection_kwargs.items()
        if value is None or isinstance(value, (str, int, float, type))
    }


def test_the_shared_client_connects_as_djangos_own_would():
    shared = SharedRedisCache(SERVERS[1], PARAMS)._cache.get_client()
    django_own = RedisCache(SERVERS[1], PARAMS)._cache.get_client()

    assert settings_of(shared) == settings_of(django_own)
    assert settings_of(shared)["socket_timeout"] == 1
    assert shared.connection_pool.connection_class is django_own.connection_pool.connection_class


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis (CI has it)")
def test_rate_limit_counters_count_once_per_round_trip_and_live_as_long_as_asked(monkeypatch):
    counters = caches["ratelimit"]
    key = f"test-counter-{secrets.token_hex(8)}"
    single_commands = []
    monkeypatch.setattr(redis.Redis, "execute_command", lambda *args, **kwargs: single_commands.append(args))

    counts = []
    for _ in range(3):
        assert counters.add(key, 1, 30) is False  # as django-ratelimit calls it, then incr()
        counts.append(counters.incr(key))
    monkeypatch.undo()

    assert counts == [1, 2, 3]
    assert single_commands == []  # each count was one pipeline, nothing more
    assert 0 < counters._cache.get_client().ttl(counters.make_and_validate_key(key)) <= 30
    assert counters.get(key) == 3


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis (CI has it)")
def test_django_ratelimit_counts_through_them(rf, settings):
    settings.RATELIMIT_ENABLE = True
    request = rf.get("/api/polls", REMOTE_ADDR=f"198.51.100.{secrets.randbelow(250)}")
    group = f"test-{secrets.token_hex(4)}"

    usages = [get_usage(request, group=group, key="ip", rate=(2, 60), increment=True) for _ in range(3)]

    assert [usage["count"] for usage in usages] == [1, 2, 3]
    assert [usage["should_limit"] for usage in usages] == [False, False, True]
