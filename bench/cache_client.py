"""What quickpoll.cache saves: cache.get through Django's RedisCache and through SharedRedisCache.

    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python -m bench.cache_client

Prints microseconds per call (best of a few rounds), in the two ways the server processes use
the cache: one cache object for many calls (a granian thread keeps its own), and a new cache
object for every few calls (under ASGI each request gets one). Not part of bench/run.
"""

import os
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quickpoll.settings")

import django  # noqa: E402

django.setup()

from django.core.cache.backends.redis import RedisCache  # noqa: E402

from quickpoll.cache import SharedRedisCache  # noqa: E402

CALLS = 3000
ROUNDS = 5
CALLS_PER_REQUEST = 5


def per_call(backend, *, new_cache_every: int | None) -> float:
    """Microseconds per cache.get, best of ROUNDS."""
    params = {"OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}
    best = float("inf")
    for _ in range(ROUNDS):
        cache = backend(os.environ["REDIS_URL"], params)
        cache.set("bench-cache-client", 1)
        started = time.perf_counter()
        for call in range(CALLS):
            if new_cache_every and call % new_cache_every == 0:
                cache = backend(os.environ["REDIS_URL"], params)
            cache.get("bench-cache-client")
        best = min(best, (time.perf_counter() - started) / CALLS * 1e6)
    return best


def main() -> None:
    for label, every in (("one cache object", None), (f"a new one every {CALLS_PER_REQUEST} calls", CALLS_PER_REQUEST)):
        django_us = per_call(RedisCache, new_cache_every=every)
        shared_us = per_call(SharedRedisCache, new_cache_every=every)
        print(f"{label:28s} RedisCache {django_us:6.0f} µs   SharedRedisCache {shared_us:6.0f} µs   "
              f"saved {django_us - shared_us:5.0f} µs per call")


if __name__ == "__main__":
    main()
