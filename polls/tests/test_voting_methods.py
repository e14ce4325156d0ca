"""Ranked and score polls through the services: what a ballot stores, what the counters say, the full count
(selectors.full_results) and how the page's form turns into a ballot."""

from unittest import mock

import pytest
from django.core.cache import cache

from polls import ballot_box, errors, selectors, services, tallies
from polls.models import Ballot, Option, Poll
from polls.tests.factories import PollFactory, pick, visitor

pytestmark = pytest.mark.django_db

FIVE = ["Ada", "Basil", "Cyd", "Dot", "Eve"]


@pytest.fixture
def ranked(owner):
    return PollFactory(author=owner, title="Chair of the club", options=FIVE, method="ranked")


@pytest.fixture
def scored(owner):
    return PollFactory(author=owner, title="Rate the talks", options=["Keynote", "Panel", "Demo"], method="score")


def rank(poll: Poll, number: int, *texts: str):
    return services.cast_vote(poll=poll, voter=visitor(number, ip_address=f"203.0.113.{number}"), option_ids=pick(poll, *texts))


def rate(poll: Poll, number: int, **scores: int):
    ids = dict(zip(["Keynote", "Panel", "Demo"], pick(poll, "Keynote", "Panel", "Demo"), strict=True))
    given = {str(ids[text]): score for text, score in scores.items()}
    return services.cast_vote(poll=poll, voter=visitor(number, ip_address=f"203.0.113.{number}"), scores=given)


def counters(poll: Poll) -> tuple[int, dict]:
    poll.refresh_from_db()
    return poll.total_votes, dict(poll.options.values_list("text", "vote_count"))


# --- ranked ------------------------------------------------------------------------------------------


def test_a_ranked_ballot_stores_its_order_and_counts_its_first_preference(ranked):
    cast = rank(ranked, 1, "Cyd", "Ada", "Eve")

    assert [(vote.option.text, vote.rank) for vote in cast.votes] == [("Cyd", 1), ("Ada", 2), ("Eve", 3)]
    total, per_option = counters(ranked)
    assert total == 1  # a ranked poll counts ballots
    assert per_option == {"Ada": 0, "Basil": 0, "Cyd": 1, "Dot": 0, "Eve": 0}
    assert cast.results["method"] == "ranked"


def test_ranking_an_option_twice_is_refused(ranked):
    ada, basil = pick(ranked, "Ada", "Basil")

    with pytest.raises(errors.DuplicateOption):
        services.cast_vote(poll=ranked, voter=visitor(1), option_ids=[ada, basil, ada])

    assert not Ballot.objects.filter(poll=ranked).exists()


def test_a_ranked_poll_holds_its_minimum_and_maximum(owner):
    poll = PollFactory(author=owner, options=FIVE, method="ranked", min_choices=2, max_choices=3)

    with pytest.raises(errors.TooFewOptions):
        rank(poll, 1, "Ada")
    with pytest.raises(errors.TooManyOptions):
        rank(poll, 2, "Ada", "Basil", "Cyd", "Dot")
    rank(poll, 3, "Ada", "Basil")
    assert counters(poll)[0] == 1


def test_scores_sent_to_a_ranked_poll_are_the_wrong_shape(ranked):
    with pytest.raises(errors.WrongBallotShape):
        services.cast_vote(poll=ranked, voter=visitor(1), scores={str(pick(ranked, "Ada")[0]): 3})


def test_the_full_count_runs_the_instant_runoff(ranked):
    # Ada leads on first preferences; Eve's and Dot's ballots move to Cyd, who then wins.
    for number, ballot in enumerate(
        [("Ada",)] * 4 + [("Cyd", "Ada")] * 3 + [("Eve", "Cyd")] * 2 + [("Dot", "Cyd")] * 2 + [("Basil",)],
        start=1,
    ):
        rank(ranked, number, *ballot)
    ranked.refresh_from_db()

    results = selectors.full_results(ranked)

    names = {option["id"]: option["text"] for option in results["options"]}
    block = results["ranked"]
    assert results["total_votes"] == block["ballots"] == 12
    assert names[block["winner"]] == "Cyd"
    assert [names[r["eliminated"]["id"]] for r in block["rounds"][:-1]] == ["Basil", "Eve", "Dot"]
    # Basil's and Dot's tie at 2 (Eve too) is broken by first preferences, then by poll order: Eve goes before Dot.
    assert block["rounds"][1]["tie_broken_by"] == "poll order"
    assert block["rounds"][0]["exhausted_now"] == 1
    assert {row["text"]: row["votes"] for row in block["rounds"][-1]["tallies"]} == {"Ada": 4, "Cyd": 7}
    assert names[block["condorcet_winner"]] == "Cyd"


def test_the_full_count_is_made_once_per_results_version(ranked):
    rank(ranked, 1, "Ada", "Basil")
    ranked.refresh_from_db()
    cache.clear()

    with mock.patch("polls.selectors.tallies.count", wraps=tallies.count) as count:
        selectors.full_results(ranked)
        selectors.full_results(ranked)
        assert count.call_count == 1
        rank(ranked, 2, "Basil")
        ranked.refresh_from_db()
        after = selectors.full_results(ranked)
        assert count.call_count == 2
    assert after["total_votes"] == 2


