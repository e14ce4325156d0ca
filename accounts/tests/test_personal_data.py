"""A user's own data: downloading it (API and settings page) and erasing it with the account."""

import io
import json

import pytest
from django.contrib.sessions.models import Session
from django.core.files.base import ContentFile
from django.db.models import Q
from PIL import Image
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import Notification, User
from accounts.services import delete_account
from accounts.tests.factories import PASSWORD
from polls import services
from polls.models import Ballot, Poll, Report
from polls.tests.factories import PollFactory, like_counts, pick, visitor, vote_counts
from polls.voters import Voter
from quickpoll.tests.assertions import assert_error
from quickpoll.tests.pages import login_redirect, shown_messages, signed_in, text

pytestmark = pytest.mark.django_db

EXPORT = "/api/users/me/export"
PAGE_EXPORT = "/accounts/settings/export/"


def as_voter(user, ip_address="198.51.100.9") -> Voter:
    return Voter(user=user, ip_address=ip_address, user_agent="Mozilla/5.0 (X11; Linux)")


@pytest.fixture
def history(owner, other_user):
    """The owner's traces: a poll of theirs with other people's votes, a ballot and a like on
    other_user's poll, a report, a notification; and other_user's own traces beside them."""
    own_poll = PollFactory(author=owner, title="Owner's own poll")
    services.cast_vote(poll=own_poll, voter=as_voter(other_user), option_ids=pick(own_poll, "Blue"))
    services.cast_vote(poll=own_poll, voter=visitor(1), option_ids=pick(own_poll, "Blue"))
    services.like_poll(poll=own_poll, voter=as_voter(other_user))  # the owner hears of it
    theirs = PollFactory(author=other_user, title="Other's poll", allow_multiple=True)
    services.cast_vote(poll=theirs, voter=as_voter(owner), option_ids=pick(theirs, "Red", "Green"))
    services.cast_vote(poll=theirs, voter=as_voter(other_user), option_ids=pick(theirs, "Blue"))
    services.cast_vote(poll=theirs, voter=visitor(2), option_ids=pick(theirs, "Red"))
    services.like_poll(poll=theirs, voter=as_voter(owner))  # other_user hears of it, by the owner's name
    services.like_poll(poll=theirs, voter=visitor(2))
    services.report_poll(poll=theirs, reporter=owner, reason="spam", note="Looks like an ad")
    return {"own": own_poll, "theirs": theirs}


# --- Download my data -----------------------------------------------------------------------------


def test_the_export_holds_my_account_polls_ballots_likes_reports_and_notifications(owner_client, owner, history):
    response = owner_client.get(EXPORT)

    assert response.status_code == 200
    data = response.json()
    assert set(data) == {
        "exported_at", "account", "notifications", "polls", "ballots", "likes", "reports", "suggested_options", "answers",
        "webhook_endpoints",
    }
    assert data["account"]["username"] == "owner" and data["account"]["email"] == owner.email
    assert "password" not in data["account"]
    assert data["account"]["email_preferences"] == {"poll_closed": False, "report_handled": False, "weekly_digest": False}
    assert data["account"]["pending_email"] == ""
    [poll] = data["polls"]
    assert (poll["title"], poll["total_votes"], poll["likes_count"]) == ("Owner's own poll", 2, 1)
    assert {option["text"]: option["vote_count"] for option in poll["options"]} == {"Red": 0, "Green": 0, "Blue": 2}
    [ballot] = data["ballots"]
    assert ballot["poll"]["title"] == "Other's poll" and ballot["options"] == ["Red", "Green"]
    assert (ballot["ip_address"], ballot["user_agent"]) == ("198.51.100.9", "Mozilla/5.0 (X11; Linux)")
    assert ballot["cast_at"].startswith(str(Ballot.objects.get(user=owner).created_at.date()))
    assert [like["poll"]["title"] for like in data["likes"]] == ["Other's poll"]
    assert [(report["reason"], report["note"]) for report in data["reports"]] == [("spam", "Looks like an ad")]
    assert sorted(notice["kind"] for notice in data["notifications"]) == ["like", "vote"]


