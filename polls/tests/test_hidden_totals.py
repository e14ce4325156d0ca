"""Hidden results hide the total too: in the API, on cards, in orderings, in sums and in trending."""

import pytest

from polls import selectors, services
from polls.models import Poll
from polls.tests.factories import PollFactory, pick, visitor

pytestmark = pytest.mark.django_db


@pytest.fixture
def hidden(owner):
    """Results only to the author; five votes."""
    poll = PollFactory(author=owner, title="Secret favourite", results_visibility=Poll.ResultsVisibility.OWNER_ONLY)
    for number in range(5):
        services.cast_vote(poll=poll, voter=visitor(100 + number), option_ids=pick(poll, "Red"))
    return poll


@pytest.fixture
def shown(owner):
    """Results always shown; one vote."""
    poll = PollFactory(author=owner, title="Open favourite")
    services.cast_vote(poll=poll, voter=visitor(200), option_ids=pick(poll, "Blue"))
    return poll


def test_the_api_hides_the_total_where_results_are_hidden(hidden, api_client, other_client, owner_client):
    assert api_client.get(f"/api/polls/{hidden.pk}").json()["total_votes"] is None
    assert other_client.get(f"/api/polls/{hidden.pk}").json()["total_votes"] is None
    listed = {poll["id"]: poll for poll in api_client.get("/api/polls").json()["results"]}
    assert listed[str(hidden.pk)]["total_votes"] is None
    assert owner_client.get(f"/api/polls/{hidden.pk}").json()["total_votes"] == 5


@pytest.mark.parametrize("ordering", ["total_votes", "-total_votes"])
def test_ordering_by_votes_sorts_hidden_totals_as_none(hidden, shown, api_client, owner_client, ordering):
    """A hidden poll with five votes sorts as if it had none, for everyone: its place tells nothing."""
    for client in (api_client, owner_client):
        ids = [poll["id"] for poll in client.get(f"/api/polls?ordering={ordering}").json()["results"]]
        expected = [str(hidden.pk), str(shown.pk)]
        assert ids == (expected if ordering == "total_votes" else expected[::-1])


def test_cards_do_not_show_hidden_totals(hidden, shown, client):
    page = client.get("/polls/").content.decode()
    assert "5 votes" not in page and "results hidden" in page and "1 vote" in page
    home = client.get("/").content.decode()
    assert "5 votes" not in home


def test_platform_totals_leave_hidden_votes_out(hidden, shown, api_client):
    stats = api_client.get("/api/polls/stats").json()
    assert stats["total_votes"] == 1
    assert stats["today"]["votes"] == 1


def test_popular_and_trending_do_not_rank_on_hidden_votes(hidden, shown):
    assert list(selectors.popular_polls()) == [shown, hidden]
    assert list(selectors.trending_polls()) == [shown]


def test_search_does_not_rank_on_hidden_votes(hidden, shown):
    assert list(selectors.search_polls("favourite")) == [shown, hidden]


def test_closed_after_close_polls_show_their_totals(owner, other_client):
    poll = PollFactory(author=owner, results_visibility=Poll.ResultsVisibility.AFTER_CLOSE)
    services.cast_vote(poll=poll, voter=visitor(1), option_ids=pick(poll, "Red"))
    assert other_client.get(f"/api/polls/{poll.pk}").json()["total_votes"] is None
    services.set_poll_active(poll=poll, actor=owner, active=False)
    assert other_client.get(f"/api/polls/{poll.pk}").json()["total_votes"] == 1
    assert selectors.platform_stats()["total_votes"] == 1


def test_the_query_form_agrees_with_can_see_results(owner):
    """PollQuerySet.results_public() is can_see_results for a visitor who has not voted."""
    from polls.permissions import can_see_results

    for rule in Poll.ResultsVisibility.values:
        for active in (True, False):
            poll = PollFactory(author=owner, results_visibility=rule)
            Poll.objects.filter(pk=poll.pk).update(is_active=active)
            poll.refresh_from_db()
            in_query = Poll.objects.results_public().filter(pk=poll.pk).exists()
            assert in_query == can_see_results(poll=poll, user=None, has_voted=False), (rule, active)