def test_losing_a_first_choice_promotes_the_second(ranked):
    rank(ranked, 1, "Ada", "Basil", "Cyd")
    rank(ranked, 2, "Basil", "Ada")

    services.remove_options(options=Option.objects.filter(poll=ranked, text="Ada"))

    total, per_option = counters(ranked)
    assert total == 2
    assert per_option == {"Basil": 2, "Cyd": 0, "Dot": 0, "Eve": 0}
    first = Ballot.objects.get(poll=ranked, anon_id="visitor-1")
    assert [(vote.option.text, vote.rank) for vote in first.votes.order_by("rank")] == [("Basil", 1), ("Cyd", 2)]


def test_a_ranked_ballot_emptied_leaves_the_count(ranked):
    rank(ranked, 1, "Ada")
    rank(ranked, 2, "Basil")

    services.remove_options(options=Option.objects.filter(poll=ranked, text="Ada"))

    assert counters(ranked) == (1, {"Basil": 1, "Cyd": 0, "Dot": 0, "Eve": 0})
    assert Ballot.objects.filter(poll=ranked).count() == 1


def test_changing_a_ranked_vote_replaces_the_ranking(ranked):
    voter = visitor(1)
    services.cast_vote(poll=ranked, voter=voter, option_ids=pick(ranked, "Ada", "Basil"))

    services.change_vote(poll=ranked, voter=voter, option_ids=pick(ranked, "Eve", "Dot", "Ada"))

    assert counters(ranked) == (1, {"Ada": 0, "Basil": 0, "Cyd": 0, "Dot": 0, "Eve": 1})
    state = selectors.voter_states(polls=[ranked], voter=voter)[ranked.pk]
    assert state.my_votes == [str(pk) for pk in pick(ranked, "Eve", "Dot", "Ada")]


# --- score -------------------------------------------------------------------------------------------


def test_a_score_ballot_moves_ratings_and_the_sum_of_scores(scored):
    rate(scored, 1, Keynote=5, Panel=2)
    rate(scored, 2, Keynote=3, Demo=0)

    scored.refresh_from_db()
    assert scored.total_votes == 2
    options = {option.text: (option.vote_count, option.score_sum) for option in scored.options.all()}
    assert options == {"Keynote": (2, 8), "Panel": (1, 2), "Demo": (1, 0)}
    means = {row["text"]: (row["mean"], row["percentage"]) for row in selectors.poll_results(scored)["options"]}
    assert means == {"Keynote": (4.0, 80.0), "Panel": (2.0, 40.0), "Demo": (0.0, 0.0)}


@pytest.mark.parametrize("score", [-1, 6, True, "4", 2.5])
def test_a_score_outside_the_range_or_not_a_whole_number_is_refused(scored, score):
    with pytest.raises(errors.ScoreOutOfRange):
        services.cast_vote(poll=scored, voter=visitor(1), scores={str(pick(scored, "Panel")[0]): score})


def test_option_ids_sent_to_a_score_poll_are_the_wrong_shape(scored):
    with pytest.raises(errors.WrongBallotShape):
        services.cast_vote(poll=scored, voter=visitor(1), option_ids=pick(scored, "Panel"))


def test_the_full_count_of_a_score_poll_has_each_distribution(scored):
    rate(scored, 1, Keynote=5, Panel=2)
    rate(scored, 2, Keynote=3)
    scored.refresh_from_db()

    block = selectors.full_results(scored)["score"]

    assert (block["min"], block["max"], block["ballots"]) == (0, 5, 2)
    rows = {row["text"]: row for row in block["options"]}
    assert rows["Keynote"]["distribution"] == [0, 0, 0, 1, 0, 1]
    assert (rows["Keynote"]["mean"], rows["Demo"]["mean"], rows["Demo"]["votes"]) == (4.0, None, 0)
    # The counters and the full count agree.
    assert [row["mean"] for row in selectors.poll_results(scored)["options"]] == [4.0, 2.0, None]


def test_a_score_range_is_checked_and_fixed_once_voted(owner):
    with pytest.raises(errors.InvalidPoll) as caught:
        PollFactory(author=owner, method="score", score_min=2, score_max=12)
    assert set(caught.value.fields) == {"score_min", "score_max"}
    poll = PollFactory(author=owner, options=["Keynote", "Panel", "Demo"], method="score", score_min=1, score_max=10)
    rate(poll, 1, Panel=10)

    with pytest.raises(errors.InvalidPoll) as caught:
        services.update_poll(poll=poll, actor=owner, score_max=5)
    assert list(caught.value.fields) == ["score_max"]


# --- what every method shares -------------------------------------------------------------------------


