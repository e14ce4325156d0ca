"""Counting ranked and score ballots: pure functions of the ballots, no database.

Options are identified by their position in the poll (0, 1, …), which is also the tie-break order.

Instant-runoff (IRV): each round counts every ballot for its highest-ranked option still in the race.
An option with more than half of the ballots still counting wins. Otherwise the option with the fewest
votes is eliminated and its ballots transfer to their next option still in the race; a ballot with none
left is exhausted. Ties for elimination go to the option with the fewest first preferences, then to the
one later in the poll's order (the earlier position stays in). When two options remain and tie, the
same rule decides which one is eliminated, so every count ends with one winner.
"""

from collections import Counter
from dataclasses import dataclass, field
from typing import Mapping

Ranking = tuple[int, ...]  # option indexes, most preferred first
Ballots = Mapping[Ranking, int]  # how many ballots hold each ranking


@dataclass(frozen=True)
class Round:
    number: int
    tallies: dict[int, int]  # option position -> ballots counting for it, for the options still in the race
    exhausted: int  # ballots with no option left in the race, in total so far
    eliminated: int | None = None  # None in the last round
    tie_broken_by: str = ""  # "" (no tie), "first preferences" or "poll order"
    transfers: dict[int, int] = field(default_factory=dict)  # where the eliminated option's ballots went
    exhausted_now: int = 0  # of those ballots, how many had no option left


@dataclass(frozen=True)
class RunoffResult:
    ballots: int
    first_preferences: dict[int, int]
    rounds: list[Round]
    winner: int | None  # None when there were no ballots


def _top(ranking: Ranking, in_race: set[int]) -> int | None:
    return next((option for option in ranking if option in in_race), None)


def _weakest(tallies: dict[int, int], first_preferences: dict[int, int]) -> tuple[int, str]:
    """The option to eliminate, and which rule broke a tie (if one had to)."""
    lowest = min(tallies.values())
    tied = [option for option, votes in tallies.items() if votes == lowest]
    if len(tied) == 1:
        return tied[0], ""
    fewest = min(first_preferences[option] for option in tied)
    tied_again = [option for option in tied if first_preferences[option] == fewest]
    if len(tied_again) == 1:
        return tied_again[0], "first preferences"
    return max(tied_again), "poll order"


def instant_runoff(groups: Ballots, option_count: int) -> RunoffResult:
    """Every round of an instant-runoff count. Identical rankings are counted together and each round
    moves only the eliminated option's pile, so a recount costs about one pass over the distinct rankings."""
    total = sum(groups.values())
    piles: dict[int, list[tuple[Ranking, int]]] = {option: [] for option in range(option_count)}
    exhausted = 0
    for ranking, count in groups.items():
        if ranking:
            piles[ranking[0]].append((ranking, count))
        else:
            exhausted += count
    first_preferences = {option: sum(count for _, count in pile) for option, pile in piles.items()}
    if not total:
        return RunoffResult(ballots=0, first_preferences=first_preferences, rounds=[], winner=None)

    in_race = set(range(option_count))
    tallies = dict(first_preferences)
    rounds: list[Round] = []
    while True:
        counting = total - exhausted
        leader = max(tallies, key=lambda option: (tallies[option], -option))
        if len(in_race) == 1 or (counting and tallies[leader] * 2 > counting):
            rounds.append(Round(number=len(rounds) + 1, tallies=dict(tallies), exhausted=exhausted))
            return RunoffResult(ballots=total, first_preferences=first_preferences, rounds=rounds, winner=leader)
        loser, tie_rule = _weakest(tallies, first_preferences)
        in_race.discard(loser)
        transfers: Counter = Counter()
        exhausted_now = 0
        for ranking, count in piles.pop(loser):
            following = _top(ranking, in_race)
            if following is None:
                exhausted_now += count
            else:
                transfers[following] += count
                piles[following].append((ranking, count))
        rounds.append(
            Round(
                number=len(rounds) + 1,
                tallies=dict(tallies),
                exhausted=exhausted,
                eliminated=loser,
                tie_broken_by=tie_rule,
                transfers=dict(sorted(transfers.items())),
                exhausted_now=exhausted_now,
            )
        )
        del tallies[loser]
        for option, count in transfers.items():
            tallies[option] += count
        exhausted += exhausted_now


def pairwise(groups: Ballots, option_count: int) -> list[list[int]]:
    """matrix[a][b]: ballots ranking a above b. An option ranked beats every option the ballot leaves out."""
    matrix = [[0] * option_count for _ in range(option_count)]
    for ranking, count in groups.items():
        unranked = set(range(option_count)) - set(ranking)
        for place, above in enumerate(ranking):
            for below in ranking[place + 1 :]:
                matrix[above][below] += count
            for below in unranked:
                matrix[above][below] += count
    return matrix


def condorcet_winner(matrix: list[list[int]]) -> int | None:
    """The option that beats every other head to head, if there is one."""
    options = range(len(matrix))
    for option in options:
        if all(matrix[option][other] > matrix[other][option] for other in options if other != option):
            return option
    return None


@dataclass(frozen=True)
class ScoreResult:
    means: dict[int, float | None]  # None for an option nobody scored
    distribution: dict[int, list[int]]  # option -> how many ballots gave it each score, lowest score first


def score_results(ratings: Mapping[tuple[int, int], int], option_count: int, *, lowest: int, highest: int) -> ScoreResult:
    """Mean and distribution per option from how many ballots gave each (option, score); an option a ballot
    left unscored does not count in its mean."""
    distribution = {option: [0] * (highest - lowest + 1) for option in range(option_count)}
    for (option, score), count in ratings.items():
        distribution[option][score - lowest] += count
    means = {}
    for option, counts in distribution.items():
        scored = sum(counts)
        means[option] = sum((lowest + step) * n for step, n in enumerate(counts)) / scored if scored else None
    return ScoreResult(means=means, distribution=distribution)
