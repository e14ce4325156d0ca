"""How long voters' addresses and browsers are kept: until PERSONAL_DATA_RETENTION_DAYS after a poll closes.

Ballots keep the voter's IP address and user agent, likes the address, for one purpose: a moderator
handling abuse on a poll (a cluster of ballots from one network, a script's user agent). Once the
poll has been closed for the retention period, clear_expired_personal_data keeps at most the
network (/24 for IPv4, /48 for IPv6, enough to recognise a cluster) or nothing
(PERSONAL_DATA_ADDRESSES=drop), and drops the user agents. The clock process runs it hourly;
`manage.py clear_personal_data` runs it by hand.

The anonymous cap per address (polls.ballot_box) only counts ballots on open polls, so it never
sees a truncated address.
"""

import ipaddress
from collections import defaultdict
from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Func, GenericIPAddressField, Q, QuerySet
from django.utils import timezone

from polls.models import Answer, Ballot, Like, Poll

logger = structlog.get_logger(__name__)

IPV4_NETWORK_BITS = 24
IPV6_NETWORK_BITS = 48
_POLLS_PER_BATCH = 100


def network_of(address: str) -> str:
    """The first address of `address`'s /24 (IPv4) or /48 (IPv6) network, as the database stores it."""
    ip = ipaddress.ip_address(address)
    bits = IPV4_NETWORK_BITS if ip.version == 4 else IPV6_NETWORK_BITS
    return str(ipaddress.ip_network(f"{ip}/{bits}", strict=False).network_address)


class _NetworkOf(Func):
    """network_of in PostgreSQL, for an inet column: one UPDATE, whatever the number of rows."""

    template = (
        "host(network(set_masklen(%(expressions)s, "
        f"CASE WHEN family(%(expressions)s) = 4 THEN {IPV4_NETWORK_BITS} ELSE {IPV6_NETWORK_BITS} END)))::inet"
    )
    output_field = GenericIPAddressField()


def polls_due(*, now: datetime | None = None) -> QuerySet[Poll]:
    """Closed polls whose voters' data has been kept the whole retention period and not cut back since."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.PERSONAL_DATA_RETENTION_DAYS)

    def not_cleared_since(closing_field: str) -> Q:
        # A poll reopened after its data was cleared took new ballots; its next closing is later than the clearing.
        return Q(personal_data_cleared_at__isnull=True) | Q(personal_data_cleared_at__lt=F(closing_field))

    return Poll.objects.closed().filter(
        (Q(is_active=False, closed_at__lte=cutoff) & not_cleared_since("closed_at"))
        | (Q(expires_at__lte=cutoff) & not_cleared_since("expires_at"))
    )


def _cut_addresses(records: QuerySet) -> None:
    addressed = records.filter(ip_address__isnull=False)
    if settings.PERSONAL_DATA_ADDRESSES == "drop":
        addressed.update(ip_address=None)
    elif connection.vendor == "postgresql":
        addressed.update(ip_address=_NetworkOf(F("ip_address")))
    else:
        # SQLite stores addresses as text it cannot parse: one UPDATE per network found, not per row.
        by_network = defaultdict(set)
        for address in addressed.values_list("ip_address", flat=True).distinct():
            by_network[network_of(address)].add(address)
        for network, addresses in by_network.items():
            addressed.filter(ip_address__in=addresses - {network}).update(ip_address=network)


def clear_expired_personal_data(*, now: datetime | None = None) -> int:
    """Cut back the addresses and user agents of every poll due; returns how many polls. Safe to repeat."""
    now = now or timezone.now()
    cleared = 0
    while True:
        with transaction.atomic():
            poll_ids = list(polls_due(now=now).order_by("pk").values_list("pk", flat=True)[:_POLLS_PER_BATCH])
            if not poll_ids:
                break
            _cut_addresses(Ballot.objects.filter(poll_id__in=poll_ids))
            Ballot.objects.filter(poll_id__in=poll_ids).exclude(user_agent="").update(user_agent="")
            _cut_addresses(Like.objects.filter(poll_id__in=poll_ids))
            _cut_addresses(Answer.objects.filter(poll_id__in=poll_ids))
            Poll.objects.filter(pk__in=poll_ids).update(personal_data_cleared_at=now)
        cleared += len(poll_ids)
    if cleared:
        logger.info("personal_data_cleared", polls=cleared, addresses=settings.PERSONAL_DATA_ADDRESSES)
    return cleared
