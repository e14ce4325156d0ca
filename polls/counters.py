"""A poll's counters (total_votes, likes_count, its options' vote_count) move only through here.

They move with F() in one UPDATE per row, never read-modify-write in Python, and every move
bumps the poll's results_version so that no one keeps serving results older than it.
"""

from typing import Mapping

from django.db.models import F

from polls import public_bodies
from polls.models import Option, Poll


def move_counters(poll_id, **deltas: int) -> None:
    """Move a poll's counters in one UPDATE and bump its results version."""
    changes = {field: F(field) + delta for field, delta in deltas.items()}
    Poll.objects.filter(pk=poll_id).update(results_version=F("results_version") + 1, **changes)
    public_bodies.forget_on_commit(poll_id)


def move_vote_counts(*, per_poll: Mapping, per_option: Mapping) -> None:
    """Move polls' total_votes and options' vote_count by these deltas (negative to take votes back)."""
    # Poll rows first, then options, each in id order: every writer takes the locks in that order.
    for poll_id, delta in sorted(per_poll.items()):
        move_counters(poll_id, total_votes=delta)
    for option_id, delta in sorted(per_option.items()):
        Option.objects.filter(pk=option_id).update(vote_count=F("vote_count") + delta)
