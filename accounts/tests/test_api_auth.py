"""/api/users: sign-up, login, JWT refresh and logout, my profile and avatar, password, public profiles."""

import io
import uuid

import pytest
from PIL import Image
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from polls import services
from polls.tests.factories import PollFactory, pick, visitor
from polls.voters import Voter
from quickpoll.tests.assertions import assert_error

pytestmark = pytest.mark.django_db

NEW_ACCOUNT = {"username": "johndoe", "email": "john@example.com", "password": "securepassword123"}
SESSION_KEYS = {"user", "access", "refresh"}


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def login(client, username: str, password: str = PASSWORD):
    return client.post("/api/users/login", {"username": username, "password": password}, format="json")


@pytest.fixture
def session(api_client, owner) -> dict:
    """The owner's login answer: {user, access, refresh}."""
    response = login(api_client, "owner")
    assert response.status_code == 200
    return response.json()


# --- access tokens --------------------------------------------------------------------------


def test_an_access_token_names_its_account(session, owner):
    response = bearer(session["access"]).get("/api/users/me")

    assert response.status_code == 200
    assert response.json()["id"] == str(owner.pk)


@pytest.mark.parametrize(
    "change, detail",
    [
        ({"is_active": False}, "User is inactive"),  # a raw update, as a ban that revoked nothing would leave it
        ({"password": "pbkdf2_sha256$1$salt$changed"}, "The user's password has been changed."),
    ],
)
def test_an_access_token_ends_at_once_with_its_account_or_password(session, owner, change, detail):
    User.objects.filter(pk=owner.pk).update(**change)

    response = bearer(session["access"]).get("/api/users/me")

    assert_error(response, 401, "authentication_failed")
    assert response.json()["detail"] == detail


def test_an_access_token_of_a_deleted_account_is_refused(session, owner):
    owner.delete()

    response = bearer(session["access"]).get("/api/users/me")

    assert_error(response, 401, "authentication_failed")
    assert response.json()["detail"] == "User not found"


# --- register -------------------------------------------------------------------------------


def test_register_creates_an_account_and_answers_a_working_token_pair(api_client):
    response = api_client.post("/api/users/register", NEW_ACCOUNT, format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == SESSION_KEYS
    user = User.objects.get(username="johndoe")
    assert body["user"]["id"] == str(user.pk)
    assert (body["user"]["username"], body["user"]["email"]) == ("johndoe", "john@example.com")
    assert body["user"]["is_verified"] is False
    assert "password" not in body["user"]
    assert user.check_password("securepassword123")

    me = bearer(body["access"]).get("/api/users/me")

    assert me.status_code == 200
    assert me.json()["id"] == str(user.pk)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"username": "ALICE"}, "username_taken"),
        ({"username": "alice"}, "username_taken"),
        ({"email": "alice@example.com"}, "email_taken"),
        ({"email": "ALICE@EXAMPLE.COM"}, "email_taken"),
    ],
)
def test_register_refuses_a_taken_username_or_email_whatever_its_case(api_client, changes, code):
    UserFactory(username="Alice", email="alice@example.com")

    response = api_client.post("/api/users/register", NEW_ACCOUNT | changes, format="json")

    assert_error(response, 409, code, fields={"username"} if code == "username_taken" else None)
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (NEW_ACCOUNT | {"password": "123"}, {"password"}),
        ({}, {"username", "email", "password"}),
        ({"username": "johndoe"}, {"email", "password"}),
        (NEW_ACCOUNT | {"email": "not-an-email"}, {"email"}),
        (NEW_ACCOUNT | {"username": "john doe!"}, {"username"}),
    ],
    ids=["weak-password", "empty", "missing-email-and-password", "bad-email", "bad-username"],
)
def test_register_refuses_invalid_details_naming_the_fields(api_client, body, fields):
    response = api_client.post("/api/users/register", body, format="json")

    assert_error(response, 400, "invalid", fields=fields)
    assert not User.objects.exists()


# --- login ------------------------------------------------------------------------------------


@pytest.mark.parametrize("identifier", ["owner", "OWNER", "owner@example.com", "Owner@Example.COM"])
def test_login_by_username_or_email_in_any_case(api_client, owner, identifier):
    response = login(api_client, identifier)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == SESSION_KEYS
    assert body["user"]["id"] == str(owner.pk)
    assert body["user"]["email"] == "owner@example.com"
    owner.refresh_from_db()
    assert owner.last_login is not None
    assert bearer(body["access"]).get("/api/users/me").json()["username"] == "owner"


@pytest.mark.parametrize(("identifier", "password"), [("owner", "wrong-password"), ("nobody", PASSWORD)])
def test_login_with_bad_credentials_is_refused(api_client, owner, identifier, password):
    assert_error(login(api_client, identifier, password), 401, "invalid_credentials")


