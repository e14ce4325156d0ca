"""Moderation: holds only moderators lift, one rule for what moderators may edit, voided ballots, the audit log."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEntry, Notification
from accounts.tests.factories import UserFactory
from polls import errors, services
from polls.models import Ballot, Poll, VoidedBallot, Vote
from polls.permissions import AUTHOR_EDITABLE_FIELDS, MODERATOR_EDITABLE_FIELDS, editable_fields
from polls.tests.factories import PollFactory, pick, visitor, vote_counts
from polls.voters import Voter

pytestmark = pytest.mark.django_db

REASON = "Spam links in the options."


@pytest.fixture
def moderator_client(client_for, moderator):
    return client_for(moderator)


def hold(client, poll, reason=REASON):
    return client.post(f"/api/polls/{poll.pk}/hold", {"reason": reason}, format="json")


def audit_actions(poll) -> list[str]:
    return list(AuditEntry.objects.filter(target_id=str(poll.pk)).order_by("created_at").values_list("action", flat=True))


# --- Holds -------------------------------------------------------------------------------------------


def test_an_author_cannot_undo_a_moderators_hold(poll, owner_client, moderator_client):
    """The attack: a moderator closed and unlisted a poll, the author reopened and relisted it."""
    assert hold(moderator_client, poll).status_code == 200
    poll.refresh_from_db()
    assert (poll.is_active, poll.is_public, poll.is_held) == (False, False, True)

    reopened = owner_client.post(f"/api/polls/{poll.pk}/activate")
    relisted = owner_client.patch(f"/api/polls/{poll.pk}", {"is_public": True}, format="json")
    lifted = owner_client.delete(f"/api/polls/{poll.pk}/hold")

    assert (reopened.status_code, reopened.json()["code"]) == (409, "moderation_hold")
    assert REASON in reopened.json()["detail"]
    assert (relisted.status_code, relisted.json()["code"]) == (409, "moderation_hold")
    assert relisted.json()["fields"] == {"is_public": ["Locked while the poll is on hold."]}
    assert (lifted.status_code, lifted.json()["code"]) == (403, "forbidden")
    poll.refresh_from_db()
    assert (poll.is_active, poll.is_public, poll.is_held) == (False, False, True)
    assert not Poll.objects.listed().filter(pk=poll.pk).exists()


def test_a_held_poll_refuses_votes_and_likes(poll, moderator):
    services.hold_poll(poll=poll, moderator=moderator, reason=REASON)
    with pytest.raises(errors.PollClosed):
        services.cast_vote(poll=poll, voter=visitor(1), option_ids=pick(poll, "Red"))
    with pytest.raises(errors.PollClosed):
        services.like_poll(poll=poll, voter=visitor(1))


def test_the_author_reads_why_and_is_notified(poll, owner_client, other_client, api_client, moderator):
    services.hold_poll(poll=poll, moderator=moderator, reason=REASON)

    mine = owner_client.get(f"/api/polls/{poll.pk}").json()["moderation"]
    assert mine["held"] is True and mine["reason"] == REASON and mine["held_at"]
    assert mine["held_by"] is None  # the author learns why, not which moderator
    assert other_client.get(f"/api/polls/{poll.pk}").json()["moderation"] is None
    assert api_client.get(f"/api/polls/{poll.pk}").json()["moderation"] is None
    notice = Notification.objects.get(recipient=poll.author, kind=Notification.Kind.POLL_HELD)
    assert REASON in notice.payload["message"]


def test_moderators_see_who_held_it(poll, moderator_client, moderator):
    services.hold_poll(poll=poll, moderator=moderator, reason=REASON)
    assert moderator_client.get(f"/api/polls/{poll.pk}").json()["moderation"]["held_by"] == moderator.username


def test_the_poll_page_shows_the_author_the_reason(poll, client, owner, other_user, moderator):
    services.hold_poll(poll=poll, moderator=moderator, reason=REASON)
    client.force_login(owner)
    page = client.get(f"/p/{poll.slug}/").content.decode()
    assert REASON in page and "Reopen the poll" not in page
    client.force_login(other_user)
    assert REASON not in client.get(f"/p/{poll.slug}/").content.decode()


def test_held_the_author_may_still_fix_the_title_but_not_reopen_from_the_page(poll, client, owner, moderator):
    services.hold_poll(poll=poll, moderator=moderator, reason=REASON)
    client.force_login(owner)
    client.post(f"/p/{poll.slug}/open/", {"open": "1"})
    services.update_poll(poll=poll, actor=owner, title="Favourite colour (fixed)?")
    poll.refresh_from_db()
    assert poll.title == "Favourite colour (fixed)?" and not poll.is_active and poll.is_held
    with pytest.raises(errors.ModerationHold):
        services.update_poll(poll=poll, actor=owner, results_visibility="owner_only")


def test_lifting_leaves_it_closed_until_the_author_reopens_it(poll, owner_client, moderator_client, moderator):
    services.hold_poll(poll=poll, moderator=moderator, reason=REASON)
    lifted = moderator_client.delete(f"/api/polls/{poll.pk}/hold", {"reason": "Links removed."}, format="json")
    assert lifted.status_code == 200 and lifted.json()["moderation"]["held"] is False
    assert lifted.json()["is_active"] is False
    assert owner_client.post(f"/api/polls/{poll.pk}/activate").status_code == 200
    assert owner_client.patch(f"/api/polls/{poll.pk}", {"is_public": True}, format="json").status_code == 200
    assert Notification.objects.filter(recipient=poll.author, kind=Notification.Kind.HOLD_LIFTED).exists()
    assert audit_actions(poll) == ["poll_held", "hold_lifted"]
    entry = AuditEntry.objects.get(action="hold_lifted")
    assert entry.reason == "Links removed." and entry.details["hold_reason"] == REASON


@pytest.mark.parametrize(
    "body, status, code",
    [({}, 400, "invalid"), ({"reason": "   "}, 400, "invalid"), ({"reason": "x" * 1001}, 400, "invalid")],
)
def test_a_hold_needs_a_reason(poll, moderator_client, body, status, code):
    answer = moderator_client.post(f"/api/polls/{poll.pk}/hold", body, format="json")
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    poll.refresh_from_db()
    assert not poll.is_held


def test_holding_twice_or_lifting_no_hold_is_a_conflict(poll, moderator_client):
    assert hold(moderator_client, poll).status_code == 200
    assert hold(moderator_client, poll).json()["code"] == "already_held"
    moderator_client.delete(f"/api/polls/{poll.pk}/hold")
    again = moderator_client.delete(f"/api/polls/{poll.pk}/hold")
    assert (again.status_code, again.json()["code"]) == (409, "not_held")


def test_hold_endpoint_wrong_method_and_missing_poll(poll, moderator_client):
    assert moderator_client.get(f"/api/polls/{poll.pk}/hold").status_code == 405
    missing = moderator_client.post("/api/polls/00000000-0000-0000-0000-000000000000/hold", {"reason": REASON})
    assert missing.status_code == 404


def test_held_polls_have_a_name(poll, moderator):
    services.hold_poll(poll=poll, moderator=moderator, reason=REASON)
    other = PollFactory(author=poll.author)
    assert list(Poll.objects.held()) == [poll]
    assert [p.is_held for p in (Poll.objects.get(pk=poll.pk), other)] == [True, False]


# --- What moderators may edit: one rule ----------------------------------------------------------------


def test_moderators_cannot_change_how_someone_elses_poll_votes_or_shows_results(poll, moderator_client):
    """The hole: the admin limited moderators to a few fields, the API let them change any."""
    for field, value in [("results_visibility", "owner_only"), ("allow_anonymous", False), ("expires_at", None)]:
        if field == "expires_at":
            value = (timezone.now() + timedelta(days=1)).isoformat()
        answer = moderator_client.patch(f"/api/polls/{poll.pk}", {field: value}, format="json")
        assert (answer.status_code, answer.json()["code"]) == (403, "not_editable"), field
        assert field in answer.json()["fields"]
    poll.refresh_from_db()
    assert (poll.results_visibility, poll.allow_anonymous, poll.expires_at) == ("always", True, None)
    assert AuditEntry.objects.count() == 0


def test_moderators_fix_a_title_and_the_audit_log_says_so(poll, moderator_client, moderator):
    answer = moderator_client.patch(f"/api/polls/{poll.pk}", {"title": "Colours"}, format="json")
    assert answer.status_code == 200
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.target_label) == (moderator, "poll_edited", "Colours")
    assert entry.details == {"title": ["Favourite colour?", "Colours"]}


def test_a_put_sending_unchanged_fields_back_is_no_attempt_to_change_them(poll, moderator_client):
    body = {"title": "Colours", "options": ["Red", "Green", "Blue"], "results_visibility": "always"}
    assert moderator_client.put(f"/api/polls/{poll.pk}", body, format="json").status_code == 200


def test_authors_keep_every_field_of_their_own_poll(poll, owner_client, owner):
    answer = owner_client.patch(f"/api/polls/{poll.pk}", {"results_visibility": "owner_only"}, format="json")
    assert answer.status_code == 200
    assert editable_fields(owner, poll) == AUTHOR_EDITABLE_FIELDS
    assert AuditEntry.objects.count() == 0


def test_the_edit_page_offers_moderators_only_their_fields(poll, client, moderator):
    client.force_login(moderator)
    form = client.get(f"/p/{poll.slug}/edit/").context["form"]
    offered = {name for name, field in form.fields.items() if not field.disabled}
    assert offered == MODERATOR_EDITABLE_FIELDS & set(form.fields)
    client.post(
        f"/p/{poll.slug}/edit/",
        {"title": "Colours", "options": ["Red", "Green", "Blue"], "results_visibility": "owner_only", "is_public": "on"},
    )
    poll.refresh_from_db()
    assert (poll.title, poll.results_visibility) == ("Colours", "always")


def test_the_admin_offers_moderators_the_same_fields(poll, client, moderator):
    client.force_login(moderator)
    form = client.get(f"/admin/polls/poll/{poll.pk}/change/").context["adminform"].form
    assert set(form.fields) == MODERATOR_EDITABLE_FIELDS


# --- Voided ballots ------------------------------------------------------------------------------------


@pytest.fixture
def cluster(poll, other_user):
    """Three ballots from 198.51.100.0/24 (two Red, one Green), one from elsewhere (Blue), one account (Red)."""
    for number, (text, address) in enumerate(
        [("Red", "198.51.100.7"), ("Red", "198.51.100.8"), ("Green", "198.51.100.200"), ("Blue", "203.0.113.9")]
    ):
        services.cast_vote(poll=poll, voter=visitor(number, ip_address=address), option_ids=pick(poll, text))
    services.cast_vote(poll=poll, voter=Voter(user=other_user, ip_address="192.0.2.1"), option_ids=pick(poll, "Red"))
    assert vote_counts(poll) == (5, 5, 5)
    return poll


def option_counts(poll) -> dict[str, int]:
    return dict(poll.options.values_list("text", "vote_count"))


def test_voiding_a_network_keeps_every_counter_exact(cluster, moderator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        voided = services.void_ballots(poll=cluster, moderator=moderator, reason="Burst", network="198.51.100.0/24")
    assert voided == 3
    assert vote_counts(cluster) == (2, 2, 2)
    assert option_counts(cluster) == {"Red": 1, "Green": 0, "Blue": 1}
    assert Ballot.objects.filter(poll=cluster).count() == 2
    assert VoidedBallot.objects.filter(poll=cluster).count() == 3
    assert callbacks, "the new results are announced once committed"
    entry = AuditEntry.objects.get(action="ballots_voided")
    assert entry.details["count"] == 3 and entry.details["network"] == "198.51.100.0/24" and entry.reason == "Burst"


def test_a_voided_voter_cannot_simply_vote_again(cluster, moderator):
    services.void_ballots(poll=cluster, moderator=moderator, reason="Burst", network="198.51.100.7")
    with pytest.raises(errors.BallotVoided):
        services.cast_vote(poll=cluster, voter=visitor(0, ip_address="198.51.100.7"), option_ids=pick(cluster, "Red"))
    assert vote_counts(cluster) == (4, 4, 4)


def test_a_voided_account_cannot_simply_vote_again_while_another_account_can(cluster, moderator, other_user):
    services.void_ballots(poll=cluster, moderator=moderator, reason="Burst", network="192.0.2.1")
    with pytest.raises(errors.BallotVoided):
        services.cast_vote(poll=cluster, voter=Voter(user=other_user, ip_address="192.0.2.1"), option_ids=pick(cluster, "Red"))

    services.cast_vote(poll=cluster, voter=Voter(user=UserFactory(), ip_address="192.0.2.1"), option_ids=pick(cluster, "Red"))
    assert vote_counts(cluster) == (5, 5, 5)


def test_voiding_by_time_window(cluster, moderator):
    Vote.objects.filter(poll=cluster).update(created_at=timezone.now() - timedelta(hours=3))
    Ballot.objects.filter(poll=cluster, anon_id="visitor-3").update(created_at=timezone.now() - timedelta(hours=3))
    Ballot.objects.filter(poll=cluster).exclude(anon_id="visitor-3").update(created_at=timezone.now())
    since = timezone.now() - timedelta(hours=1)
    assert services.count_suspicious_ballots(poll=cluster, moderator=moderator, since=since) == 4
    assert vote_counts(cluster) == (5, 5, 5)  # a preview voids nothing
    services.void_ballots(poll=cluster, moderator=moderator, reason="Burst", since=since)
    assert vote_counts(cluster) == (1, 1, 1)
    assert option_counts(cluster) == {"Red": 0, "Green": 0, "Blue": 1}


def test_void_ballots_api(cluster, moderator_client, other_client):
    url = f"/api/polls/{cluster.pk}/void-ballots"
    preview = moderator_client.post(url, {"network": "198.51.100.0/24", "preview": True}, format="json")
    assert preview.json() == {"voided": 3, "preview": True}
    assert vote_counts(cluster) == (5, 5, 5)
    refused = other_client.post(url, {"network": "198.51.100.0/24", "reason": "x"}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    done = moderator_client.post(url, {"network": "198.51.100.0/24", "reason": "Burst"}, format="json")
    assert done.json() == {"voided": 3, "preview": False}
    assert vote_counts(cluster) == (2, 2, 2)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"network": "not-a-network", "reason": "x"}, "network"),
        ({"reason": "x"}, "network"),
        ({"network": "198.51.100.0/24"}, "reason"),
        ({"since": "2030-01-02T00:00:00Z", "until": "2030-01-01T00:00:00Z", "reason": "x"}, "until"),
        ({"since": "yesterday", "reason": "x"}, "since"),
    ],
)
def test_void_ballots_api_refuses_bad_input(cluster, moderator_client, body, field):
    answer = moderator_client.post(f"/api/polls/{cluster.pk}/void-ballots", body, format="json")
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid")
    assert field in answer.json()["fields"]
    assert vote_counts(cluster) == (5, 5, 5)


def test_void_ballots_wrong_method_and_missing_poll(cluster, moderator_client):
    assert moderator_client.get(f"/api/polls/{cluster.pk}/void-ballots").status_code == 405
    missing = moderator_client.post("/api/polls/00000000-0000-0000-0000-000000000000/void-ballots", {"reason": "x"})
    assert missing.status_code == 404


def test_the_admin_previews_then_voids(cluster, client, moderator):
    client.force_login(moderator)
    url = f"/admin/polls/poll/{cluster.pk}/void-ballots/"
    page = client.post(url, {"network": "198.51.100.0/24", "reason": "Burst", "preview": "1"})
    assert page.context["preview"] == 3 and vote_counts(cluster) == (5, 5, 5)
    client.post(url, {"network": "198.51.100.0/24", "reason": "Burst", "void": "1"})
    assert vote_counts(cluster) == (2, 2, 2)


# --- The audit log -------------------------------------------------------------------------------------


def test_moderators_closing_deleting_and_removing_are_logged(cluster, moderator, other_user):
    services.set_poll_active(poll=cluster, actor=moderator, active=False)
    services.withdraw_vote(vote=Vote.objects.filter(ballot__user=other_user).get(), voter=None, actor=moderator)
    title, poll_id = cluster.title, str(cluster.pk)
    services.delete_poll(poll=cluster, actor=moderator, reason="Spam")
    entries = AuditEntry.objects.filter(target_id=poll_id).order_by("created_at")
    assert [entry.action for entry in entries] == ["poll_closed", "votes_removed", "poll_deleted"]
    assert entries.last().target_label == title  # the entry outlives its poll


def test_authors_acting_on_their_own_polls_are_not_logged(poll, owner):
    services.set_poll_active(poll=poll, actor=owner, active=False)
    services.delete_poll(poll=poll, actor=owner)
    assert AuditEntry.objects.count() == 0


def test_the_audit_log_cannot_be_changed_even_by_a_superuser(poll, client, moderator):
    services.hold_poll(poll=poll, moderator=moderator, reason=REASON)
    entry = AuditEntry.objects.get()
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    assert client.get("/admin/accounts/auditentry/").status_code == 200
    assert client.get("/admin/accounts/auditentry/add/").status_code == 403
    assert client.post(f"/admin/accounts/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    client.post(f"/admin/accounts/auditentry/{entry.pk}/change/", {"reason": "rewritten"})
    entry.refresh_from_db()
    assert entry.reason == REASON
    client.force_login(moderator)
    assert client.get("/admin/accounts/auditentry/").status_code == 200


def test_admin_hold_action_asks_for_a_reason(poll, client, moderator):
    client.force_login(moderator)
    changelist = "/admin/polls/poll/"
    form = client.post(changelist, {"action": "hold", "_selected_action": [str(poll.pk)]})
    assert form.status_code == 200 and "reason" in form.context["form"].fields
    poll.refresh_from_db()
    assert not poll.is_held
    client.post(changelist, {"action": "hold", "_selected_action": [str(poll.pk)], "apply": "1", "reason": REASON})
    poll.refresh_from_db()
    assert poll.is_held and poll.hold_reason == REASON
    client.post(changelist, {"action": "lift_hold", "_selected_action": [str(poll.pk)]})
    poll.refresh_from_db()
    assert not poll.is_held


def test_admin_user_actions_and_report_handling_are_logged(poll, client, moderator, other_user):
    from polls.models import Report

    client.force_login(moderator)
    client.post("/admin/accounts/user/", {"action": "deactivate", "_selected_action": [str(other_user.pk)]})
    assert AuditEntry.objects.filter(action="users_deactivated", target_id=str(other_user.pk)).exists()
    services.report_poll(poll=poll, reporter=other_user, reason=Report.Reason.SPAM)
    services.handle_reports(reports=Report.objects.all(), moderator=moderator, status=Report.Status.RESOLVED)
    assert AuditEntry.objects.get(action="reports_handled").details["status"] == "resolved"