def test_secret_ballots_take_single_or_approval_voting(owner):
    with pytest.raises(errors.InvalidPoll) as caught:
        PollFactory(author=owner, method="ranked", is_secret=True)
    assert list(caught.value.fields) == ["is_secret"]


def test_an_approval_poll_holds_its_minimum(owner):
    poll = PollFactory(author=owner, method="approval", min_choices=2)

    with pytest.raises(errors.TooFewOptions):
        services.cast_vote(poll=poll, voter=visitor(1), option_ids=pick(poll, "Red"))
    services.cast_vote(poll=poll, voter=visitor(2), option_ids=pick(poll, "Red", "Blue"))


def test_allow_multiple_still_makes_an_approval_poll(owner):
    poll = PollFactory(author=owner, allow_multiple=True)
    assert (poll.method, poll.allow_multiple) == ("approval", True)

    with pytest.raises(errors.InvalidPoll) as caught:
        PollFactory(author=owner, allow_multiple=True, method="ranked")
    assert list(caught.value.fields) == ["allow_multiple"]


# --- the page's form -----------------------------------------------------------------------------------


def test_a_ranked_vote_from_the_page_without_javascript(client, ranked):
    ada, cyd, eve = pick(ranked, "Ada", "Cyd", "Eve")
    form = {f"rank-{eve}": "1", f"rank-{ada}": "2", f"rank-{cyd}": "3"} | {
        f"rank-{pk}": "" for pk in pick(ranked, "Basil", "Dot")
    }

    response = client.post(f"/p/{ranked.slug}/vote/", form)

    assert response.status_code == 302
    ballot = Ballot.objects.get(poll=ranked)
    assert [vote.option.text for vote in ballot.votes.order_by("rank")] == ["Eve", "Ada", "Cyd"]


def test_two_options_given_one_rank_come_back_with_the_reason(client, ranked):
    ada, cyd = pick(ranked, "Ada", "Cyd")

    response = client.post(f"/p/{ranked.slug}/vote/", {f"rank-{ada}": "1", f"rank-{cyd}": "1"})

    assert response.status_code == 400
    assert "Two options are ranked 1" in response.content.decode()
    assert response.context["ranks"] == {str(ada): 1, str(cyd): 1}
    assert not Ballot.objects.filter(poll=ranked).exists()


def test_a_score_vote_from_the_page(client, scored):
    keynote, panel, demo = pick(scored, "Keynote", "Panel", "Demo")

    response = client.post(f"/p/{scored.slug}/vote/", {f"score-{keynote}": "4", f"score-{panel}": "", f"score-{demo}": "1"})

    assert response.status_code == 302
    ballot = Ballot.objects.get(poll=scored)
    assert {vote.option.text: vote.score for vote in ballot.votes.all()} == {"Keynote": 4, "Demo": 1}


def test_a_score_the_form_never_offered_is_refused_on_the_page(client, scored):
    keynote = pick(scored, "Keynote")[0]

    response = client.post(f"/p/{scored.slug}/vote/", {f"score-{keynote}": "five"})

    assert response.status_code == 400
    assert not Ballot.objects.filter(poll=scored).exists()


def test_a_ranked_polls_statistics_count_ballots_per_hour(ranked):
    rank(ranked, 1, "Ada", "Basil", "Cyd")
    rank(ranked, 2, "Dot")

    stats = selectors.vote_stats(ranked)

    assert sum(hour["votes"] for hour in stats["votes_per_hour"]) == stats["total_votes"] == 2


def test_a_ballot_checked_against_a_method_changed_meanwhile_goes_back_unwritten(owner):
    poll = PollFactory(author=owner)
    # The edit lands between the ballot's checks and its batch: the Poll the ballot carries still says single.
    Poll.objects.filter(pk=poll.pk).update(method=Poll.Method.RANKED)

    with pytest.raises(errors.WrongBallotShape):
        ballot_box.cast(poll=poll, voter=visitor(1), options=list(poll.options.all()[:1]))

    assert not Ballot.objects.filter(poll=poll).exists()
    poll.refresh_from_db()
    assert poll.total_votes == 0


def test_a_visitor_with_nothing_of_their_own_reads_cached_results_until_the_next_vote(
    ranked, django_assert_num_queries, django_capture_on_commit_callbacks, monkeypatch
):
    from rest_framework.test import APIClient

    from realtime import events

    # Not under test, and its snapshot would run the ORM through database_sync_to_async from this thread.
    monkeypatch.setattr(events, "publish_ballots", lambda changed, confirmations: None)
    rank(ranked, 1, "Ada", "Basil")
    visitor_client = APIClient()
    first = visitor_client.get(f"/api/polls/{ranked.pk}/results").json()

    with django_assert_num_queries(0):
        again = visitor_client.get(f"/api/polls/{ranked.pk}/results").json()
    assert again == first

    with django_capture_on_commit_callbacks(execute=True):  # the vote's commit drops the cached answer
        rank(ranked, 2, "Basil")
    assert visitor_client.get(f"/api/polls/{ranked.pk}/results").json()["total_votes"] == 2
