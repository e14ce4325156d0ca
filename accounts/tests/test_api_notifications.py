"""/api/notifications: what happens to my polls, as the other endpoints make it happen."""

import json
import uuid

import pytest

from accounts.models import Notification
from polls import services
from polls.tests.factories import PollFactory, pick, visitor
from polls.voters import Voter
from quickpoll.tests.assertions import assert_error

pytestmark = pytest.mark.django_db

ANON_ID = "api-client-anon-0001"


@pytest.fixture
def poll(owner):
    return PollFactory(author=owner, title="Cats or dogs?", options=["Cats", "Dogs"])


def vote(client, poll, text="Cats", **headers):
    return client.post("/api/votes", {"poll_id": str(poll.pk), "option_ids": [str(pick(poll, text)[0])]}, format="json", **headers)


def like(client, poll, **headers):
    return client.post("/api/likes", {"poll_id": str(poll.pk)}, format="json", **headers)


def report(client, poll):
    return client.post(f"/api/polls/{poll.pk}/report", {"reason": "spam"}, format="json")


def inbox(client, query: str = "") -> list[dict]:
    response = client.get(f"/api/notifications{query}")
    assert response.status_code == 200
    assert set(response.json()) == {"count", "next", "previous", "results"}
    return response.json()["results"]


ACTIONS = {"vote": vote, "like": like, "report": report}


@pytest.mark.parametrize("action", list(ACTIONS))
def test_what_others_do_to_my_poll_notifies_me(owner_client, other_client, poll, action):
    assert ACTIONS[action](other_client, poll).status_code == 201

    [notification] = inbox(owner_client)

    assert set(notification) == {"id", "kind", "poll_id", "message", "count", "payload", "is_read", "read_at", "created_at"}
    assert notification["count"] == 1
    assert (notification["kind"], notification["poll_id"], notification["is_read"]) == (action, str(poll.pk), False)
    assert "Cats or dogs?" in notification["message"]
    assert inbox(other_client) == []


def test_a_report_does_not_name_its_reporter(owner_client, other_client, poll):
    report(other_client, poll)

    [notification] = inbox(owner_client)

    assert notification["payload"]["actor"] == "Someone"
    assert "other" not in json.dumps(notification)


@pytest.mark.parametrize("action", ["vote", "like"])
def test_anonymous_votes_and_likes_notify_the_author(owner_client, api_client, poll, action):
    assert ACTIONS[action](api_client, poll, HTTP_X_ANON_ID=ANON_ID).status_code == 201

    [notification] = inbox(owner_client)

    assert notification["kind"] == action
    assert notification["payload"]["actor"] == "Someone"


@pytest.mark.parametrize(
    "action",
    [
        "vote",
        "like",
    ],  # an author cannot report their own poll (polls.permissions.can_report)
)
def test_nobody_is_notified_of_their_own_doing(owner_client, poll, action):
    assert ACTIONS[action](owner_client, poll).status_code == 201

    assert inbox(owner_client) == []


def test_votes_group_into_one_unread_notice_that_counts_them_until_it_is_read(owner_client, other_client, api_client, poll, staff_user, client_for):
    vote(other_client, poll)
    [single] = inbox(owner_client)
    assert (single["kind"], single["count"], single["message"]) == ("vote", 1, "other voted on “Cats or dogs?”.")

    vote(api_client, poll, HTTP_X_ANON_ID=ANON_ID)
    vote(client_for(staff_user), poll, "Dogs")

    [grouped] = inbox(owner_client)
    assert grouped["id"] == single["id"]
    assert (grouped["count"], grouped["message"], grouped["is_read"]) == (3, "3 new votes on “Cats or dogs?”.", False)
    assert Notification.objects.filter(recipient=poll.author).count() == 1

    owner_client.post(f"/api/notifications/{grouped['id']}/read")
    services.cast_vote(poll=poll, voter=visitor(7), option_ids=pick(poll, "Dogs"))

    [unread] = inbox(owner_client, "?unread=true")
    assert unread["kind"] == "vote" and unread["id"] != grouped["id"] and unread["count"] == 1
    assert len(inbox(owner_client)) == 2


