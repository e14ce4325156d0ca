"""The account pages: register, log in and out, profiles, settings and notifications."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from accounts.models import Notification, User
from accounts.tests.factories import PASSWORD, UserFactory
from polls import services
from polls.tests.factories import PollFactory, pick, visitor
from polls.voters import Voter
from quickpoll.tests.pages import field_block, field_errors, login_redirect, shown_messages, signed_in, text

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "fresh-Quick-5678"


def logged_in_as(client) -> User | None:
    """Who the client's session belongs to, as the next page sees it."""
    user = client.get("/polls/").wsgi_request.user
    return user if user.is_authenticated else None


def register_data(**changes) -> dict:
    data = {"username": "alice", "email": "alice@example.com", "password": PASSWORD, "password_again": PASSWORD}
    return data | changes


def png(size=(8, 8), color="red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def upload(name: str, content: bytes, content_type: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


# --- register -----------------------------------------------------------------------------------


def test_the_register_page_opens(db):
    response = Client().get("/accounts/register/")

    assert response.status_code == 200
    for name in ("username", "email", "password", "password_again"):
        assert f'name="{name}"' in field_block(response, name)


def test_registering_logs_in_and_goes_home(db):
    browser = Client()

    response = browser.post("/accounts/register/", register_data(), follow=True)

    assert response.redirect_chain == [("/", 302)]
    user = User.objects.get(username="alice")
    assert user.email == "alice@example.com" and user.check_password(PASSWORD)
    assert logged_in_as(browser) == user
    assert shown_messages(response) == [
        ("success", "Welcome to QuickPoll, alice!"),
        ("info", "We mailed a link to alice@example.com: follow it to confirm your address."),
    ]


def test_registering_goes_on_to_a_same_site_next(db):
    response = Client().post("/accounts/register/?next=/polls/new/", register_data())

    assert response.status_code == 302 and response["Location"] == "/polls/new/"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "http://testserver.evil.example/"])
def test_registering_never_goes_off_site(db, target):
    response = Client().post("/accounts/register/", register_data(next=target))

    assert response.status_code == 302 and response["Location"] == "/"


def test_a_taken_username_is_refused_whatever_its_case(owner):
    browser = Client()

    response = browser.post("/accounts/register/", register_data(username="OWNER"))

    assert response.status_code == 400
    assert field_errors(response, "username") == ["That username is taken."]
    assert 'value="OWNER"' in field_block(response, "username")
    assert 'value="alice@example.com"' in field_block(response, "email")
    assert User.objects.count() == 1 and logged_in_as(browser) is None


def test_a_taken_email_is_refused_whatever_its_case(owner):
    response = Client().post("/accounts/register/", register_data(email="OWNER@example.com"))

    assert response.status_code == 400
    assert field_errors(response, "email") == ["An account with that email address already exists."]
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    "password, errors",
    [
        (
            "123",
            [
                "This password is too short. It must contain at least 8 characters.",
                "This password is too common.",
                "This password is entirely numeric.",
            ],
        ),
        ("password", ["This password is too common."]),
        ("alice1234", ["The password is too similar to the username."]),
    ],
    ids=["short-numeric", "common", "like-the-username"],
)
def test_a_weak_password_is_refused(db, password, errors):
    response = Client().post("/accounts/register/", register_data(password=password, password_again=password))

    assert response.status_code == 400
    assert field_errors(response, "password") == errors
    assert not User.objects.exists()


def test_passwords_that_differ_are_refused(db):
    response = Client().post("/accounts/register/", register_data(password_again=PASSWORD + "x"))

    assert response.status_code == 400
    assert field_errors(response, "password_again") == ["The two passwords differ."]
    assert not User.objects.exists()
    # Passwords are never sent back to the browser.
    assert PASSWORD not in response.content.decode()


def test_a_bad_username_is_refused(db):
    response = Client().post("/accounts/register/", register_data(username="al ice!"))

    assert response.status_code == 400
    assert field_errors(response, "username") and not User.objects.exists()


# --- log in and out ------------------------------------------------------------------------------


@pytest.mark.parametrize("login", ["owner", "OWNER", "owner@example.com", "Owner@Example.com"])
def test_logging_in_by_username_or_email(owner, login):
    browser = Client()

    response = browser.post("/accounts/login/", {"username": login, "password": PASSWORD})

    assert response.status_code == 302 and response["Location"] == "/"
    assert logged_in_as(browser) == owner
    owner.refresh_from_db()
    assert owner.last_login is not None


