"""Poll view counts without a database write per view.

Views accumulate in the cache and reach Poll.views_count in batches, so a poll
read on the hot path costs no write. A restart may drop fewer than one batch of
views per poll: views are a popularity signal, not a ledger.
"""

import logging

from django.core.cache import cache
from django.db.models import F

from polls.models import Poll

logger = logging.getLogger(__name__)

VIEWS_PER_WRITE = 25


def record_view(poll: Poll) -> None:
    key = f"poll-views:{poll.pk}"
    try:
        # add() then incr() is atomic in Redis and within one process in local memory.
        pending = 1 if cache.add(key, 1, timeout=None) else cache.incr(key)
    except Exception:
        logger.warning("could not count a view of poll %s", poll.pk, exc_info=True)
        return
    if pending % VIEWS_PER_WRITE == 0:
        Poll.objects.filter(pk=poll.pk).update(views_count=F("views_count") + VIEWS_PER_WRITE)
