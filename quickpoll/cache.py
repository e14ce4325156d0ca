"""Django's Redis cache, with one Redis client per server for the whole process.

Django's own backend builds a new redis.Redis for every cache call, and under ASGI a
new connection pool for every request (each runs in a thread of its own). Building a
client copies a table of response callbacks: about a third of a millisecond, several
times per vote. A redis.Redis on a connection pool is safe to share between threads.
"""

import threading

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

_clients: dict = {}
_clients_lock = threading.Lock()


class SharedRedisCacheClient(RedisCacheClient):
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
        self._class = SharedRedisCacheClient
