"""The moderation admin on ranked and score polls: the method shown and filterable, ranks and scores on
votes, and voiding ballots or removing options keeping every method's counters and results exact."""

import pytest
from django.urls import reverse

from polls import selectors, services
from polls.models import Ballot, Poll, Vote
from polls.tests.factories import PollFactory, first_preferences, ranked_counts, rankings, score_counts, visitor

pytestmark = pytest.mark.django_db

CLUSTER = "198.51.100.0/24"


@pytest.fixture
def moderator_client(client, moderator):
    client.force_login(moderator)
    return client


def ids_of(poll: Poll) -> dict:
    return dict(poll.options.values_list("text", "pk"))


@pytest.fixture
def ranked_poll(owner):
    """Ranked, Red Green Blue Gold: six ballots, the three from 198.51.100.x ranking Red first."""
    poll = PollFactory(author=owner, title="Paint the hall", method="ranked", options=["Red", "Green", "Blue", "Gold"])
    ids = ids_of(poll)
    ballots = [
        (["Red", "Green", "Blue"], "198.51.100.7"),
        (["Red", "Gold"], "198.51.100.8"),
        (["Red"], "198.51.100.9"),
        (["Green", "Red"], "203.0.113.1"),
        (["Blue", "Green"], "203.0.113.2"),
        (["Red", "Blue"], "203.0.113.3"),
    ]
    for number, (texts, address) in enumerate(ballots):
        services.cast_vote(poll=poll, voter=visitor(number, ip_address=address), option_ids=[ids[t] for t in texts])
    assert ranked_counts(poll) == (6, 6, 6, 6)
    return poll


@pytest.fixture
def score_poll(owner):
    """Score 0 to 5 on Red Green Blue: four ballots, two of them from 198.51.100.x."""
    poll = PollFactory(author=owner, title="Rate the colours", method="score", options=["Red", "Green", "Blue"])
    ids = ids_of(poll)
    ballots = [
        ({"Red": 5, "Green": 0}, "198.51.100.7"),
        ({"Red": 4}, "198.51.100.8"),
        ({"Red": 1, "Blue": 3}, "203.0.113.1"),
        ({"Green": 2, "Blue": 5}, "203.0.113.2"),
    ]
    for number, (scores, address) in enumerate(ballots):
        services.cast_vote(
            poll=poll, voter=visitor(number, ip_address=address), scores={str(ids[t]): s for t, s in scores.items()}
        )
    return poll


def assert_ranked_exact(poll: Poll) -> None:
    ballots = Ballot.objects.filter(poll=poll).count()
    assert ranked_counts(poll) == (ballots,) * 4
    assert all(count == rows for count, rows in first_preferences(poll).values())
    assert all([rank for rank, _ in ranks] == list(range(1, len(ranks) + 1)) for ranks in rankings(poll).values())
    shown = selectors.full_results(poll)
    assert shown["total_votes"] == shown["ranked"]["ballots"] == ballots
    assert {option["text"]: option["votes"] for option in shown["options"]} == {
        text: count for text, (count, _) in first_preferences(poll).items()
    }


def assert_score_exact(poll: Poll) -> None:
    poll.refresh_from_db()
    assert poll.total_votes == Ballot.objects.filter(poll=poll).count()
    counts = score_counts(poll)
    assert all(count == rows and score_sum == total for count, rows, score_sum, total in counts.values())
    shown = {option["text"]: option for option in selectors.full_results(poll)["score"]["options"]}
    for text, (count, _, score_sum, _) in counts.items():
        assert shown[text]["mean"] == (round(score_sum / count, 2) if count else None)


# --- what the admin shows -----------------------------------------------------------------------------


def test_the_method_is_shown_and_filterable(moderator_client, ranked_poll, score_poll, owner):
    PollFactory(author=owner, title="Plain question")
    changelist = reverse("admin:polls_poll_changelist")

    page = moderator_client.get(changelist)
    assert page.status_code == 200
    assert "Ranked choice" in page.content.decode() and "Score" in page.content.decode()

    def found(query: str) -> set[str]:
        response = moderator_client.get(changelist + query)
        assert response.status_code == 200
        return {poll.title for poll in response.context["cl"].result_list}

    assert found("?method__exact=ranked") == {"Paint the hall"}
    assert found("?method__exact=score") == {"Rate the colours"}
    assert found("?method__exact=single") == {"Plain question"}
    assert moderator_client.get(reverse("admin:polls_poll_change", args=[ranked_poll.pk])).status_code == 200