@pytest.mark.parametrize(
    "login, password",
    [("owner", "not-the-password"), ("nobody", PASSWORD), ("owner", "")],
    ids=["wrong-password", "unknown-user", "no-password"],
)
def test_a_failed_login_is_400_with_a_message(owner, login, password):
    browser = Client()

    response = browser.post("/accounts/login/", {"username": login, "password": password})

    assert response.status_code == 400
    assert logged_in_as(browser) is None
    assert 'value="%s"' % login in field_block(response, "username")
    if password:
        assert "The username or password is not right." in text(response)
    else:
        assert field_errors(response, "password") == ["This field is required."]


def test_an_inactive_account_cannot_log_in(db):
    UserFactory(username="gone", is_active=False)

    response = Client().post("/accounts/login/", {"username": "gone", "password": PASSWORD})

    assert response.status_code == 400
    assert "The username or password is not right." in text(response)


@pytest.mark.parametrize("target", ["/polls/new/", "/p/some-poll/?tab=results"])
def test_logging_in_goes_on_to_a_same_site_next(owner, target):
    form = Client().get("/accounts/login/", {"next": target})
    response = Client().post("/accounts/login/", {"username": "owner", "password": PASSWORD, "next": target})

    assert f'<input type="hidden" name="next" value="{target}">' in text(form)
    assert response.status_code == 302 and response["Location"] == target


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "javascript:alert(1)",
        "http://testserver.evil.example/",
    ],
)
def test_logging_in_never_goes_off_site(owner, target):
    form = Client().get("/accounts/login/", {"next": target})
    posted = Client().post("/accounts/login/", {"username": "owner", "password": PASSWORD, "next": target})
    in_query = Client().post(f"/accounts/login/?next={target}", {"username": "owner", "password": PASSWORD})

    assert 'name="next"' not in form.content.decode()
    assert posted.status_code == 302 and posted["Location"] == "/"
    assert in_query.status_code == 302 and in_query["Location"] == "/"


def test_logging_out_is_a_post(owner):
    browser = signed_in(owner)

    assert browser.get("/accounts/logout/").status_code == 405
    assert logged_in_as(browser) == owner

    response = browser.post("/accounts/logout/", follow=True)

    assert response.redirect_chain == [("/", 302)]
    assert shown_messages(response) == [("success", "You are logged out.")]
    assert logged_in_as(browser) is None


# --- profiles ----------------------------------------------------------------------------------


@pytest.fixture
def owners_polls(owner, other_user):
    """The owner's public and unlisted poll, each voted on and liked by the other user."""
    public = PollFactory(author=owner, title="Public question")
    unlisted = PollFactory(author=owner, title="Unlisted question", is_public=False)
    theirs = PollFactory(author=other_user, title="Their question")
    member = Voter(user=owner)
    services.cast_vote(poll=theirs, voter=member, option_ids=pick(theirs, "Green"))
    services.like_poll(poll=theirs, voter=member)
    services.like_poll(poll=public, voter=visitor(1))
    return public, unlisted, theirs


def test_others_see_public_polls_only(owners_polls, other_user):
    for browser in (Client(), signed_in(other_user)):
        response = browser.get("/u/owner/")
        assert response.status_code == 200
        assert "<h1>owner</h1>" in text(response)
        assert "Public question" in text(response)
        assert "Unlisted question" not in text(response)
        assert "My votes" not in text(response) and "My likes" not in text(response)
        assert "Settings</a>" not in text(response)


def test_staff_see_unlisted_polls_on_profiles(owners_polls, staff_user):
    response = signed_in(staff_user).get("/u/owner/")

    assert "Public question" in text(response) and "Unlisted question" in text(response)


def test_my_profile_shows_all_my_polls_votes_likes_and_stats(owners_polls, owner):
    response = signed_in(owner).get("/u/owner/")

    page = text(response)
    assert "My polls" in page and "Public question" in page and "Unlisted question" in page
    votes = page.split('id="votes-heading"')[1].split("</section>")[0]
    likes = page.split('id="likes-heading"')[1].split("</section>")[0]
    assert "Their question</a>: Green" in votes
    assert "Their question</a>" in likes and "Public question" not in likes
    assert "<dt>Polls created</dt><dd>2</dd>" in page
    assert "<dt>Votes cast</dt><dd>1</dd>" in page
    assert "<dt>Likes given</dt><dd>1</dd>" in page
    assert "<dt>Likes received</dt><dd>1</dd>" in page


