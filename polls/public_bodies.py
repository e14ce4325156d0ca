"""What a visitor with no account and no ballot sees of a poll (its body, its full results), cached for a moment.

Every such visitor of a poll gets the same answer, so a poll on a live stream is
read from the database about once per change, not once per viewer. Each change
made through polls.services drops the copy when it commits; a read that raced a
change may put back the older answer, which then lives at most BODY_SECONDS.
The cache failing (Redis down) only means reading the database again.

In front of that shared copy, each process keeps the answers it served for LOCAL_SECONDS, encoded
as JSON: a popular poll's readers then cost no round trip to Redis and no encoding (the API serves
them before DRF, polls.api.PollViewSet.dispatch). It keeps the poll page such visitors get as well
(polls.views.poll_detail), which is rendered once per LOCAL_SECONDS instead of once per visitor.
A change drops the process's own copies when it commits, and the other processes' copies expire
within LOCAL_SECONDS.
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
# The poll page as such a visitor sees it (polls.views.poll_detail), per way of asking for it (address, language, time
# zone), with a slot for each visitor's own CSRF token; and each poll's pages, to drop them together.
_pages: dict[tuple, tuple[float, object, str]] = {}  # (poll ref, way): (expires, the poll, the page)
_pages_of: dict[str, set] = {}


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


def page_here(key: tuple) -> tuple[object, str] | None:
    """(the poll, its page) if this process holds the page under `key`, or None."""
    kept = _pages.get(key)
    if kept is None or kept[0] <= time.monotonic():
        return None
    metrics.poll_cache_lookups.labels(kind="page", result="hit").inc()
    return kept[1], kept[2]


def keep_page(key: tuple, poll, page: str) -> None:
    """Keep a page just rendered because none was held (a miss)."""
    metrics.poll_cache_lookups.labels(kind="page", result="miss").inc()
    if len(_pages) >= LOCAL_ENTRIES:
        _forget_pages()
    _pages[key] = (time.monotonic() + LOCAL_SECONDS, poll, page)
    _pages_of.setdefault(str(poll.pk), set()).add(key)


def _forget_pages(poll_id=None) -> None:
    if poll_id is None:
        _pages.clear()
        _pages_of.clear()
        return
    for key in _pages_of.pop(str(poll_id).lower(), ()):
        _pages.pop(key, None)


def clear_local() -> None:
    """Drop this process's copies (each test starts from none)."""
    _local.clear()
    _forget_pages()


def forget_on_commit(poll_id) -> None:
    keys = [_key(poll_id, kind) for kind in KINDS]

    def forget_here():
        for key in keys:
            _local.pop(key, None)
        _forget_pages(poll_id)

    def forget():
        forget_here()
        try:
            cache.delete_many(keys)
        except Exception:
            logger.warning("cached poll %s not dropped; it expires by itself", poll_id, exc_info=True)

    # This process's copies go at once too: the changing request never reads them back (nor a test, where nothing commits).
    forget_here()
    transaction.on_commit(forget)