def test_the_export_holds_only_my_own_rows(owner_client, owner, other_user, history):
    data = owner_client.get(EXPORT).json()

    dumped = json.dumps(data)
    assert other_user.email not in dumped
    assert "visitor-" not in dumped  # other voters' anonymous ids
    assert "Blue" not in [option for ballot in data["ballots"] for option in ballot["options"]]


def test_another_user_gets_their_own_export_not_mine(other_client, other_user, history):
    data = other_client.get(EXPORT).json()
    assert data["account"]["username"] == "other"
    assert [poll["title"] for poll in data["polls"]] == ["Other's poll"]
    assert {ballot["poll"]["title"] for ballot in data["ballots"]} == {"Owner's own poll", "Other's poll"}
    assert data["reports"] == []


def test_the_export_needs_a_login(api_client):
    assert_error(api_client.get(EXPORT), 401, "login_required")


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_export_is_read_only(owner_client, method):
    assert_error(getattr(owner_client, method)(EXPORT), 405, "method_not_allowed")


def test_the_export_is_rate_limited_per_account(owner_client, settings):
    settings.RATE_LIMIT_ENABLED = settings.RATELIMIT_ENABLE = True
    settings.RATE_LIMIT_EXPORT_REQUESTS = 2
    settings.RATE_LIMIT_REQUESTS = 1000
    assert [owner_client.get(EXPORT).status_code for _ in range(2)] == [200, 200]
    response = owner_client.get(EXPORT)
    assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) > 0


def test_the_settings_page_offers_the_download(owner):
    page = signed_in(owner).get("/accounts/settings/")
    assert text(page).count(f'href="{PAGE_EXPORT}"') == 1 and "Download my data" in text(page)
    assert "<title>Settings · QuickPoll</title>" in text(page)


def test_the_download_is_the_same_document_as_a_file(owner, owner_client, history):
    response = signed_in(owner).get(PAGE_EXPORT)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="quickpoll-my-data.json"'
    downloaded = json.loads(response.content)
    answered = owner_client.get(EXPORT).json()
    assert {key: value for key, value in downloaded.items() if key != "exported_at"} == {
        key: value for key, value in answered.items() if key != "exported_at"
    }


def test_the_download_needs_a_login(client):
    response = client.get(PAGE_EXPORT)
    assert response.status_code == 302 and response["Location"] == login_redirect(PAGE_EXPORT)


def test_the_download_is_a_get(owner):
    assert signed_in(owner).post(PAGE_EXPORT).status_code == 405


def test_a_spent_download_budget_says_so_on_the_settings_page(owner, settings):
    settings.RATE_LIMIT_ENABLED = settings.RATELIMIT_ENABLE = True
    settings.RATE_LIMIT_EXPORT_REQUESTS = 1
    browser = signed_in(owner)
    assert browser.get(PAGE_EXPORT).status_code == 200
    response = browser.get(PAGE_EXPORT, follow=True)
    assert response.redirect_chain == [("/accounts/settings/", 302)]
    [(level, message)] = shown_messages(response)
    assert level == "error" and "Try again in" in message


# --- Deleting an account erases its personal data ------------------------------------------------


def _every_count_equals_its_rows() -> None:
    for poll in Poll.objects.all():
        total, option_total, rows = vote_counts(poll)
        assert total == option_total == rows, poll
        likes, like_rows = like_counts(poll)
        assert likes == like_rows, poll


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, format="PNG")
    return out.getvalue()


