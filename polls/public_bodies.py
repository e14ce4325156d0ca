"""What a visitor with no account and no ballot sees of a poll (its body, its full results), cached for a moment.

Every such visitor of a poll gets the same answer, so a poll on a live stream is
read from the database about once per change, not once per viewer. Each change
made through polls.services drops the copy when it commits; a read that raced a
change may put back the older answer, which then lives at most BODY_SECONDS.
The cache failing (Redis down) only means reading the database again.

In front of that shared copy, each process keeps the answers it served for LOCAL_SECONDS, encoded
as JSON: a popular poll's readers then cost no round trip to Redis and no encoding (the API serves
them before DRF, polls.api.PollViewSet.dispatch). A change drops the process's own copy when it
commits, and the other processes' copies expire within LOCAL_SECONDS.
"""

import logging
import time

from django.core.cache import cache
from django.db import transaction
from rest_framework.renderers import JSONRenderer

from quickpoll import metrics

logger = logging.getLogger(__name__)

BODY_SECONDS = 2
LOCAL_SECONDS = 1.0
LOCAL_ENTRIES = 5000  # past this many, the process's copies are dropped together

KINDS = ("body", "results")

_local: dict[str, tuple[float, dict, bytes]] = {}  # key: (expires, body, its JSON), as the API renders it


def _key(poll_id, kind: str) -> str:
    # One key per poll however its id was spelled in the URL (upper or lower case).
    return f"poll-public-{kind}:{str(poll_id).lower()}"


def _keep_locally(key: str, body: dict) -> tuple[float, dict, bytes]:
    if len(_local) >= LOCAL_ENTRIES:
        _local.clear()
    kept = _local[key] = (time.monotonic() + LOCAL_SECONDS, body, JSONRenderer().render(body))
    return kept


def _kept_here(key: str, kind: str) -> tuple[float, dict, bytes] | None:
    kept = _local.get(key)
    if kept is None or kept[0] <= time.monotonic():
        return None
    metrics.poll_cache_lookups.labels(kind=kind, result="hit").inc()
    return kept


def _lookup(poll_id, kind: str) -> tuple[float, dict, bytes] | None:
    key = _key(poll_id, kind)
    kept = _kept_here(key, kind)
    if kept is not None:
        return kept
    try:
        body = cache.get(key)
    except Exception:
        logger.warning("cached poll %s unreadable", poll_id, exc_info=True)
        metrics.poll_cache_lookups.labels(kind=kind, result="error").inc()
        return None
    metrics.poll_cache_lookups.labels(kind=kind, result="miss" if body is None else "hit").inc()
    return None if body is None else _keep_locally(key, body)


def get(poll_id, kind: str = "body") -> dict | None:
    kept = _lookup(poll_id, kind)
    return None if kept is None else kept[1]


def encoded_here(poll_id, kind: str = "body") -> bytes | None:
    """The answer as the API sends it (JSON) if this process holds it, or None (then get() looks further)."""
    kept = _kept_here(_key(poll_id, kind), kind)
    return None if kept is None else kept[2]


def put(poll_id, body: dict, kind: str = "body") -> None:
    key = _key(poll_id, kind)
    _keep_locally(key, body)
    try:
        cache.set(key, body, BODY_SECONDS)
    except Exception:
        logger.warning("poll %s not cached", poll_id, exc_info=True)


def clear_local() -> None:
    """Drop this process's copies (each test starts from none)."""
    _local.clear()


def forget_on_commit(poll_id) -> None:
    def forget():
        keys = [_key(poll_id, kind) for kind in KINDS]
        for key in keys:
            _local.pop(key, None)
        try:
            cache.delete_many(keys)
        except Exception:
            logger.warning("cached poll %s not dropped; it expires by itself", poll_id, exc_info=True)

    transaction.on_commit(forget)
