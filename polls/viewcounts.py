"""Poll view counts, kept off the read path.

In a production HTTP process (PollsConfig.ready() starts the flusher when
settings.BACKGROUND_THREADS is on, as bin/production sets it) views add up in
memory and reach Poll.views_count every FLUSH_INTERVAL seconds, one UPDATE per poll
viewed, so reading a poll writes nothing. A process that dies without warning loses
at most that many seconds of its views: views are a popularity signal, not a ledger.
Without the flusher (the development server, tests) each view is written at once.
"""

import atexit
import logging
import threading
import time
from collections import Counter

from django.db import connection
from django.db.models import F

from polls.models import Poll

logger = logging.getLogger(__name__)

FLUSH_INTERVAL = 10.0  # seconds
THREAD_NAME = "quickpoll-view-counts"

_pending: Counter = Counter()
_lock = threading.Lock()
_flusher: threading.Thread | None = None


def record_view(poll_id) -> None:
    if _flusher is None:
        Poll.objects.filter(pk=poll_id).update(views_count=F("views_count") + 1)
        return
    with _lock:
        _pending[str(poll_id)] += 1


def flush_views() -> int:
    """Write the views counted since the last flush; how many polls were updated."""
    global _pending
    with _lock:
        pending, _pending = _pending, Counter()
    try:
        for poll_id, views in sorted(pending.items()):
            Poll.objects.filter(pk=poll_id).update(views_count=F("views_count") + views)
    except Exception:
        logger.warning("could not write the view counts of %d polls; dropped", len(pending), exc_info=True)
    return len(pending)


def start_flusher() -> None:
    global _flusher
    if _flusher is not None:
        return

    def run() -> None:
        while True:
            time.sleep(FLUSH_INTERVAL)
            flush_views()
            connection.close()  # back to the pool until the next flush

    _flusher = threading.Thread(target=run, name=THREAD_NAME, daemon=True)
    _flusher.start()
    atexit.register(flush_views)