def test_reports_group_into_one_unread_notice_that_counts_them(owner_client, other_client, client_for, staff_user, poll):
    report(other_client, poll)
    report(client_for(staff_user), poll)

    [grouped] = inbox(owner_client)
    assert (grouped["kind"], grouped["count"]) == ("report", 2)
    assert grouped["message"] == "“Cats or dogs?” was reported to the moderators 2 times."


def test_closing_again_groups_into_the_unread_closed_notice(owner_client, client_for, moderator, poll):
    moderators = client_for(moderator)
    assert moderators.post(f"/api/polls/{poll.pk}/deactivate").status_code == 200
    assert owner_client.post(f"/api/polls/{poll.pk}/activate").status_code == 200
    assert moderators.post(f"/api/polls/{poll.pk}/deactivate").status_code == 200

    [grouped] = inbox(owner_client)
    assert (grouped["kind"], grouped["count"]) == ("poll_closed", 2)
    assert grouped["message"] == "Your poll “Cats or dogs?” has closed 2 times."


def test_holds_are_not_grouped_as_each_gives_its_own_reason(owner, moderator, poll):
    services.hold_poll(poll=poll, moderator=moderator, reason="Spam links")
    services.lift_hold(poll=poll, moderator=moderator)
    services.hold_poll(poll=poll, moderator=moderator, reason="Still spam")

    held = Notification.objects.filter(recipient=owner, kind=Notification.Kind.POLL_HELD).order_by("created_at")
    assert [notice.payload["message"].rsplit(": ", 1)[1] for notice in held] == ["Spam links", "Still spam"]


def test_likes_group_into_one_unread_notice_that_counts_them(owner_client, other_client, api_client, poll, client_for, staff_user):
    like(other_client, poll)
    [single] = inbox(owner_client)
    assert (single["count"], single["message"]) == (1, "other liked “Cats or dogs?”.")

    for number in range(11):
        assert like(api_client, poll, HTTP_X_ANON_ID=f"grouped-liker-{number:04d}").status_code == 201

    [grouped] = inbox(owner_client)
    assert grouped["id"] == single["id"]
    assert (grouped["count"], grouped["message"], grouped["is_read"]) == (12, "12 people liked “Cats or dogs?”.", False)
    assert Notification.objects.filter(recipient=poll.author).count() == 1

    owner_client.post(f"/api/notifications/{grouped['id']}/read")
    like(client_for(staff_user), poll)

    [fresh] = inbox(owner_client, "?unread=true")
    assert fresh["id"] != grouped["id"] and fresh["count"] == 1
    assert "liked “Cats or dogs?”" in fresh["message"]


def test_the_notifications_page_shows_the_grouped_count(client, owner, other_client, api_client, poll):
    like(other_client, poll)
    like(api_client, poll, HTTP_X_ANON_ID="grouped-liker-page-01")
    client.force_login(owner)

    page = client.get("/notifications/")

    assert "2 people liked “Cats or dogs?”." in page.content.decode()


def test_the_list_shows_only_my_notifications(owner_client, other_client, owner, other_user, poll):
    theirs = PollFactory(author=other_user)
    services.like_poll(poll=theirs, voter=Voter(user=owner))
    services.like_poll(poll=poll, voter=Voter(user=other_user))

    mine = inbox(owner_client)
    their_inbox = inbox(other_client)

    assert [(n["kind"], n["poll_id"]) for n in mine] == [("like", str(poll.pk))]
    assert [(n["kind"], n["poll_id"]) for n in their_inbox] == [("like", str(theirs.pk))]


