"""Look-alike names: one account per name however it is spelled, and no display name passing for another's username."""

import pytest
from django.test import Client

from accounts import errors, services
from accounts.notifications import notify
from accounts.models import Notification, User
from accounts.tests.factories import PASSWORD, UserFactory
from accounts.usernames import display_name_skeleton, username_skeleton
from polls.tests.factories import PollFactory
from quickpoll.tests.assertions import assert_error

pytestmark = pytest.mark.django_db

NEW_ACCOUNT = {"email": "new@example.org", "password": PASSWORD}


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", display_name="Alice Smith")


@pytest.mark.parametrize(
    ("username", "code"),
    [
        ("ａｌｉｃｅ", "username_taken"),  # full-width
        ("ALICE", "username_taken"),
        ("аlice", "confusable_username"),  # Cyrillic а
        ("alіce", "confusable_username"),  # Cyrillic і
        ("a1ice", "confusable_username"),
        ("aIice", "confusable_username"),  # capital I for l
        ("alíce", "confusable_username"),
    ],
)
def test_the_api_refuses_a_name_that_passes_for_an_existing_one(api_client, alice, username, code):
    response = api_client.post("/api/users/register", NEW_ACCOUNT | {"username": username}, format="json")

    assert_error(response, 409, code, fields={"username"})
    assert User.objects.count() == 1


def test_the_register_page_refuses_a_look_alike_on_the_username_field(client, alice):
    data = NEW_ACCOUNT | {"username": "ａｌｉｃｅ", "password_again": PASSWORD}

    response = client.post("/accounts/register/", data)

    assert response.status_code == 400
    assert response.context["form"].errors["username"] == [errors.UsernameTaken.message]
    assert User.objects.count() == 1


def test_full_width_names_are_stored_in_their_plain_form_and_log_in_either_way(api_client):
    response = api_client.post("/api/users/register", NEW_ACCOUNT | {"username": "ｂｏｂ"}, format="json")

    assert response.status_code == 201
    assert response.json()["user"]["username"] == "bob"
    assert User.objects.get().username_skeleton == username_skeleton("bob")
    login = api_client.post("/api/users/login", {"username": "ｂｏｂ", "password": PASSWORD}, format="json")
    assert login.status_code == 200


def test_names_that_merely_share_letters_are_welcome(api_client, alice):
    response = api_client.post("/api/users/register", NEW_ACCOUNT | {"username": "alice2"}, format="json")

    assert response.status_code == 201


@pytest.mark.parametrize("display_name", ["alice", "ALICE", "@alice", "a l i c e", "аlice", "ａｌｉｃｅ"])
def test_a_display_name_may_not_read_as_another_users_username(other_client, other_user, alice, display_name):
    response = other_client.patch("/api/users/me", {"display_name": display_name}, format="json")

    assert_error(response, 409, "confusable_display_name", fields={"display_name"})
    other_user.refresh_from_db()
    assert other_user.display_name == ""


def test_the_settings_page_refuses_a_look_alike_display_name(client, other_user, alice):
    client.force_login(other_user)
    data = {"profile-display_name": "Alice", "profile-bio": "", "profile-email": other_user.email}

    response = client.post("/accounts/settings/", data)

    assert response.status_code == 400
    assert response.context["profile_form"].errors["display_name"] == [errors.ConfusableDisplayName.message]


def test_a_display_name_may_read_as_its_own_username(other_client, other_user):
    response = other_client.patch("/api/users/me", {"display_name": "OTHER"}, format="json")

    assert response.status_code == 200


def test_the_admin_applies_the_same_rules(client, alice, other_user):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)

    response = client.post(
        f"/admin/accounts/user/{other_user.pk}/change/",
        {"username": "аlice", "email": other_user.email, "display_name": "", "is_active": "on", "_save": "Save"},
    )

    assert response.status_code == 200
    assert "username" in response.context["adminform"].form.errors
    other_user.refresh_from_db()
    assert other_user.username == "other"


def test_a_display_name_is_shown_beside_its_username(alice, owner):
    poll = PollFactory(author=alice, title="Tea or coffee")

    assert alice.public_name == "Alice Smith (@alice)"
    assert "Alice Smith (@alice)" in Client().get(f"/p/{poll.pk}/").content.decode()
    assert "Alice Smith (@alice)" in Client().get("/polls/").content.decode()
    notify(recipient=owner, kind=Notification.Kind.LIKE, poll=PollFactory(author=owner), actor=alice)
    assert Notification.objects.get(recipient=owner).payload["actor"] == "Alice Smith (@alice)"


def test_skeletons_cover_what_the_readme_says():
    assert username_skeleton("rnodern") == username_skeleton("modern")
    assert username_skeleton("0scar") == username_skeleton("oscar")
    assert username_skeleton("ΑLΙCΕ") == username_skeleton("alice")  # Greek capitals
    assert display_name_skeleton("A. Lice") == username_skeleton("alice")
    assert username_skeleton("alice") != username_skeleton("alice2")


def test_the_service_is_the_one_place(alice):
    with pytest.raises(errors.ConfusableUsername):
        services.register_user(username="аlice", email="x@example.org", password=PASSWORD)
    with pytest.raises(errors.ConfusableDisplayName):
        services.update_profile(user=UserFactory(), display_name="Alice")


def test_a_name_that_folds_into_characters_names_may_not_hold_is_invalid(api_client):
    response = api_client.post("/api/users/register", NEW_ACCOUNT | {"username": "bob¼"}, format="json")

    assert_error(response, 400, "invalid", fields={"username"})
