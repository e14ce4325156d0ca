"""What a visitor with no account and no ballot sees of a poll (its body, its full results), cached for a moment.

Every such visitor of a poll gets the same answer, so a poll on a live stream is
read from the database about once per change, not once per viewer. Each change
made through polls.services drops the copy when it commits; a read that raced a
change may put back the older answer, which then lives at most BODY_SECONDS.
The cache failing (Redis down) only means reading the database again.
"""

import logging

from django.core.cache import cache
from django.db import transaction

from quickpoll import metrics

logger = logging.getLogger(__name__)

BODY_SECONDS = 2


KINDS = ("body", "results")


def _key(poll_id, kind: str) -> str:
    # One key per poll however its id was spelled in the URL (upper or lower case).
    return f"poll-public-{kind}:{str(poll_id).lower()}"


def get(poll_id, kind: str = "body") -> dict | None:
    try:
        body = cache.get(_key(poll_id, kind))
    except Exception:
        logger.warning("cached poll %s unreadable", poll_id, exc_info=True)
        metrics.poll_cache_lookups.labels(kind=kind, result="error").inc()
        return None
    metrics.poll_cache_lookups.labels(kind=kind, result="miss" if body is None else "hit").inc()
    return body


def put(poll_id, body: dict, kind: str = "body") -> None:
    try:
        cache.set(_key(poll_id, kind), body, BODY_SECONDS)
    except Exception:
        logger.warning("poll %s not cached", poll_id, exc_info=True)


def forget_on_commit(poll_id) -> None:
    def forget():
        try:
            cache.delete_many([_key(poll_id, kind) for kind in KINDS])
        except Exception:
            logger.warning("cached poll %s not dropped; it expires by itself", poll_id, exc_info=True)

    transaction.on_commit(forget)
