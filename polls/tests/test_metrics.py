"""QuickPoll's own metrics move when their event happens, where it is decided, and never name a poll or a user."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client import REGISTRY

from accounts.tests.factories import UserFactory
from polls import public_bodies
from polls.group_commit import GroupCommit
from polls.models import Poll
from polls.tests.factories import PollFactory, pick
from polls.tests.test_group_commit import SlowWriter, submit_together
from polls.tests.test_voter_limits import limits_on  # noqa: F401 - a fixture: 2 votes per voter per window

pytestmark = pytest.mark.django_db


def value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Moves:
    """What a sample was before a step, to compare with after it."""

    def __init__(self, name: str, **labels):
        self.name, self.labels = name, labels
        self.before = value(name, **labels)

    @property
    def by(self) -> float:
        return value(self.name, **self.labels) - self.before


def vote(client, poll, *texts, **headers):
    body = {"poll_id": str(poll.pk), "option_ids": [str(pk) for pk in pick(poll, *(texts or ["Red"]))]}
    return client.post("/api/votes", body, content_type="application/json", **headers)


ANONYMOUS = {"HTTP_X_ANON_ID": "metrics-visitor-000001"}


# --- Votes ----------------------------------------------------------------------------------------


def test_an_account_vote_counts_as_accepted_by_method_and_voter(client_for, other_user, owner):
    poll = PollFactory(author=owner, method=Poll.Method.APPROVAL, allow_multiple=True, max_choices=2)
    accepted = Moves("quickpoll_votes_accepted_total", method="approval", voter="account")

    assert vote(client_for(other_user), poll, "Red", "Green").status_code == 201

    assert accepted.by == 1


def test_an_anonymous_vote_counts_as_accepted_for_an_anonymous_voter(owner):
    poll = PollFactory(author=owner)
    anonymous = Moves("quickpoll_votes_accepted_total", method="single", voter="anonymous")
    account = Moves("quickpoll_votes_accepted_total", method="single", voter="account")

    assert vote(Client(), poll, **ANONYMOUS).status_code == 201

    assert (anonymous.by, account.by) == (1, 0)


def test_a_second_vote_is_refused_as_already_voted_and_not_accepted(client_for, other_user, owner):
    poll = PollFactory(author=owner)
    client = client_for(other_user)
    assert vote(client, poll).status_code == 201
    accepted = Moves("quickpoll_votes_accepted_total", method="single", voter="account")
    refused = Moves("quickpoll_votes_refused_total", code="already_voted")

    assert vote(client, poll, "Blue").status_code == 409

    assert (accepted.by, refused.by) == (0, 1)


def test_each_refusal_is_counted_under_the_apis_code(client_for, other_user, owner):
    closed = PollFactory(author=owner)
    Poll.objects.filter(pk=closed.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    single = PollFactory(author=owner)
    poll_closed = Moves("quickpoll_votes_refused_total", code="poll_closed")
    too_many = Moves("quickpoll_votes_refused_total", code="too_many_options")
    client = client_for(other_user)

    assert vote(client, closed).json()["code"] == "poll_closed"
    assert vote(client, single, "Red", "Blue").json()["code"] == "too_many_options"

    assert (poll_closed.by, too_many.by) == (1, 1)


def test_a_vote_cast_on_the_page_counts_too(owner):
    poll = PollFactory(author=owner)
    accepted = Moves("quickpoll_votes_accepted_total", method="single", voter="anonymous")
    client = Client()
    client.get(f"/p/{poll.slug}/")  # the page gives the visitor their anonymous id

    response = client.post(f"/p/{poll.slug}/vote/", {"option": pick(poll, "Red")})

    assert response.status_code == 302, response.status_code
    assert accepted.by == 1


# --- Group commit --------------------------------------------------------------------------------------


def test_each_group_commit_batch_is_observed_with_its_size():
    batches = Moves("quickpoll_group_commit_batch_size_count")
    ballots = Moves("quickpoll_group_commit_batch_size_sum")
    writer = SlowWriter()

    submit_together(GroupCommit(writer), list(range(1, 31)))

    assert batches.by == len(writer.batches) and 1 < len(writer.batches) < 30
    assert ballots.by == 30


# --- The poll read cache ------------------------------------------------------------------------------


def test_a_visitors_first_read_misses_and_the_next_hits(api_client, owner):
    poll = PollFactory(author=owner)
    miss = Moves("quickpoll_poll_cache_lookups_total", kind="body", result="miss")
    hit = Moves("quickpoll_poll_cache_lookups_total", kind="body", result="hit")

    for _ in range(3):
        assert api_client.get(f"/api/polls/{poll.pk}").status_code == 200

    assert (miss.by, hit.by) == (1, 2)


def test_a_cache_that_fails_counts_as_an_error(monkeypatch):
    def unreachable(key):
        raise ConnectionError("redis is restarting")

    monkeypatch.setattr(public_bodies.cache, "get", unreachable)
    error = Moves("quickpoll_poll_cache_lookups_total", kind="results", result="error")

    assert public_bodies.get("any-poll", "results") is None

    assert error.by == 1


# --- Rate limits ----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("limits_on")
def test_a_spent_voter_budget_is_counted_under_its_rule(owner):
    polls = [PollFactory(author=owner) for _ in range(3)]
    voter_rule = Moves("quickpoll_rate_limit_refusals_total", rule="voter")
    refused_votes = Moves("quickpoll_votes_refused_total", code="rate_limited")

    assert [vote(Client(), poll, **ANONYMOUS).status_code for poll in polls] == [201, 201, 429]

    # Refused before the vote service saw it: a rate-limit refusal, not a vote refusal.
    assert (voter_rule.by, refused_votes.by) == (1, 0)


@pytest.mark.usefixtures("limits_on")
def test_the_api_budget_refused_by_the_middleware_is_counted_once(settings, api_client):
    settings.RATE_LIMIT_REQUESTS = 2
    api_rule = Moves("quickpoll_rate_limit_refusals_total", rule="api")

    codes = [api_client.get("/api/polls", REMOTE_ADDR="198.51.100.77").status_code for _ in range(4)]

    assert codes == [200, 200, 429, 429]
    assert api_rule.by == 2


# --- Bounded labels ----------------------------------------------------------------------------------


def test_no_series_names_a_poll_or_a_user(client_for, owner):
    """Many polls, voters and refusals later, /metrics holds no id: its labels come from fixed sets."""
    voters = [UserFactory() for _ in range(3)]
    polls = [PollFactory(author=owner, method=method) for method in (Poll.Method.SINGLE, Poll.Method.RANKED)]
    for poll in polls:
        for voter in voters:
            client = client_for(voter)
            vote(client, poll, "Red")
            vote(client, poll, "Red")  # already_voted
        Client().get(f"/api/polls/{poll.pk}")

    text = Client(REMOTE_ADDR="127.0.0.1").get("/metrics").content.decode()

    ids = {str(thing.pk) for thing in [*polls, *voters, owner]} | {str(thing.pk).replace("-", "") for thing in polls}
    assert not [thing for thing in ids if thing in text]
    ours = [line for line in text.splitlines() if line.startswith("quickpoll_")]
    label_values = {value for line in ours for value in re.findall(r'="([^"]*)"', line)}
    # Methods, voter kinds, codes, cache kinds and results, rules, histogram bounds, process ids: short words or numbers.
    assert all(re.fullmatch(r"[a-z_\-]{2,30}|[0-9.+Inf]+", value) for value in label_values), label_values
