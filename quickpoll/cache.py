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

import threading

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
