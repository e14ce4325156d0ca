"""Invites under races, with real threads against PostgreSQL: one invite makes one ballot."""

from collections import Counter

import pytest

from polls import invites
from polls.models import Ballot
from polls.tests.factories import PollFactory, vote_counts

# The same marks (PostgreSQL only, real transactions) and the same pool of a connection per thread.
from polls.tests.test_api_concurrency import (  # noqa: F401
    client_for,
    connection_per_thread,
    outcome,
    pytestmark,
    run_together,
    vote_body,
)


@pytest.fixture
def closed_group(owner):
    return PollFactory(author=owner, title="Race", options=["Red", "Green", "Blue"], invite_only=True)


def test_twenty_voters_racing_on_one_invite_make_one_ballot(closed_group):
    [invite] = invites.create_invites(poll=closed_group, actor=closed_group.author, count=1)
    body = vote_body(closed_group) | {"invite": invite.token}

    def cast(index: int):
        return outcome(client_for().post("/api/votes", body, format="json", HTTP_X_ANON_ID=f"racing-invitee-{index:04d}"))

    results = run_together(20, cast)

    assert Counter(results) == {(201, None): 1, (409, "invite_used"): 19}
    assert Ballot.objects.get(poll=closed_group).invite == invite
    assert vote_counts(closed_group) == (1, 1, 1)


def test_a_room_of_invited_voters_behind_one_address_all_get_in(closed_group, settings):
    settings.ANONYMOUS_BALLOTS_PER_IP = 5
    made = invites.create_invites(poll=closed_group, actor=closed_group.author, count=30)

    def cast(index: int):
        body = vote_body(closed_group) | {"invite": made[index].token}
        headers = {"HTTP_X_ANON_ID": f"room-invitee-{index:04d}", "REMOTE_ADDR": "203.0.113.50"}
        return outcome(client_for().post("/api/votes", body, format="json", **headers))

    results = run_together(30, cast)

    assert Counter(results) == {(201, None): 30}
    assert vote_counts(closed_group) == (30, 30, 30)