def test_others_are_not_told_about_unlisted_polls_in_the_stats(owners_polls, other_user):
    response = signed_in(other_user).get("/u/owner/")

    assert "<dt>Polls created</dt><dd>1</dd>" in text(response)


def test_profiles_ignore_the_case_of_the_username(owners_polls):
    assert "<h1>owner</h1>" in text(Client().get("/u/OWNER/"))


def test_a_display_name_and_bio_show_on_the_profile(db):
    UserFactory(username="carol", display_name="Carol C.", bio="Line one\nLine <b>two</b>")

    page = text(Client().get("/u/carol/"))

    assert "<h1>Carol C.</h1>" in page and "@carol" in page
    assert "Line one<br>Line &lt;b&gt;two&lt;/b&gt;" in Client().get("/u/carol/").content.decode()


@pytest.mark.parametrize("username", ["nobody", "gone"])
def test_an_unknown_or_inactive_user_is_a_friendly_404(db, username):
    UserFactory(username="gone", is_active=False)

    response = Client().get(f"/u/{username}/")

    assert response.status_code == 404
    assert "Not found" in text(response)


def test_profiles_are_read_only(owner):
    assert signed_in(owner).post("/u/owner/").status_code == 405


# --- settings ----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def profile_data(user, **changes) -> dict:
    data = {"profile-display_name": user.display_name, "profile-bio": user.bio, "profile-email": user.email}
    return data | {f"profile-{name}": value for name, value in changes.items()}


def test_settings_need_an_account(db):
    shown = Client().get("/accounts/settings/")
    posted = Client().post("/accounts/settings/", {"profile-email": "a@b.c"})
    for response in (shown, posted):
        assert response.status_code == 302 and response["Location"] == login_redirect("/accounts/settings/")


def test_the_settings_page_is_filled_in(owner):
    response = signed_in(owner).get("/accounts/settings/")

    assert response.status_code == 200
    assert 'value="owner@example.com"' in field_block(response, "profile-email")
    assert 'type="password" name="password-current_password"' in field_block(response, "password-current_password")


def test_changing_the_profile(owner):
    browser = signed_in(owner)
    owner.is_verified = True
    owner.save()

    response = browser.post(
        "/accounts/settings/",
        profile_data(owner, display_name="The Owner", bio="I ask things.", email="New.Owner@Example.COM"),
        follow=True,
    )

    assert response.redirect_chain == [("/accounts/settings/", 302)]
    assert shown_messages(response) == [
        ("success", "Profile saved."),
        ("info", "We sent a link to New.Owner@example.com: your address changes once you follow it."),
    ]
    owner.refresh_from_db()
    assert (owner.display_name, owner.bio) == ("The Owner", "I ask things.")
    # The new address waits for its link; the confirmed old one stays the account's till then.
    assert (owner.email, owner.pending_email, owner.is_verified) == ("owner@example.com", "New.Owner@example.com", True)
    assert ">The Owner (@owner)</a>" in text(response)  # the header shows the new name, beside the username


def test_keeping_the_same_email_in_another_case_is_fine(owner):
    response = signed_in(owner).post("/accounts/settings/", profile_data(owner, email="OWNER@example.com"))

    assert response.status_code == 302


def test_a_taken_email_is_refused(owner, other_user):
    response = signed_in(owner).post("/accounts/settings/", profile_data(owner, email="other@example.com"))

    assert response.status_code == 400
    owner.refresh_from_db()
    assert owner.email == "owner@example.com"


def test_a_taken_email_is_explained_beside_the_email_field(owner, other_user):
    response = signed_in(owner).post("/accounts/settings/", profile_data(owner, email="OTHER@example.com"))

    assert field_errors(response, "profile-email") == ["An account with that email address already exists."]
    assert "user_email_ci_unique" not in text(response)


def test_a_small_png_avatar_is_accepted(owner):
    browser = signed_in(owner)

    response = browser.post(
        "/accounts/settings/", profile_data(owner, avatar=upload("me.png", png(), "image/png")), follow=True
    )

    assert shown_messages(response) == [("success", "Profile saved.")]
    owner.refresh_from_db()
    assert owner.avatar.name.startswith("avatars/") and owner.avatar.name.endswith(".png")
    assert owner.avatar.read() == png()
    assert f'src="{owner.avatar.url}"' in response.content.decode()


