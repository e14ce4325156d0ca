"""The vote path's database work, pinned by count: another query on it must be a decision.

On a busy poll the author already has an unread "new votes" notice, and a vote makes
exactly the statements below. SAVEPOINT/RELEASE stand for BEGIN/COMMIT in a server, where
one batch's statements write every vote that arrived together (polls.group_commit).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from polls.tests.factories import pick

pytestmark = pytest.mark.django_db

READS_BEFORE = ["SELECT"]  # the poll, with its author
CHECKS = ["SELECT"]  # the options picked
ANONYMOUS_CHECKS = ["SELECT"]  # ballots from the same address, up to ANONYMOUS_BALLOTS_PER_IP
BATCH = [
    "SAVEPOINT",
    "INSERT",  # the ballots
    "SELECT",  # which ballots were new (the others met a voter's earlier ballot)
    "INSERT",  # the votes
    "UPDATE",  # the poll's total and results_version
    "UPDATE",  # the option's count
    "SELECT",  # is there an unread notice for the author?
    "SELECT",  # the results every voter of the batch is answered with
    "RELEASE",
]


def cast(client, poll, **headers) -> list[str]:
    body = {"poll_id": str(poll.pk), "option_ids": [str(pick(poll, "Red")[0])]}
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/votes", body, format="json", **headers)
    assert response.status_code == 201
    return [query["sql"].split(" ")[0] for query in queries.captured_queries]


@pytest.fixture
def busy_poll(poll, client_for):
    cast(client_for(UserFactory()), poll)  # the author's unread notice exists from now on
    return poll


def test_an_account_vote(client_for, busy_poll):
    assert cast(client_for(UserFactory()), busy_poll) == READS_BEFORE + CHECKS + BATCH


def test_an_anonymous_vote(api_client, busy_poll):
    statements = cast(api_client, busy_poll, HTTP_X_ANON_ID="query-count-visitor-01")

    assert statements == READS_BEFORE + CHECKS + ANONYMOUS_CHECKS + BATCH
