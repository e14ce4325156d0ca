"""A poll's counters (total_votes, likes_count, its options' vote_count) move only through here.

They move with F() in one UPDATE per row, never read-modify-write in Python, and every move
bumps the poll's results_version so that no one keeps serving results older than it.
"""

from typing import Mapping

from django.db.models import F

from polls import public_bodies
from polls.models import Option, Poll


def ranking_of(options) -> str:
    """What Ballot.ranking holds for options in a voter's order: their positions, first preference first."""
    return ".".join(str(option.position) for option in options)


def move_counters(poll_id, **deltas: int) -> None:
    """Move a poll's counters in one UPDATE and bump its results version."""
    changes = {field: F(field) + delta for field, delta in deltas.items()}
    Poll.objects.filter(pk=poll_id).update(results_version=F("results_version") + 1, **changes)
    public_bodies.forget_on_commit(poll_id)


def move_vote_counts(*, per_poll: Mapping, per_option: Mapping, per_option_score: Mapping | None = None) -> None:
    """Move polls' total_votes, options' vote_count and score_sum by these deltas (negative to take votes back).

    What they count depends on the poll's method: total_votes is options picked in single and approval
    polls, ballots in ranked and score polls (Poll.counts_ballots); vote_count is picks, a ranked poll's
    first preferences, a score poll's ratings; score_sum the scores given."""
    per_option_score = per_option_score or {}
    # Poll rows first, then options, each in id order: every writer takes the locks in that order.
    for poll_id, delta in sorted(per_poll.items()):
        move_counters(poll_id, total_votes=delta)
    for option_id in sorted(set(per_option) | set(per_option_score)):
        changes = {"vote_count": F("vote_count") + per_option.get(option_id, 0)}
        if per_option_score.get(option_id):
            changes["score_sum"] = F("score_sum") + per_option_score[option_id]
        Option.objects.filter(pk=option_id).update(**changes)
