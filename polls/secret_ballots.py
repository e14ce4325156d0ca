"""Secret ballots: a poll records *that* a voter took part apart from *what* they chose.

The participation row is the voter's Ballot, as in every poll: its unique constraints refuse a
second ballot. In a secret poll it carries no votes, the poll's own created_at rather than the
moment of voting, and no user agent (an address only where the anonymous cap needs one). The
choices go into a SealedBallot: a random id, the poll, a receipt code, the option ids; no key to
the Ballot or the user, no timestamp. polls.ballot_box writes both in the batch's transaction
(so counts stay exact), shuffling a batch's sealed rows.

What could still link the two in PostgreSQL is physical: rows written by one transaction share
its id (xmin), and new rows go to the end of the table (ctid), and so do the new versions of the
option rows whose counts moved. The clock therefore reseals (reseal_pending): it rewrites each
secret poll's new sealed rows in receipt order in a transaction of its own, touches the poll's
option rows, and vacuums both tables. docs/trust.md lists every channel and what remains.
"""

import secrets
from collections import Counter
from typing import Iterable

import structlog
from django.db import connection, transaction
from django.db.models import F, QuerySet

from polls.models import Option, Poll, SealedBallot

logger = structlog.get_logger(__name__)

# No 0/O, 1/I/L: a receipt is read off a screen and typed back.
RECEIPT_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
RECEIPT_LENGTH = 10
_shuffler = secrets.SystemRandom()


def new_receipt() -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))


def normalise_receipt(code: str) -> str:
    """As a voter may type it: any case, with spaces or dashes."""
    return "".join(str(code).split()).replace("-", "").upper()


def sealed_ballot(*, poll: Poll, options: Iterable[Option]) -> SealedBallot:
    """The choices of one secret ballot, with a fresh receipt."""
    return SealedBallot(poll=poll, receipt=new_receipt(), option_ids=sorted(str(option.pk) for option in options))


def participation_fields(*, poll: Poll, ip_address: str | None, anonymous: bool) -> dict:
    """What a secret poll's Ballot keeps: no time finer than the poll's, no browser, an address
    only for an anonymous voter (the per-address cap counts it)."""
    return {"created_at": poll.created_at, "user_agent": "", "ip_address": ip_address if anonymous else None}


def shuffled(rows: list) -> list:
    """A batch's sealed rows in an order unrelated to its participation rows'."""
    rows = list(rows)
    _shuffler.shuffle(rows)
    return rows


def ballots_of(poll: Poll) -> QuerySet[SealedBallot]:
    """The anonymised ballot list, in receipt order (unrelated to the order of voting)."""
    return SealedBallot.objects.filter(poll=poll).order_by("receipt")


def find_receipt(*, poll: Poll, code: str) -> SealedBallot | None:
    return ballots_of(poll).filter(receipt=normalise_receipt(code)).first()


def listed_ballot(sealed: SealedBallot, texts: dict) -> dict:
    """One row of the ballot list: the receipt and the options' ids and texts (option_texts), in the poll's order."""
    picked = set(sealed.option_ids)
    options = [{"id": option_id, "text": text} for option_id, text in texts.items() if option_id in picked]
    return {"receipt": sealed.receipt, "options": options}


def option_texts(poll: Poll) -> dict:
    """Option id (as a string) → text, in the poll's order."""
    options = Option.objects.filter(poll=poll).order_by("position").values_list("pk", "text")
    return {str(pk): text for pk, text in options}


def drop_options(option_ids: Iterable) -> Counter:
    """Take removed options out of the sealed ballots that picked them; returns per poll how many
    picks went, for the poll's total. Ballots left empty stay: someone took part."""
    wanted = {str(option_id) for option_id in option_ids}
    polls = Option.objects.filter(pk__in=wanted).order_by().values_list("poll_id", flat=True).distinct()
    taken = Counter()
    for sealed in SealedBallot.objects.select_for_update().filter(poll_id__in=list(polls)):
        kept = [option_id for option_id in sealed.option_ids if option_id not in wanted]
        if len(kept) != len(sealed.option_ids):
            taken[sealed.poll_id] += len(sealed.option_ids) - len(kept)
            SealedBallot.objects.filter(pk=sealed.pk).update(option_ids=kept)
    return taken


# --- Resealing (the clock) --------------------------------------------------------------------------


def reseal(poll_id) -> int:
    """Rewrite a poll's sealed ballots in receipt order, in this transaction, and touch its options.

    Afterwards every sealed row of the poll carries this transaction's id and sits on disk in
    receipt order, so neither says which ballot came with which participation row; the options'
    rows no longer carry the id of the last transaction that counted a pick. Returns the rows rewritten.
    """
    with transaction.atomic():
        # The poll row first, as every writer of its counters: ballots wait for the rewrite, not the reverse.
        Poll.objects.select_for_update(no_key=True).filter(pk=poll_id).values_list("pk").first()
        rows = list(SealedBallot.objects.filter(poll_id=poll_id).order_by("receipt"))
        if not rows:
            return 0
        SealedBallot.objects.filter(pk__in=[row.pk for row in rows]).delete()
        SealedBallot.objects.bulk_create(
            SealedBallot(poll_id=poll_id, receipt=row.receipt, option_ids=row.option_ids, resealed=True) for row in rows
        )
        for option_id in Option.objects.filter(poll_id=poll_id).order_by("pk").values_list("pk", flat=True):
            Option.objects.filter(pk=option_id).update(vote_count=F("vote_count"))
    return len(rows)


def reseal_pending() -> int:
    """Reseal every secret poll with ballots written since the last reseal; then vacuum, so the old
    row versions (with their transaction ids) are gone from the tables. Returns the polls resealed."""
    poll_ids = list(SealedBallot.objects.filter(resealed=False).order_by().values_list("poll_id", flat=True).distinct())
    for poll_id in sorted(poll_ids):
        reseal(poll_id)
    if poll_ids and connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM {SealedBallot._meta.db_table}, {Option._meta.db_table}")
    if poll_ids:
        logger.info("secret_ballots_resealed", polls=len(poll_ids))
    return len(poll_ids)
