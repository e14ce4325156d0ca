"""The outbox: events written with their change, in its transaction, and nothing asked when nobody listens."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from polls import answers, services
from polls.tests.factories import PollFactory, pick, visitor
from webhooks.models import Event, OutboxEvent

pytestmark = pytest.mark.django_db


def vote(client, poll) -> int:
    body = {"poll_id": str(poll.pk), "option_ids": [str(pick(poll, "Red")[0])]}
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/votes", body, format="json")
    assert response.status_code == 201
    return len(queries.captured_queries)


def test_a_vote_writes_results_changed_for_the_authors_endpoint(client_for, poll, make_endpoint):
    endpoint = make_endpoint(events=["results.changed"])

    vote(client_for(UserFactory()), poll)

    event = OutboxEvent.objects.get()
    assert (event.endpoint, event.event, event.poll, event.status) == (endpoint, "results.changed", poll, "pending")


def test_a_vote_asks_nothing_when_the_author_has_no_endpoint(client_for, poll, make_endpoint, other_user):
    """The vote path's cost is the same as before webhooks existed while the author has no endpoint, even
    though another account has one (polls/tests/test_vote_path_queries.py pins the statements themselves)."""
    make_endpoint(user=other_user, events=["results.changed", "vote.milestone"])
    vote(client_for(UserFactory()), poll)  # the author's unread notice exists from now on
    without = vote(client_for(UserFactory()), poll)

    listening = PollFactory(author=UserFactory())
    vote(client_for(UserFactory()), listening)
    make_endpoint(user=listening.author, events=["results.changed"])
    with_endpoint = vote(client_for(UserFactory()), listening)

    assert OutboxEvent.objects.filter(poll=poll).count() == 0
    assert with_endpoint > without  # the same measure does see the listening author's outbox work


def test_the_outbox_row_is_rolled_back_with_its_vote(poll, make_endpoint):
    make_endpoint(events=["results.changed", "vote.milestone"], milestone_every=1)

    with pytest.raises(RuntimeError), transaction.atomic():
        services.cast_vote(poll=poll, voter=visitor(1), option_ids=pick(poll, "Red"))
        assert OutboxEvent.objects.count() == 2  # written inside the vote's transaction
        raise RuntimeError("the request failed after the vote")

    assert OutboxEvent.objects.count() == 0
    assert poll.ballots.count() == 0


def test_a_milestone_every_n_ballots(poll, make_endpoint):
    make_endpoint(events=["vote.milestone"], milestone_every=2)

    for number in range(1, 6):
        services.cast_vote(poll=poll, voter=visitor(number), option_ids=pick(poll, "Red"))

    milestones = OutboxEvent.objects.filter(event=Event.VOTE_MILESTONE).order_by("created_at")
    assert [event.data["ballots"] for event in milestones] == [2, 4]


def test_results_changed_waits_an_interval_and_carries_later_changes(poll, make_endpoint):
    make_endpoint(events=["results.changed"], results_interval=60)

    for number in range(1, 4):
        services.cast_vote(poll=poll, voter=visitor(number), option_ids=pick(poll, "Red"))

    # One message waiting: the later votes ride with it (its results are read when it is sent).
    assert OutboxEvent.objects.filter(event=Event.RESULTS_CHANGED).count() == 1
    first = OutboxEvent.objects.get()
    OutboxEvent.objects.filter(pk=first.pk).update(status=OutboxEvent.Status.DELIVERED)

    services.cast_vote(poll=poll, voter=visitor(9), option_ids=pick(poll, "Blue"))

    second = OutboxEvent.objects.exclude(pk=first.pk).get()
    assert (second.next_attempt_at - first.next_attempt_at).total_seconds() == pytest.approx(60, abs=1)


def test_poll_created_and_closed(owner, make_endpoint):
    make_endpoint(events=["poll.created", "poll.closed"])
    poll = PollFactory(author=owner)

    services.set_poll_active(poll=poll, actor=owner, active=False)

    assert sorted(OutboxEvent.objects.values_list("event", flat=True)) == ["poll.closed", "poll.created"]


def test_an_endpoint_for_one_poll_hears_only_that_poll(owner, poll, make_endpoint):
    make_endpoint(events=["poll.closed"], poll=poll)
    other = PollFactory(author=owner)

    services.set_poll_active(poll=other, actor=owner, active=False)
    services.set_poll_active(poll=poll, actor=owner, active=False)

    assert list(OutboxEvent.objects.values_list("poll", flat=True)) == [poll.pk]


def test_reports_reach_moderators_endpoints_only(poll, owner, staff_user, other_user, make_endpoint):
    make_endpoint(events=["report.created"], user=staff_user)
    make_endpoint(events=["poll.closed"])  # the author's endpoint hears no report

    services.report_poll(poll=poll, reporter=other_user, reason="spam")

    event = OutboxEvent.objects.get()
    assert (event.endpoint.owner, event.event, event.data) == (staff_user, "report.created", {"reason": "spam"})


def test_open_text_answers_and_write_ins(owner, make_endpoint):
    make_endpoint(events=["answer.submitted"])
    text_poll = PollFactory(author=owner, method="text", options=[])
    write_ins = PollFactory(author=owner, allow_write_ins=True)

    answers.submit_answer(poll=text_poll, voter=visitor(1), text="Tea")
    services.suggest_option(poll=write_ins, voter=visitor(2), text="Purple")

    assert sorted(OutboxEvent.objects.values_list("data", flat=True), key=str) == [
        {"kind": "answer", "text": "Tea"},
        {"kind": "write_in", "text": "Purple"},
    ]


def test_a_hold_closes_the_poll_for_its_endpoints_too(poll, staff_user, make_endpoint):
    make_endpoint(events=["poll.closed"])

    services.hold_poll(poll=poll, moderator=staff_user, reason="Spam")

    assert list(OutboxEvent.objects.values_list("event", flat=True)) == ["poll.closed"]