@pytest.mark.django_db(transaction=True)  # the avatar file goes once the deletion is really committed
def test_deleting_an_account_erases_it_and_keeps_every_count_exact(owner, other_user, history, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    owner.avatar.save("me.png", ContentFile(_png()))
    avatar = tmp_path / owner.avatar.name
    assert avatar.exists()
    login = APIClient().post("/api/users/login", {"username": "owner", "password": PASSWORD}, format="json")
    assert OutstandingToken.objects.filter(user=owner).exists()
    email = owner.email

    delete_account(user=owner)

    assert not User.objects.filter(Q(email__iexact=email) | Q(username__iexact="owner")).exists()
    assert not avatar.exists()
    [token] = OutstandingToken.objects.filter(token=login.json()["refresh"])
    assert token.user_id is None and BlacklistedToken.objects.filter(token=token).exists()
    assert not Poll.objects.filter(title="Owner's own poll").exists()
    assert not Report.objects.filter(note="Looks like an ad").exists()
    theirs = history["theirs"]
    assert vote_counts(theirs) == (2, 2, 2)  # the owner's two votes left with the ballot
    assert like_counts(theirs) == (1, 1)
    _every_count_equals_its_rows()
    # Other people's notifications no longer name the deleted account (the two likes share one notice).
    notices = Notification.objects.filter(recipient=other_user, kind=Notification.Kind.LIKE)
    assert [notice.payload["message"] for notice in notices] == ["2 people liked “Other's poll”."]
    assert not any(notice.actor_id or "owner" in json.dumps(notice.payload) for notice in notices)


def test_the_api_deletes_my_account_once_i_confirm_with_my_password(owner, history):
    access = APIClient().post("/api/users/login", {"username": "owner", "password": PASSWORD}, format="json").json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access['access']}")

    assert client.delete("/api/users/me", {"password": PASSWORD}, format="json").status_code == 204

    assert not User.objects.filter(username="owner").exists()
    _every_count_equals_its_rows()
    assert_error(client.get("/api/users/me"), 401, "authentication_failed")
    refreshed = APIClient().post("/api/users/token/refresh", {"refresh": access["refresh"]}, format="json")
    assert refreshed.status_code == 401


def test_the_api_refuses_a_deletion_without_the_right_password(owner_client, owner):
    assert_error(owner_client.delete("/api/users/me", {"password": "not-it"}, format="json"), 400, "wrong_password")
    assert_error(owner_client.delete("/api/users/me", {}, format="json"), 400, "invalid", fields=["password"])
    assert User.objects.filter(pk=owner.pk).exists()


def test_deleting_an_account_needs_a_login(api_client):
    assert_error(api_client.delete("/api/users/me", {"password": PASSWORD}, format="json"), 401, "login_required")


def test_password_guesses_through_deletion_spend_the_login_budget(owner_client, owner, settings):
    settings.RATE_LIMIT_ENABLED = settings.RATELIMIT_ENABLE = True
    settings.RATE_LIMIT_AUTH_REQUESTS = 2
    settings.RATE_LIMIT_REQUESTS = 1000
    for _ in range(2):
        owner_client.delete("/api/users/me", {"password": "guess"}, format="json")
    assert_error(owner_client.delete("/api/users/me", {"password": PASSWORD}, format="json"), 429, "rate_limited")
    assert User.objects.filter(pk=owner.pk).exists()


def test_the_settings_page_deletes_my_account_and_logs_me_out(owner, history):
    browser = signed_in(owner)
    session_key = browser.session.session_key

    response = browser.post("/accounts/settings/", {"delete-password": PASSWORD}, follow=True)

    assert response.redirect_chain == [("/", 302)]
    assert ("success", "Your account and its data are deleted.") in shown_messages(response)
    assert not User.objects.filter(username="owner").exists()
    assert not Session.objects.filter(session_key=session_key).exists()
    assert not response.wsgi_request.user.is_authenticated
    _every_count_equals_its_rows()


def test_the_settings_page_keeps_my_account_on_a_wrong_password(owner):
    response = signed_in(owner).post("/accounts/settings/", {"delete-password": "not-it"})
    assert response.status_code == 400
    assert "That password is not right." in text(response)
    assert User.objects.filter(pk=owner.pk).exists()


def test_another_user_cannot_delete_my_account_with_their_password(other_user, owner):
    response = signed_in(other_user).post("/accounts/settings/", {"delete-password": PASSWORD})
    assert response.status_code == 302
    assert User.objects.filter(pk=owner.pk).exists()  # the form deletes the signed-in account, theirs
    assert not User.objects.filter(pk=other_user.pk).exists()
