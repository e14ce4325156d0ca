"""Notification mails, opt-in per kind: a poll closed (final results), a report handled, the weekly digest;
choosing them (API and settings page) and the unsubscribe link in each."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts import services as account_services
from accounts.models import User
from polls import services
from polls.mails import send_weekly_digests
from polls.models import Report
from polls.tests.factories import PollFactory, pick
from polls.voters import Voter
from quickpoll.tests.pages import shown_messages, signed_in

pytestmark = pytest.mark.django_db

UNSUBSCRIBE_LINK = re.compile(r"http://testserver(/accounts/unsubscribe/[^/\s]+/)")


@pytest.fixture(autouse=True)
def _links_to_the_test_server(settings):
    settings.SITE_URL = "http://testserver"


@pytest.fixture(autouse=True)
def _no_live_broadcasts(monkeypatch):
    # The commit callbacks run inside the test's transaction here; realtime's would close its connection
    # (database_sync_to_async tidies connections), which only a real commit leaves unused.
    monkeypatch.setattr("polls.announce._listeners", [])


def wants(user, **kinds) -> User:
    return account_services.set_email_preferences(user=user, **kinds)


def close(poll, actor, capture):
    with capture(execute=True):
        services.set_poll_active(poll=poll, actor=actor, active=False)


def test_no_notification_mail_without_opting_in(owner, django_capture_on_commit_callbacks):
    poll = PollFactory(author=owner)

    close(poll, owner, django_capture_on_commit_callbacks)

    assert mail.outbox == []


def test_a_closed_poll_mails_its_final_results(owner, other_user, django_capture_on_commit_callbacks):
    wants(owner, poll_closed=True)
    poll = PollFactory(author=owner, title="Tea or coffee?", options=["Tea", "Coffee"])
    services.cast_vote(poll=poll, voter=Voter(user=other_user), option_ids=pick(poll, "Tea"))

    close(poll, owner, django_capture_on_commit_callbacks)

    [message] = mail.outbox
    assert message.to == ["owner@example.com"] and message.subject == "Final results: Tea or coffee?"
    assert "Final results (1 vote):" in message.body
    assert "- Tea: 1 vote (100.0%)" in message.body and "- Coffee: 0 votes (0.0%)" in message.body
    assert f"http://testserver/p/{poll.slug}/" in message.body
    html = message.alternatives[0][0]
    assert "Tea" in html and "1 vote (100.0%)" in html
    # One click in the mail client, or the link in the mail, stops this kind.
    link = UNSUBSCRIBE_LINK.search(message.body).group(1)
    assert message.extra_headers["List-Unsubscribe"] == f"<http://testserver{link}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_secret_poll_mails_a_link_rather_than_counts(owner, django_capture_on_commit_callbacks):
    wants(owner, poll_closed=True)
    poll = PollFactory(author=owner, is_secret=True)

    close(poll, owner, django_capture_on_commit_callbacks)

    assert "Final results" not in mail.outbox[0].body and f"/p/{poll.slug}/" in mail.outbox[0].body


def test_a_handled_report_is_mailed_without_the_reporter(owner, other_user, moderator, django_capture_on_commit_callbacks):
    wants(owner, report_handled=True)
    poll = PollFactory(author=owner, title="Cats or dogs?")
    services.report_poll(poll=poll, reporter=other_user, reason=Report.Reason.SPAM)

    with django_capture_on_commit_callbacks(execute=True):
        services.handle_reports(reports=Report.objects.filter(poll=poll), moderator=moderator, status=Report.Status.DISMISSED)

    [message] = mail.outbox
    assert message.subject == "A report on your poll was handled: Cats or dogs?"
    assert "found nothing against the rules" in message.body and "other" not in message.body.replace("another", "")


# --- The weekly digest --------------------------------------------------------------------------------


def test_the_digest_tells_a_week_of_votes_and_likes_once(owner, other_user, django_capture_on_commit_callbacks):
    wants(owner, weekly_digest=True)
    poll = PollFactory(author=owner, title="Lunch?", options=["Soup", "Salad"])
    services.cast_vote(poll=poll, voter=Voter(user=other_user), option_ids=pick(poll, "Soup"))
    services.like_poll(poll=poll, voter=Voter(user=other_user))

    with django_capture_on_commit_callbacks(execute=True):
        assert send_weekly_digests() == 1
        assert send_weekly_digests() == 0  # not again within the week

    [message] = mail.outbox
    assert message.subject == "Your week on QuickPoll"
    assert "1 new vote" in message.body and "1 new like" in message.body and "- Lunch?:" in message.body

    with django_capture_on_commit_callbacks(execute=True):
        assert send_weekly_digests(now=timezone.now() + timedelta(days=8)) == 0  # a quiet week: no mail


def test_no_digest_without_opting_in_or_without_activity(owner, other_user, django_capture_on_commit_callbacks):
    poll = PollFactory(author=owner)
    services.cast_vote(poll=poll, voter=Voter(user=other_user), option_ids=pick(poll, "Red"))
    wants(other_user, weekly_digest=True)  # opted in, but no poll of theirs saw anything

    with django_capture_on_commit_callbacks(execute=True):
        assert send_weekly_digests() == 0

    assert mail.outbox == []


# --- Choosing and unsubscribing ------------------------------------------------------------------------


def test_choosing_mails_on_the_api(owner_client, owner):
    assert owner_client.get("/api/users/me/email-preferences").json() == {
        "poll_closed": False,
        "report_handled": False,
        "weekly_digest": False,
    }

    response = owner_client.patch("/api/users/me/email-preferences", {"weekly_digest": True}, format="json")

    assert response.json() == {"poll_closed": False, "report_handled": False, "weekly_digest": True}
    owner.refresh_from_db()
    assert owner.email_weekly_digest


def test_choosing_mails_on_the_settings_page(owner):
    browser = signed_in(owner)
    page = browser.get("/accounts/settings/").content.decode()
    assert 'id="email-heading"' in page and 'name="mails-weekly_digest"' in page

    response = browser.post("/accounts/settings/email/preferences/", {"mails-poll_closed": "on"}, follow=True)

    assert ("success", "Your mail choices are saved.") in shown_messages(response)
    owner.refresh_from_db()
    assert (owner.email_poll_closed, owner.email_report_handled, owner.email_weekly_digest) == (True, False, False)


def unsubscribe_link(owner, capture) -> str:
    wants(owner, poll_closed=True, weekly_digest=True)
    close(PollFactory(author=owner), owner, capture)
    return UNSUBSCRIBE_LINK.search(mail.outbox[-1].body).group(1)


def test_the_unsubscribe_link_asks_then_stops_that_kind_only(owner, django_capture_on_commit_callbacks):
    link = unsubscribe_link(owner, django_capture_on_commit_callbacks)
    browser = Client()

    assert browser.get(link).status_code == 200
    owner.refresh_from_db()
    assert owner.email_poll_closed  # opening the link changes nothing

    response = browser.post(link)

    assert response.status_code == 200 and "You are unsubscribed" in response.content.decode()
    owner.refresh_from_db()
    assert (owner.email_poll_closed, owner.email_weekly_digest) == (False, True)


def test_a_mail_clients_one_click_unsubscribe_needs_no_csrf_token(owner, django_capture_on_commit_callbacks):
    link = unsubscribe_link(owner, django_capture_on_commit_callbacks)

    response = Client(enforce_csrf_checks=True).post(link, {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    owner.refresh_from_db()
    assert not owner.email_poll_closed


def test_a_forged_unsubscribe_link_is_refused(owner):
    assert Client().post("/accounts/unsubscribe/forged-token/").status_code == 400
