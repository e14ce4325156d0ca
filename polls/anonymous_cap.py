"""ANONYMOUS_BALLOTS_PER_IP: at most so many anonymous ballots, and as many anonymous likes, from one
address on one poll. Fresh anon ids cost nothing, so the address is what an anonymous voter cannot
multiply at will. Simultaneous requests must not all take the last place: each writer locks its poll
and address (lock_addresses) before counting what stands (taken_places), and holds the lock to its commit.
"""

import hashlib
from collections import Counter

from django.conf import settings
from django.db import connection
from django.db.models import Count, Model, Q

from polls.models import Ballot
from polls.voters import Voter

_address_field = Ballot._meta.get_field("ip_address")  # ballots and likes record addresses alike (VoterRecord)


def capped_address(voter: Voter) -> str | None:
    """The address whose anonymous ballots and likes are capped, if this voter's count against one."""
    if not voter.is_anonymous or not voter.ip_address:
        return None
    return _address_field.get_prep_value(voter.ip_address)  # as the database spells it back


def lock_addresses(model: type[Model], addresses: dict) -> None:
    """Wait until no other transaction is writing anonymous `model` rows from these addresses on these
    polls (`addresses` maps a poll id to a set of addresses)."""
    if connection.vendor != "postgresql":
        return  # SQLite's write transactions (transaction_mode IMMEDIATE) already run one at a time
    keys = sorted(
        int.from_bytes(
            hashlib.blake2b(f"{model._meta.label} {poll_id} {address}".encode(), digest_size=8).digest(),
            "big",
            signed=True,
        )
        for poll_id, polls_addresses in addresses.items()
        for address in polls_addresses
    )
    # Every writer of anonymous rows takes this lock before counting and holds it to its commit, so
    # the count (a statement of its own: a snapshot is taken as a statement starts, not after it waits)
    # sees every such row committed before. Per kind, poll and address rather than the poll row: account
    # voters, other addresses and the other kind never wait for it. Keys in order: no two writers deadlock.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(key) FROM unnest(%s::bigint[]) AS key", [keys])


def taken_places(model: type[Model], addresses: dict) -> Counter:
    """How many anonymous `model` rows stand per (poll id, address); call it under lock_addresses."""
    on_these_addresses = Q()
    for poll_id, polls_addresses in addresses.items():
        on_these_addresses |= Q(poll_id=poll_id, ip_address__in=polls_addresses)
    stored = (
        model.objects.filter(on_these_addresses, user__isnull=True)
        .order_by()
        .values_list("poll_id", "ip_address")
        .annotate(Count("pk"))
    )
    return Counter({(poll_id, address): count for poll_id, address, count in stored})


def has_place(model: type[Model], *, poll_id, voter: Voter) -> bool:
    """Whether one more anonymous `model` row from this voter's address fits on the poll; holds the
    address's lock to the end of the caller's transaction, so the row it writes next is counted by the next."""
    address = capped_address(voter)
    if address is None:
        return True
    addresses = {poll_id: {address}}
    lock_addresses(model, addresses)
    return taken_places(model, addresses)[(poll_id, address)] < settings.ANONYMOUS_BALLOTS_PER_IP