@pytest.fixture
def two_notifications(poll, other_user):
    """A like (older) and a vote on the owner's poll, both unread."""
    services.like_poll(poll=poll, voter=Voter(user=other_user))
    services.cast_vote(poll=poll, voter=Voter(user=other_user), option_ids=pick(poll, "Cats"))
    return {n.kind: n for n in Notification.objects.filter(recipient=poll.author)}


@pytest.mark.parametrize("flag", ["true", "1", "yes", "TRUE"])
def test_unread_lists_only_unread_notifications(owner_client, two_notifications, flag):
    owner_client.post(f"/api/notifications/{two_notifications['like'].pk}/read")

    assert [n["kind"] for n in inbox(owner_client, f"?unread={flag}")] == ["vote"]
    assert {n["kind"] for n in inbox(owner_client, "?unread=false")} == {"vote", "like"}


def test_reading_one_notification(owner_client, two_notifications):
    like_notice = two_notifications["like"]

    response = owner_client.post(f"/api/notifications/{like_notice.pk}/read")

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["is_read"]) == (str(like_notice.pk), True)
    assert response.json()["read_at"] is not None
    like_notice.refresh_from_db()
    assert like_notice.read_at is not None
    two_notifications["vote"].refresh_from_db()
    assert two_notifications["vote"].read_at is None


def test_one_notification_by_id(owner_client, two_notifications):
    response = owner_client.get(f"/api/notifications/{two_notifications['vote'].pk}")

    assert response.status_code == 200
    assert response.json()["kind"] == "vote"


@pytest.mark.parametrize("action", ["read", "retrieve"])
def test_someone_elses_or_an_unknown_notification_is_not_found(other_client, two_notifications, action):
    for notification_id in (two_notifications["vote"].pk, uuid.uuid4()):
        if action == "read":
            response = other_client.post(f"/api/notifications/{notification_id}/read")
        else:
            response = other_client.get(f"/api/notifications/{notification_id}")
        assert_error(response, 404, "not_found")

    two_notifications["vote"].refresh_from_db()
    assert two_notifications["vote"].read_at is None


def test_read_all_answers_how_many_it_marked(owner_client, other_client, two_notifications, owner, other_user):
    services.like_poll(poll=PollFactory(author=other_user), voter=Voter(user=owner))

    first = owner_client.post("/api/notifications/read-all")
    again = owner_client.post("/api/notifications/read-all")

    assert (first.status_code, first.json()) == (200, {"count": 2})
    assert (again.status_code, again.json()) == (200, {"count": 0})
    assert inbox(owner_client, "?unread=true") == []
    # Someone else's notifications stay unread.
    assert len(inbox(other_client, "?unread=true")) == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/notifications"),
        ("get", "/api/notifications/{id}"),
        ("post", "/api/notifications/{id}/read"),
        ("post", "/api/notifications/read-all"),
    ],
)
def test_notifications_need_a_login(api_client, two_notifications, method, path):
    response = getattr(api_client, method)(path.format(id=two_notifications["vote"].pk))

    assert_error(response, 401, "login_required")
    assert Notification.objects.filter(read_at__isnull=True).count() == 2


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/api/notifications"), ("delete", "/api/notifications/{id}"), ("get", "/api/notifications/read-all")],
)
def test_wrong_methods_are_refused(owner_client, two_notifications, method, path):
    response = getattr(owner_client, method)(path.format(id=two_notifications["vote"].pk))

    assert_error(response, 405, "method_not_allowed")
    assert Notification.objects.count() == 2


def test_a_moderator_closing_my_poll_notifies_me(owner_client, client_for, moderator, poll):
    response = client_for(moderator).post(f"/api/polls/{poll.pk}/deactivate")

    assert response.status_code == 200
    [notification] = inbox(owner_client)
    assert (notification["kind"], notification["poll_id"]) == ("poll_closed", str(poll.pk))


def test_closing_my_own_poll_does_not_notify_me(owner_client, poll):
    assert owner_client.post(f"/api/polls/{poll.pk}/deactivate").status_code == 200

    assert inbox(owner_client) == []