def test_an_html_file_named_png_is_refused(owner):
    fake = upload("me.png", b"<html><script>alert(1)</script></html>", "image/png")

    response = signed_in(owner).post("/accounts/settings/", profile_data(owner, avatar=fake))

    assert response.status_code == 400
    assert field_errors(response, "profile-avatar") == [
        "Upload a valid image. The file you uploaded was either not an image or a corrupted image."
    ]
    owner.refresh_from_db()
    assert not owner.avatar


def test_an_image_of_a_type_not_allowed_is_refused(owner):
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format="BMP")

    response = signed_in(owner).post(
        "/accounts/settings/", profile_data(owner, avatar=upload("me.png", out.getvalue(), "image/png"))
    )

    assert response.status_code == 400
    assert field_errors(response, "profile-avatar") == ["Avatars must be one of: image/jpeg, image/png, image/gif."]
    owner.refresh_from_db()
    assert not owner.avatar


def test_an_oversized_avatar_is_refused(owner, settings):
    picture = png(size=(64, 64))
    settings.MAX_FILE_SIZE = len(picture) - 1

    data = profile_data(owner, avatar=upload("me.png", picture, "image/png"))

    response = signed_in(owner).post("/accounts/settings/", data)

    assert response.status_code == 400
    assert field_errors(response, "profile-avatar") == [f"Avatars are at most {len(picture) - 1}\xa0bytes."]
    owner.refresh_from_db()
    assert not owner.avatar


def test_a_wrong_current_password_is_refused(owner):
    response = signed_in(owner).post(
        "/accounts/settings/", {"password-current_password": "nope", "password-new_password": NEW_PASSWORD}
    )

    assert response.status_code == 400
    assert field_errors(response, "password-current_password") == ["The current password is not right."]
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_a_weak_new_password_is_refused_beside_it(owner):
    response = signed_in(owner).post(
        "/accounts/settings/", {"password-current_password": PASSWORD, "password-new_password": "123"}
    )

    assert response.status_code == 400
    # Every reason, as on the sign-up page, not just the first.
    assert field_errors(response, "password-new_password") == [
        "This password is too short. It must contain at least 8 characters.",
        "This password is too common.",
        "This password is entirely numeric.",
    ]
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_changing_the_password_keeps_me_logged_in(owner):
    browser = signed_in(owner)

    response = browser.post(
        "/accounts/settings/",
        {"password-current_password": PASSWORD, "password-new_password": NEW_PASSWORD},
        follow=True,
    )

    assert shown_messages(response) == [("success", "Password changed.")]
    assert logged_in_as(browser) == owner
    assert Client().post("/accounts/login/", {"username": "owner", "password": NEW_PASSWORD}).status_code == 302
    assert Client().post("/accounts/login/", {"username": "owner", "password": PASSWORD}).status_code == 400


def test_changing_the_password_logs_out_other_sessions(owner):
    elsewhere = signed_in(owner)

    signed_in(owner).post(
        "/accounts/settings/", {"password-current_password": PASSWORD, "password-new_password": NEW_PASSWORD}
    )

    assert logged_in_as(elsewhere) is None


# --- notifications -----------------------------------------------------------------------------


@pytest.fixture
def inbox(owner, other_user):
    """Two unread notifications for the owner, one for the other user."""
    mine = PollFactory(author=owner, title="Owner's question")
    theirs = PollFactory(author=other_user, title="Other's question")
    services.cast_vote(poll=mine, voter=visitor(1), option_ids=pick(mine, "Red"))
    services.like_poll(poll=mine, voter=Voter(user=other_user))
    services.like_poll(poll=theirs, voter=Voter(user=owner))
    return mine, theirs


def badge(response) -> tuple:
    """The header's unread badge: (" hidden" or None, the count shown)."""
    found = re.search(r'<span class="badge" data-notification-count( hidden)?>(\d*)</span>', response.content.decode())
    return found.groups()


def test_notifications_need_an_account(db):
    assert Client().get("/notifications/")["Location"] == login_redirect("/notifications/")
    assert Client().post("/notifications/")["Location"] == login_redirect("/notifications/")