def test_an_inactive_account_cannot_log_in(api_client):
    UserFactory(username="gone", is_active=False)

    assert_error(login(api_client, "gone"), 401, "invalid_credentials")


def test_login_needs_a_username_and_a_password(api_client):
    response = api_client.post("/api/users/login", {}, format="json")

    assert_error(response, 400, "invalid", fields={"username", "password"})


# --- tokens: refresh and logout --------------------------------------------------------------


def test_refresh_answers_a_new_working_pair(api_client, session):
    response = api_client.post("/api/users/token/refresh", {"refresh": session["refresh"]}, format="json")

    assert response.status_code == 200
    pair = response.json()
    assert set(pair) == {"access", "refresh"}
    assert pair["refresh"] != session["refresh"]
    assert bearer(pair["access"]).get("/api/users/me").status_code == 200
    # Rotation blacklists the refresh token that was used.
    assert BlacklistedToken.objects.count() == 1


def test_logout_blacklists_the_refresh_token(api_client, session):
    response = api_client.post("/api/users/logout", {"refresh": session["refresh"]}, format="json")

    assert response.status_code == 204
    assert BlacklistedToken.objects.get().token.token == session["refresh"]


@pytest.mark.parametrize("how", ["rotated", "logged-out", "garbage"])
def test_a_spent_or_bad_refresh_token_is_refused(api_client, session, how):
    api_client.raise_request_exception = False
    if how == "rotated":
        api_client.post("/api/users/token/refresh", {"refresh": session["refresh"]}, format="json")
    elif how == "logged-out":
        api_client.post("/api/users/logout", {"refresh": session["refresh"]}, format="json")
    token = "not-a-token" if how == "garbage" else session["refresh"]

    response = api_client.post("/api/users/token/refresh", {"refresh": token}, format="json")

    assert_error(response, 401, "authentication_failed")


@pytest.mark.parametrize("token", ["garbage", "spent"])
def test_logout_refuses_a_bad_or_spent_refresh_token(api_client, session, token):
    if token == "spent":
        api_client.post("/api/users/logout", {"refresh": session["refresh"]}, format="json")
        token = session["refresh"]

    response = api_client.post("/api/users/logout", {"refresh": token}, format="json")

    assert_error(response, 401, "authentication_failed")


@pytest.mark.parametrize("path", ["/api/users/logout", "/api/users/token/refresh"])
def test_logout_and_refresh_need_a_refresh_token(api_client, path):
    assert_error(api_client.post(path, {}, format="json"), 400, "invalid", fields={"refresh"})


# --- my profile -------------------------------------------------------------------------------


def test_me_shows_my_own_profile_with_my_email(owner_client, owner):
    response = owner_client.get("/api/users/me")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["username"], body["email"]) == (str(owner.pk), "owner", "owner@example.com")
    assert {"display_name", "bio", "avatar", "is_verified", "is_staff", "created_at"} <= set(body)


@pytest.mark.parametrize("method", ["get", "patch"])
def test_me_needs_a_login(api_client, method):
    response = getattr(api_client, method)("/api/users/me", {}, format="json")

    assert_error(response, 401, "login_required")


def test_patch_me_changes_display_name_and_bio_and_nothing_read_only(owner_client, owner):
    response = owner_client.patch(
        "/api/users/me",
        {"display_name": "The Owner", "bio": "I ask questions.", "username": "hijack", "is_staff": True},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["display_name"], body["bio"], body["username"], body["is_staff"]) == (
        "The Owner",
        "I ask questions.",
        "owner",
        False,
    )
    owner.refresh_from_db()
    assert (owner.display_name, owner.bio, owner.username, owner.is_staff) == (
        "The Owner",
        "I ask questions.",
        "owner",
        False,
    )


