"""Counting ranked and score ballots (polls/counting.py): hand-checked cases, then random ballots against
a naive count written another way."""

from collections import Counter

from hypothesis import event, given, settings
from hypothesis import strategies as st

from polls.counting import condorcet_winner, instant_runoff, pairwise, score_results

A, B, C, D = range(4)


def cast(ballots) -> Counter:
    """Ballots as polls.counting takes them: how many of each ranking."""
    return Counter(map(tuple, ballots))


def test_a_majority_of_first_preferences_wins_in_the_first_round():
    result = instant_runoff(cast([(A, B)] * 3 + [(B, A)] * 2), option_count=2)

    assert result.winner == A
    [only] = result.rounds
    assert only.tallies == {A: 3, B: 2} and only.eliminated is None


def test_the_weakest_is_eliminated_and_its_ballots_transfer():
    ballots = [(A,)] * 4 + [(B, C)] * 3 + [(C, B)] * 2 + [(D, C)] * 1
    result = instant_runoff(cast(ballots), option_count=4)

    first, second, third = result.rounds
    assert (first.tallies, first.eliminated, first.transfers) == ({A: 4, B: 3, C: 2, D: 1}, D, {C: 1})
    assert (second.tallies, second.eliminated, second.transfers) == ({A: 4, B: 3, C: 3}, C, {B: 2})
    assert second.tie_broken_by == "first preferences"  # B and C tied on 3: C had fewer first preferences
    assert second.exhausted_now == 1  # the D, C ballot has nothing after C
    assert (third.tallies, third.exhausted, result.winner) == ({A: 4, B: 5}, 1, B)


def test_a_full_tie_eliminates_the_option_later_in_the_poll():
    result = instant_runoff(cast([(A,), (B,)]), option_count=2)

    assert (result.rounds[0].eliminated, result.rounds[0].tie_broken_by, result.winner) == (B, "poll order", A)


def test_no_ballots_no_winner():
    result = instant_runoff(cast([]), option_count=3)

    assert (result.ballots, result.rounds, result.winner) == (0, [], None)


def test_the_condorcet_winner_and_its_absence():
    # A beats B and C head to head though C leads on first preferences.
    ballots = [(C, A, B)] * 4 + [(B, A, C)] * 3 + [(A, B, C)] * 2
    matrix = pairwise(cast(ballots), option_count=3)
    assert matrix[A][B] == 6 and matrix[A][C] == 5 and condorcet_winner(matrix) == A
    cycle = [(A, B, C), (B, C, A), (C, A, B)]
    assert condorcet_winner(pairwise(cast(cycle), option_count=3)) is None


def test_an_unranked_option_loses_to_every_ranked_one():
    assert pairwise(cast([(B,)]), option_count=3) == [[0, 0, 0], [1, 0, 1], [0, 0, 0]]


def test_score_means_and_distribution():
    ballots = [{A: 5, B: 1}, {A: 3}, {A: 4, B: 0}]
    result = score_results(Counter(rating for ballot in ballots for rating in ballot.items()), 3, lowest=0, highest=5)

    assert result.means == {A: 4.0, B: 0.5, C: None}
    assert result.distribution[A] == [0, 0, 0, 1, 1, 1] and result.distribution[B] == [1, 1, 0, 0, 0, 0]


# --- random ballots against a naive count --------------------------------------------------------------


def naive_runoff(ballots, option_count):
    """One ballot at a time, round by round: the rules of polls/counting.py's docstring, written plainly."""
    firsts = [sum(1 for b in ballots if b and b[0] == o) for o in range(option_count)]
    alive = list(range(option_count))
    winners_and_losers = []
    while True:
        votes = {o: 0 for o in alive}
        for b in ballots:
            for o in b:
                if o in votes:
                    votes[o] += 1
                    break
        counting = sum(votes.values())
        best = max(votes.values())
        if len(alive) == 1 or (counting and best * 2 > counting):
            return [o for o in alive if votes[o] == best][0], winners_and_losers
        worst = min(votes.values())
        candidates = sorted((firsts[o], -o, o) for o in alive if votes[o] == worst)
        loser = candidates[0][2]
        winners_and_losers.append((votes, loser))
        alive.remove(loser)


