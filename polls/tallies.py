"""A ranked, score or open-text poll's full count, read in one consistent snapshot: a ranked poll's ballots
grouped by Ballot.ranking, a score poll's Vote rows grouped by option and score, an open-text poll's visible
answers grouped by key.

polls.counting does the arithmetic on option indexes (0, 1, … in the poll's order); this module reads
the ballots, hands them over and names the options again. polls.selectors.full_results caches what it
returns per results version, so a poll is counted once per change, not once per reader.
"""

import math
from collections import Counter

from django.db import connection, transaction
from django.db.models import Count

from polls import counting
from polls.models import Answer, Ballot, Option, Poll, Vote


def count(poll: Poll) -> dict:
    """The results of a ranked, score or open-text poll: the counter-shaped part (options, total_votes) and
    the method's own block (`ranked`, `score` or `answers`), all from one read of its ballots or answers."""
    with transaction.atomic():
        # Only the transaction's first statement may set its isolation: not inside someone else's transaction.
        if connection.vendor == "postgresql" and not connection.savepoint_ids:
            # One snapshot for the options and every ballot: a vote landing mid-count waits for the next version.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        if poll.takes_answers:
            return _answers(poll)
        options = list(Option.objects.filter(poll=poll).order_by("position").values_list("pk", "text", "position"))
        if poll.method == Poll.Method.RANKED:
            return _ranked(poll, options)
        return _scores(poll, options)


def score_row(poll: Poll, *, pk, text: str, ratings: int, mean: float | None) -> dict:
    """One option of a score poll's results; its percentage is the mean as a share of the top score (its bar)."""
    return {
        "id": str(pk),
        "text": text,
        "votes": ratings,
        "mean": round(mean, 2) if mean is not None else None,
        "percentage": round(100 * mean / poll.score_max, 1) if mean is not None else 0.0,
    }


def _rankings(poll: Poll, index_of_position: dict) -> Counter:
    """How many ballots hold each ranking (a tuple of option indexes, first preference first).

    Grouped in the database from Ballot.ranking: one row per distinct ranking, not one per ranked option."""
    rows = Ballot.objects.filter(poll=poll).exclude(ranking="").values("ranking").annotate(n=Count("pk"))
    return Counter(
        {
            tuple(index_of_position[int(position)] for position in ranking.split(".")): n
            for ranking, n in rows.values_list("ranking", "n")
        }
    )


def _ranked(poll: Poll, options: list) -> dict:
    index_of_position = {position: index for index, (_, _, position) in enumerate(options)}
    ids = [str(pk) for pk, _, _ in options]
    texts = [text for _, text, _ in options]
    rankings = _rankings(poll, index_of_position)
    runoff = counting.instant_runoff(rankings, len(options))
    matrix = counting.pairwise(rankings, len(options))
    condorcet = counting.condorcet_winner(matrix) if runoff.ballots else None

    def named(index: int) -> dict:
        return {"id": ids[index], "text": texts[index]}

    def tallied(counts: dict) -> list[dict]:
        return [named(index) | {"votes": votes} for index, votes in sorted(counts.items())]

    ballots = runoff.ballots
    return {
        "method": poll.method,
        "total_votes": ballots,
        "options": [
            named(index) | {"votes": votes, "percentage": round(100 * votes / ballots, 1) if ballots else 0.0}
            for index, votes in sorted(runoff.first_preferences.items())
        ],
        "ranked": {
            "ballots": ballots,
            "winner": ids[runoff.winner] if runoff.winner is not None else None,
            "condorcet_winner": ids[condorcet] if condorcet is not None else None,
            "exhausted": runoff.rounds[-1].exhausted if runoff.rounds else 0,
            "rounds": [
                {
                    "number": one.number,
                    "tallies": tallied(one.tallies),
                    "eliminated": named(one.eliminated) if one.eliminated is not None else None,
                    "tie_broken_by": one.tie_broken_by,
                    "transfers": tallied(one.transfers),
                    "exhausted_now": one.exhausted_now,
                    "exhausted": one.exhausted,
                }
                for one in runoff.rounds
            ],
            "pairwise": [
                named(index) | {"beats": {ids[other]: matrix[index][other] for other in range(len(ids)) if other != index}}
                for index in range(len(ids))
            ],
        },
    }


def _scores(poll: Poll, options: list) -> dict:
    index_of = {pk: index for index, (pk, _, _) in enumerate(options)}
    votes = Vote.objects.filter(poll=poll, score__isnull=False)
    ballots = votes.values("ballot_id").distinct().count()
    ratings = votes.values("option_id", "score").annotate(n=Count("pk")).values_list("option_id", "score", "n")
    result = counting.score_results(
        {(index_of[option_id], score): n for option_id, score, n in ratings},
        len(options),
        lowest=poll.score_min,
        highest=poll.score_max,
    )
    rows = [
        score_row(poll, pk=pk, text=text, ratings=sum(result.distribution[index]), mean=result.means[index])
        for index, (pk, text, _) in enumerate(options)
    ]
    return {
        "method": poll.method,
        "total_votes": ballots,
        "options": rows,
        "score": {
            "min": poll.score_min,
            "max": poll.score_max,
            "ballots": ballots,
            "options": [row | {"distribution": result.distribution[index]} for index, row in enumerate(rows)],
        },
    }


# Groups an open-text poll's results carry, most answers first: a cloud of more is unreadable anyway.
ANSWER_GROUPS_SHOWN = 100
CLOUD_WEIGHTS = 5


def _weight(count: int, most: int) -> int:
    """1..CLOUD_WEIGHTS on a log scale, so one runaway answer does not shrink every other to nothing."""
    if most <= 1:
        return 3
    return 1 + round((CLOUD_WEIGHTS - 1) * math.log(count) / math.log(most))


def _answers(poll: Poll) -> dict:
    visible = Answer.objects.filter(poll=poll, hidden=False)
    groups = list(visible.values("key").annotate(n=Count("pk")).order_by("-n", "key")[:ANSWER_GROUPS_SHOWN])
    spellings = Counter()
    for key, text, n in (
        visible.filter(key__in=[group["key"] for group in groups]).values_list("key", "text").annotate(n=Count("pk"))
    ):
        spellings[key, text] = n
    shown = {}  # each group under its most common spelling; ties to the first in alphabetical order
    for (key, text), n in sorted(spellings.items(), key=lambda item: (-item[1], item[0][1])):
        shown.setdefault(key, text)
    answers = sum(group["n"] for group in visible.values("key").annotate(n=Count("pk")))
    most = groups[0]["n"] if groups else 0
    return {
        "method": poll.method,
        "total_votes": answers,
        "options": [],
        "answers": {
            "answers": answers,
            "voters": visible.values("user_id", "anon_id").distinct().count(),
            "groups": [
                {"key": group["key"], "text": shown[group["key"]], "count": group["n"], "weight": _weight(group["n"], most)}
                for group in groups
            ],
        },
    }