def test_votes_show_their_rank_and_score(moderator_client, ranked_poll, score_poll):
    page = moderator_client.get(reverse("admin:polls_vote_changelist") + "?poll__method__exact=ranked")

    assert page.status_code == 200
    assert page.context["cl"].result_count == Vote.objects.filter(poll=ranked_poll).count()
    assert {"rank", "score"} <= set(page.context["cl"].list_display)
    scored = moderator_client.get(reverse("admin:polls_vote_changelist") + "?poll__method__exact=score")
    assert scored.context["cl"].result_count == 7
    vote = Vote.objects.get(poll=score_poll, option__text="Blue", score=5)
    assert moderator_client.get(reverse("admin:polls_vote_change", args=[vote.pk])).status_code == 200


# --- voiding ballots and removing options ---------------------------------------------------------------


def test_voiding_ranked_ballots_keeps_rounds_and_counters_exact(moderator_client, ranked_poll):
    url = reverse("admin:polls_poll_void_ballots", args=[ranked_poll.pk])
    moderator_client.post(url, {"network": CLUSTER, "reason": "Burst", "void": "1"})

    assert ranked_counts(ranked_poll) == (3, 3, 3, 3)
    assert {text: count for text, (count, _) in first_preferences(ranked_poll).items()} == {
        "Red": 1,
        "Green": 1,
        "Blue": 1,
        "Gold": 0,
    }
    assert_ranked_exact(ranked_poll)
    # Gold goes, then Red, Green and Blue tie: Blue goes by poll order and its ballot makes Green the winner.
    ranked = selectors.full_results(ranked_poll)["ranked"]
    assert [one["eliminated"]["text"] for one in ranked["rounds"][:-1]] == ["Gold", "Blue"]
    assert ranked["winner"] == str(ids_of(ranked_poll)["Green"])


def test_removing_a_first_choice_promotes_each_ballots_second(moderator_client, ranked_poll):
    red = ranked_poll.options.get(text="Red")

    response = moderator_client.post(reverse("admin:polls_option_delete", args=[red.pk]), {"post": "yes"})

    assert response.status_code == 302
    # Four ballots ranked Red first: three move up their next choice, the Red-only ballot is gone.
    by_voter = {
        Ballot.objects.get(pk=ballot_id).anon_id: [text for _, text in ranks]
        for ballot_id, ranks in rankings(ranked_poll).items()
    }
    assert by_voter == {
        "visitor-0": ["Green", "Blue"],
        "visitor-1": ["Gold"],
        "visitor-3": ["Green"],
        "visitor-4": ["Blue", "Green"],
        "visitor-5": ["Blue"],
    }
    assert ranked_counts(ranked_poll) == (5, 5, 5, 5)
    assert {text: count for text, (count, _) in first_preferences(ranked_poll).items()} == {"Green": 2, "Blue": 2, "Gold": 1}
    assert_ranked_exact(ranked_poll)


def test_removing_a_later_choice_closes_up_the_ranking(ranked_poll):
    services.remove_options(options=ranked_poll.options.filter(text="Green"))

    assert [text for _, text in rankings(ranked_poll)[Ballot.objects.get(anon_id="visitor-0").pk]] == ["Red", "Blue"]
    assert ranked_counts(ranked_poll) == (6, 6, 6, 6)
    assert_ranked_exact(ranked_poll)


def test_voiding_score_ballots_moves_score_sums_and_ratings(score_poll, moderator):
    assert services.void_ballots(poll=score_poll, moderator=moderator, reason="Burst", network=CLUSTER) == 2

    assert score_counts(score_poll) == {"Red": (1, 1, 1, 1), "Green": (1, 1, 2, 2), "Blue": (2, 2, 8, 8)}
    assert_score_exact(score_poll)
    assert score_poll.total_votes == 2


def test_removing_a_rated_option_moves_score_sums_and_ballots(moderator_client, score_poll):
    red = score_poll.options.get(text="Red")

    moderator_client.post(reverse("admin:polls_option_delete", args=[red.pk]), {"post": "yes"})

    # The ballot that rated Red alone is gone; the others keep their other ratings.
    assert score_counts(score_poll) == {"Green": (2, 2, 2, 2), "Blue": (2, 2, 8, 8)}
    assert_score_exact(score_poll)
    assert score_poll.total_votes == 3