def test_a_new_email_waits_for_its_confirmation_before_it_replaces_the_old(
    owner_client, owner, mailoutbox, django_capture_on_commit_callbacks
):
    owner.is_verified = True
    owner.save()

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.patch("/api/users/me", {"email": "new@example.com"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["email"], body["pending_email"], body["is_verified"]) == ("owner@example.com", "new@example.com", True)
    owner.refresh_from_db()
    assert (owner.email, owner.pending_email, owner.is_verified) == ("owner@example.com", "new@example.com", True)
    assert [mail.to for mail in mailoutbox] == [["new@example.com"]]


def test_an_email_of_another_account_is_refused(owner_client, owner, other_user):
    response = owner_client.patch("/api/users/me", {"email": "OTHER@example.com"}, format="json")

    assert_error(response, 409, "email_taken")
    owner.refresh_from_db()
    assert owner.email == "owner@example.com"


def test_patch_me_refuses_a_malformed_email(owner_client):
    assert_error(owner_client.patch("/api/users/me", {"email": "nope"}, format="json"), 400, "invalid", fields={"email"})


# --- avatar -----------------------------------------------------------------------------------


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def image_upload(name: str, image_format: str, size=(8, 8)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, color=(200, 30, 30)).save(buffer, format=image_format)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{image_format.lower()}")


def upload_avatar(client, upload):
    return client.patch("/api/users/me", {"avatar": upload}, format="multipart")


def test_a_small_png_becomes_my_avatar(owner_client, owner, media_root):
    response = upload_avatar(owner_client, image_upload("me.png", "PNG"))

    assert response.status_code == 200
    avatar = response.json()["avatar"]
    assert avatar and avatar.endswith(".png") and "avatars/" in avatar
    owner.refresh_from_db()
    assert owner.avatar.name.startswith("avatars/")
    assert (media_root / owner.avatar.name).is_file()


def test_an_html_file_named_png_is_refused(owner_client, owner, media_root):
    fake = SimpleUploadedFile("me.png", b"<html><script>alert(1)</script></html>", content_type="image/png")

    assert_error(upload_avatar(owner_client, fake), 400, "invalid", fields={"avatar"})
    owner.refresh_from_db()
    assert not owner.avatar


def test_an_avatar_over_max_file_size_is_refused(owner_client, owner, media_root, settings):
    upload = image_upload("big.png", "PNG", size=(64, 64))
    settings.MAX_FILE_SIZE = upload.size - 1

    assert_error(upload_avatar(owner_client, upload), 400, "invalid", fields={"avatar"})
    owner.refresh_from_db()
    assert not owner.avatar


def test_an_image_type_outside_allowed_file_types_is_refused(owner_client, owner, media_root, settings):
    settings.ALLOWED_FILE_TYPES = ["image/jpeg", "image/png"]

    assert_error(upload_avatar(owner_client, image_upload("me.gif", "GIF")), 400, "invalid", fields={"avatar"})
    owner.refresh_from_db()
    assert not owner.avatar


# --- password -----------------------------------------------------------------------------------


def change_password(client, current: str, new: str):
    return client.post(
        "/api/users/me/password", {"current_password": current, "new_password": new}, format="json"
    )


def test_a_password_change_needs_the_current_password(owner_client, owner):
    assert_error(change_password(owner_client, "not-it", "a-Brand-new-pass-99"), 400, "wrong_password")
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_a_weak_new_password_is_refused(owner_client, owner):
    response = change_password(owner_client, PASSWORD, "123")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert any("too short" in message for messages in body["fields"].values() for message in messages)
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_a_weak_new_password_is_reported_on_new_password(owner_client):
    assert_error(change_password(owner_client, PASSWORD, "123"), 400, "invalid", fields={"new_password"})


def test_a_changed_password_logs_in_and_the_old_one_does_not(owner_client, api_client):
    assert change_password(owner_client, PASSWORD, "a-Brand-new-pass-99").status_code == 204

    assert login(api_client, "owner", "a-Brand-new-pass-99").status_code == 200
    assert_error(login(api_client, "owner", PASSWORD), 401, "invalid_credentials")


def test_a_password_change_needs_a_login(api_client):
    assert_error(change_password(api_client, PASSWORD, "a-Brand-new-pass-99"), 401, "login_required")


# --- public profiles --------------------------------------------------------------------------


@pytest.fixture
def community(owner, other_user):
    """owner: a public single-choice poll, a public multiple-choice poll and an unlisted poll; other_user votes and likes."""
    single = PollFactory(author=owner, title="Public single")
    multi = PollFactory(author=owner, title="Public multi", allow_multiple=True)
    unlisted = PollFactory(author=owner, title="Unlisted one", is_public=False)
    services.cast_vote(poll=single, voter=Voter(user=other_user), option_ids=pick(single, "Red"))
    services.cast_vote(poll=multi, voter=Voter(user=other_user), option_ids=pick(multi, "Red", "Blue"))
    services.like_poll(poll=single, voter=Voter(user=other_user))
    services.like_poll(poll=multi, voter=Voter(user=other_user))
    services.like_poll(poll=single, voter=visitor(1))
    return {"single": single, "multi": multi, "unlisted": unlisted}


def user_paths(user) -> list[str]:
    return [
        "/api/users",
        "/api/users/count",
        f"/api/users/{user.pk}",
        f"/api/users/{user.pk}/polls",
        f"/api/users/{user.pk}/stats",
    ]


@pytest.mark.parametrize("viewer", [None, "other_user"])
def test_public_user_endpoints_never_show_an_email_address(request, client_for, owner, community, viewer):
    client = client_for(request.getfixturevalue(viewer) if viewer else None)

    for path in user_paths(owner):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "@example.com" not in response.content.decode(), path
        assert "email" not in response.content.decode(), path


def test_users_lists_active_accounts_and_counts_them(api_client, owner, other_user):
    UserFactory(username="gone", is_active=False)

    listed = api_client.get("/api/users").json()
    count = api_client.get("/api/users/count").json()

    assert set(listed) == {"count", "next", "previous", "results"}
    assert [user["username"] for user in listed["results"]] == ["owner", "other"]
    assert set(listed["results"][0]) == {"id", "username", "display_name", "bio", "avatar", "created_at"}
    assert count == {"count": 2}


def test_a_public_profile(api_client, owner):
    User.objects.filter(pk=owner.pk).update(display_name="Olive", bio="Hello")

    response = api_client.get(f"/api/users/{owner.pk}")

    assert response.status_code == 200
    assert response.json() | {"created_at": None} == {
        "id": str(owner.pk),
        "username": "owner",
        "display_name": "Olive",
        "bio": "Hello",
        "avatar": None,
        "created_at": None,
    }


@pytest.mark.parametrize(("viewer", "sees_unlisted"), [(None, False), ("other_user", False), ("owner", True), ("staff_user", True)])
def test_a_users_polls_show_unlisted_ones_to_that_user_and_staff_only(request, client_for, owner, community, viewer, sees_unlisted):
    client = client_for(request.getfixturevalue(viewer) if viewer else None)

    response = client.get(f"/api/users/{owner.pk}/polls")

    assert response.status_code == 200
    titles = {poll["title"] for poll in response.json()["results"]}
    expected = {"Public single", "Public multi"} | ({"Unlisted one"} if sees_unlisted else set())
    assert titles == expected
    assert response.json()["count"] == len(expected)


def test_user_stats_count_polls_votes_and_likes(api_client, owner, other_user):
    single = PollFactory(author=owner)
    multi = PollFactory(author=owner, allow_multiple=True)
    services.cast_vote(poll=single, voter=Voter(user=other_user), option_ids=pick(single, "Red"))
    services.cast_vote(poll=multi, voter=Voter(user=other_user), option_ids=pick(multi, "Red", "Blue"))
    services.cast_vote(poll=multi, voter=visitor(1), option_ids=pick(multi, "Green"))
    services.like_poll(poll=single, voter=Voter(user=other_user))
    services.like_poll(poll=multi, voter=Voter(user=other_user))
    services.like_poll(poll=single, voter=visitor(1))

    owner_stats = api_client.get(f"/api/users/{owner.pk}/stats")
    other_stats = api_client.get(f"/api/users/{other_user.pk}/stats")

    assert owner_stats.status_code == other_stats.status_code == 200
    assert owner_stats.json() == {"polls_created": 2, "votes_cast": 0, "likes_given": 0, "likes_received": 3}
    assert other_stats.json() == {"polls_created": 0, "votes_cast": 3, "likes_given": 2, "likes_received": 0}


def test_user_stats_shown_to_others_leave_unlisted_polls_out(other_client, owner, community):
    response = other_client.get(f"/api/users/{owner.pk}/stats")

    assert response.json()["polls_created"] == 2


@pytest.mark.parametrize("suffix", ["", "/polls", "/stats"])
def test_an_unknown_or_inactive_user_is_not_found(api_client, suffix):
    gone = UserFactory(username="gone", is_active=False)

    for user_id in (uuid.uuid4(), gone.pk):
        assert_error(api_client.get(f"/api/users/{user_id}{suffix}"), 404, "not_found")


@pytest.mark.parametrize("path", ["/api/users/not-a-uuid", "/api/users/123/polls", "/api/users/xyz/stats"])
def test_a_user_path_without_a_uuid_is_not_found(api_client, path):
    assert_error(api_client.get(path), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/users/register"),
        ("get", "/api/users/login"),
        ("post", "/api/users/me/export"),
        ("put", "/api/users/me"),
        ("post", "/api/users/count"),
        ("get", "/api/users/me/password"),
    ],
)
def test_wrong_methods_are_refused(owner_client, method, path):
    assert_error(getattr(owner_client, method)(path), 405, "method_not_allowed")


@pytest.mark.parametrize("method", ["post", "delete", "patch"])
def test_public_profiles_are_read_only(owner_client, owner, method):
    response = getattr(owner_client, method)(f"/api/users/{owner.pk}", {}, format="json")

    assert_error(response, 405, "method_not_allowed")