rankings = st.integers(min_value=2, max_value=5).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(st.permutations(range(n)).flatmap(lambda p: st.integers(0, n).map(lambda k: tuple(p[:k]))), max_size=40),
    )
)


@settings(max_examples=300, deadline=None)
@given(rankings)
def test_runoff_rounds_match_a_naive_count(case):
    option_count, ballots = case
    result = instant_runoff(cast(ballots), option_count)
    if not ballots:
        assert result.winner is None
        return
    winner, steps = naive_runoff(ballots, option_count)
    assert result.winner == winner
    assert [(r.tallies, r.eliminated) for r in result.rounds[:-1]] == steps
    for r in result.rounds:
        assert sum(r.tallies.values()) + r.exhausted == len(ballots)


@settings(max_examples=300, deadline=None)
@given(rankings)
def test_pairwise_and_condorcet_match_a_brute_force_count(case):
    option_count, ballots = case

    def prefers(ballot, a, b):
        if a not in ballot:
            return False
        return b not in ballot or ballot.index(a) < ballot.index(b)

    brute = [[sum(prefers(b, x, y) for b in ballots) if x != y else 0 for y in range(option_count)] for x in range(option_count)]
    assert pairwise(cast(ballots), option_count) == brute
    beats_all = [x for x in range(option_count) if all(brute[x][y] > brute[y][x] for y in range(option_count) if y != x)]
    assert condorcet_winner(brute) == (beats_all[0] if beats_all else None)


# --- random ballots against an independent instant-runoff count -------------------------------------------
# pyrankvote would be the independent count, but its last release (2.0.6) dates from October 2022: rather than
# depend on an abandoned package, here is a second count written as a person counts paper ballots: strike the
# eliminated option off every ballot and count the top names again. It has no tie-break of its own, so the
# comparison runs up to the first tie for last place (where the two rules could part) and, without one, to the winner.


def strike_out_runoff(ballots, option_count):
    """[(tallies, eliminated)] round by round, then (tallies, None) for the deciding round, or for the first round
    tied for last place; and the winner, or None if a tie stopped the count."""
    piles = [list(ballot) for ballot in ballots]
    standing = set(range(option_count))
    history = []
    while True:
        tallies = {option: 0 for option in standing}
        for pile in piles:
            if pile:
                tallies[pile[0]] += 1
        active = sum(tallies.values())
        top = max(tallies.values())
        if len(standing) == 1 or top * 2 > active:
            history.append((tallies, None))
            return history, next(option for option in standing if tallies[option] == top)
        last = [option for option in standing if tallies[option] == min(tallies.values())]
        if len(last) > 1:
            history.append((tallies, None))
            return history, None
        history.append((tallies, last[0]))
        standing.discard(last[0])
        piles = [[option for option in pile if option != last[0]] for pile in piles]


many_rankings = st.integers(min_value=2, max_value=6).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(
            st.permutations(range(n)).flatmap(lambda p: st.integers(1, n).map(lambda k: tuple(p[:k]))),
            min_size=1,
            max_size=80,
        ),
    )
)


@settings(max_examples=250, deadline=None)
@given(many_rankings)
def test_runoff_rounds_match_a_strike_out_count_until_a_tie(case):
    option_count, ballots = case
    result = instant_runoff(cast(ballots), option_count)
    history, winner = strike_out_runoff(ballots, option_count)

    ours = [(r.tallies, r.eliminated) for r in result.rounds]
    if winner is None:
        event("a tie for last place: compared up to it")
        *before_tie, (tied_tallies, _) = history
        assert ours[: len(before_tie)] == before_tie
        assert ours[len(before_tie)][0] == tied_tallies
        return
    event("decided without a tie: compared to the winner")
    assert ours == history
    assert result.winner == winner
    for r in result.rounds:
        assert r.exhausted == sum(1 for ballot in ballots if not set(ballot) & set(r.tallies))


def test_the_strike_out_count_agrees_on_a_hand_checked_election():
    ballots = [(A,)] * 4 + [(B, C)] * 3 + [(C, B)] * 2 + [(D, B)] * 1
    history, winner = strike_out_runoff(ballots, 4)
    assert [eliminated for _, eliminated in history] == [D, C, None] and winner == B
    assert [(r.tallies, r.eliminated) for r in instant_runoff(cast(ballots), 4).rounds] == history