def test_viewing_my_notifications_reads_them_and_highlights_what_was_unread_once(inbox, owner):
    browser = signed_in(owner)
    assert badge(browser.get("/")) == (None, "2")

    response = browser.get("/notifications/")

    page = text(response)
    assert response.status_code == 200
    assert "Someone voted on “Owner's question”." in page and "other liked “Owner's question”." in page
    assert "Other's question" not in page
    assert page.count('<li class="notification unread">') == 2
    assert not Notification.objects.filter(recipient=owner, read_at__isnull=True).exists()
    assert badge(response) == (" hidden", "0")
    assert "Mark all read" not in page

    again = text(browser.get("/notifications/"))
    assert "notification unread" not in again and again.count('<li class="notification">') == 2


def test_viewing_one_page_reads_only_the_notices_it_shows(owner):
    poll = PollFactory(author=owner)
    Notification.objects.bulk_create(
        Notification(recipient=owner, kind=Notification.Kind.LIKE, poll=poll, payload={"message": f"Notice {n}"})
        for n in range(31)
    )
    browser = signed_in(owner)

    response = browser.get("/notifications/")

    assert text(response).count("notification unread") == 30
    assert Notification.objects.filter(recipient=owner, read_at__isnull=True).count() == 1
    assert badge(response) == (None, "1") and "Mark all read" in text(response)
    assert 'rel="next"' in text(response)


def test_each_notice_shows_its_kind_as_an_icon_and_its_time_in_words(inbox, owner):
    page = text(signed_in(owner).get("/notifications/"))

    assert page.count('role="img" aria-label="Vote"') == 1 and page.count('role="img" aria-label="Like"') == 1
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT[^"]+" data-when="relative" title="[^"]+">now</time>', page)


def test_opening_a_notice_reads_it_and_goes_to_its_poll(inbox, owner):
    mine, _ = inbox
    like_notice = Notification.objects.get(recipient=owner, kind=Notification.Kind.LIKE)
    browser = signed_in(owner)

    response = browser.get(f"/notifications/{like_notice.pk}/open")

    assert (response.status_code, response["Location"]) == (302, f"/p/{mine.slug}/")
    like_notice.refresh_from_db()
    assert like_notice.is_read
    assert Notification.objects.filter(recipient=owner, read_at__isnull=True).count() == 1
    assert badge(browser.get("/")) == (None, "1")


def test_the_page_links_each_notice_through_its_opener(inbox, owner):
    notices = Notification.objects.filter(recipient=owner)

    page = text(signed_in(owner).get("/notifications/"))

    for notice in notices:
        assert f'href="/notifications/{notice.pk}/open"' in page


def test_someone_elses_or_an_unknown_notice_does_not_open(inbox, owner, other_user):
    theirs = Notification.objects.get(recipient=other_user)
    browser = signed_in(owner)

    assert browser.get(f"/notifications/{theirs.pk}/open").status_code == 404
    assert browser.get("/notifications/00000000-0000-0000-0000-000000000000/open").status_code == 404
    theirs.refresh_from_db()
    assert not theirs.is_read


def test_opening_a_notice_needs_its_owner_signed_in_and_a_get(inbox, owner):
    notice = Notification.objects.filter(recipient=owner).first()
    path = f"/notifications/{notice.pk}/open"

    assert Client().get(path)["Location"] == login_redirect(path)
    assert signed_in(owner).post(path).status_code == 405
    notice.refresh_from_db()
    assert not notice.is_read


def test_the_badge_shows_on_every_page(inbox, owner, other_user):
    assert badge(signed_in(owner).get("/")) == (None, "2")
    assert badge(signed_in(other_user).get("/polls/")) == (None, "1")


def test_mark_all_read(inbox, owner, other_user):
    browser = signed_in(owner)

    response = browser.post("/notifications/", follow=True)

    assert response.redirect_chain == [("/notifications/", 302)]
    assert not Notification.objects.filter(recipient=owner, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=other_user, read_at__isnull=True).count() == 1
    assert badge(response) == (" hidden", "0")
    assert '<li class="unread">' not in text(response) and "Mark all read" not in text(response)


def test_an_empty_inbox_says_so(owner):
    response = signed_in(owner).get("/notifications/")

    page = text(response)
    assert "Nothing yet" in page and "You will hear here when people vote on or like your polls." in page
    assert 'href="/polls/new/"' in page and badge(response) == (" hidden", "0")


def test_marking_read_needs_the_csrf_token(inbox, owner):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)

    assert browser.post("/notifications/").status_code == 403
    assert Notification.objects.filter(recipient=owner, read_at__isnull=True).count() == 2
