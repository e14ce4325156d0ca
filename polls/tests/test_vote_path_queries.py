"""The vote path's database work, pinned by count: another query on it must be a decision.

On a busy poll the author already has an unread "new votes" notice, and a vote makes
exactly the statements below. SAVEPOINT/RELEASE stand for BEGIN/COMMIT in a server, where
one batch's statements write every vote that arrived together (polls.ballot_box).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from polls.tests.factories import pick

pytestmark = pytest.mark.django_db

READS_BEFORE = ["SELECT"]  # the poll, with its author
CHECKS = [
    "SELECT",  # did a moderator void this voter's ballot on the poll? (then no second one)
    "SELECT",  # the options picked
]
# Once per batch that holds anonymous ballots with an address; SQLite's writers need no lock.
ANONYMOUS_CAP = [
    *(["SELECT"] if connection.vendor == "postgresql" else []),  # lock each poll and address of the batch
    "SELECT",  # anonymous ballots already stored from those addresses, counted per poll and address
]
WRITES = [
    "INSERT",  # the ballots
    "SELECT",  # which ballots were new (the others met a voter's earlier ballot)
    "INSERT",  # the votes
    "UPDATE",  # the poll's total and results_version
    "UPDATE",  # the option's count
    "SELECT",  # the author's unread notice of votes, locked
    "UPDATE",  # counted one more ("3 new votes on …") with F(), its text in the same statement
    "SELECT",  # the results every voter of the batch is answered with
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
    statements = cast(client_for(UserFactory()), busy_poll)

    assert statements == READS_BEFORE + CHECKS + ["SAVEPOINT"] + WRITES + ["RELEASE"]


def test_an_anonymous_vote(api_client, busy_poll):
    statements = cast(api_client, busy_poll, HTTP_X_ANON_ID="query-count-visitor-01")

    assert statements == READS_BEFORE + CHECKS + ["SAVEPOINT"] + ANONYMOUS_CAP + WRITES + ["RELEASE"]
