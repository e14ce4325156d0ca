"""Django's Redis cache, with one Redis client per server for the whole process.

Django's own backend builds a new redis.Redis for every cache call, and under ASGI a
new connection pool for every request (each runs in a thread of its own). Building a
client copies a table of response callbacks. Measured with bench/cache_client.py
(redis-py 8.1, Django 5.2): a cache.get costs about 300 µs with Django's client and
70 µs with this one, and a vote makes several. A redis.Redis on a connection pool is
safe to share between threads.

Django offers no public way to choose the client, so this is the one place that leans
on RedisCacheClient's internals: Django is pinned below 5.3 in pyproject.toml, and
quickpoll/tests/test_cache.py fails when those internals change.
"""

import logging
import threading

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

_clients: dict = {}
_clients_lock = threading.Lock()


class SharedRedisCacheClient(RedisCacheClient):
    # Private upstream (Django 5.2, pinned <5.3): _servers, _get_connection_pool_index, _pool_class,
    # _pool_options and _client, as RedisCacheClient._get_connection_pool and get_client use them.
    def get_client(self, key=None, *, write=False):
        server = self._servers[self._get_connection_pool_index(write)]
        client = _clients.get(server)
        if client is None:
            with _clients_lock:
                if server not in _clients:
                    pool = self._pool_class.from_url(server, **self._pool_options)
                    _clients[server] = self._client(connection_pool=pool)
                client = _clients[server]
        return client


class SharedRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedRedisCacheClient  # private upstream too: the client class RedisCache._cache builds

    def count_in_window(self, keys: list[str], *, window: int) -> list[int]:
        """Add one to each counter in one Redis round trip; a counter first seen expires after `window` seconds.

        The values stay readable by get_many: Django's Redis serializer stores integers as they are.
        """
        pipe = self._cache.get_client(write=True).pipeline(transaction=False)
        for key in keys:
            full_key = self.make_and_validate_key(key)
            pipe.set(full_key, 0, ex=window, nx=True)
            pipe.incr(full_key)
        return pipe.execute()[1::2]


class RateLimitCounters(SharedRedisCache):
    """The cache django-ratelimit counts in (RATELIMIT_USE_CACHE): one Redis round trip per count, not two.

    django-ratelimit adds a counter (SET NX) and, every time but a window's first, increments it: two round
    trips for each /api/ request, as many as the rest of a cached read costs. Here add() only notes the lifetime
    it was given and answers "not added", so django-ratelimit goes on to incr(), which creates the counter with
    that lifetime and increments it in one pipeline. Reading a count (get) is Django's own.
    """

    _lifetime = threading.local()  # add() and the incr() after it run in the same thread

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._lifetime.seconds = self.get_backend_timeout(timeout)
        return False

    def incr(self, key, delta=1, version=None):
        seconds = getattr(self._lifetime, "seconds", None)
        if not seconds:
            return super().incr(key, delta, version)
        full_key = self.make_and_validate_key(key, version=version)
        pipe = self._cache.get_client(write=True).pipeline(transaction=False)
        pipe.set(full_key, 0, ex=seconds, nx=True)
        pipe.incrby(full_key, delta)
        return pipe.execute()[1]


def count_in_window(cache, keys: list[str], *, window: int) -> list[int]:
    """Add one to each of `keys` (counters that start at 0 and expire `window` seconds after their first count).

    One round trip on Redis (the vote path pays for every one); on other caches, add then incr per key.
    """
    if isinstance(cache, SharedRedisCache):
        return cache.count_in_window(keys, window=window)
    counts = []
    for key in keys:
        cache.add(key, 0, timeout=window)
        try:
            counts.append(cache.incr(key))
        except ValueError:  # expired between add and incr: this is its first count
            cache.set(key, 1, timeout=window)
            counts.append(1)
    return counts


def cached_or_made(cache, key: str, make, *, timeout: int, what: str):
    """The value cached under `key`, or `make()`'s, cached for the next reader. An unreachable cache only costs
    the making again (as quickpoll.ratelimits fails open): it never fails the request."""
    try:
        value = cache.get(key)
    except Exception:
        logging.getLogger(__name__).warning("%s unreadable from the cache", what, exc_info=True)
        value = None
    if value is None:
        value = make()
        try:
            cache.set(key, value, timeout)
        except Exception:
            logging.getLogger(__name__).warning("%s not cached", what, exc_info=True)
    return value
