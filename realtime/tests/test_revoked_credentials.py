"""An open user socket ends (4401) when its account's credentials are revoked: a password change (the
API, the settings page, the admin), a ban (the admin's action and change form), or the account's deletion."""

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import services as accounts_services
from accounts import api_keys
from accounts.models import ApiKey, User
from accounts.tests.factories import PASSWORD, UserFactory
from polls.models import Poll
from polls.tests.test_admin import change_form_data
from realtime import consumers
from realtime.tests.actions import make_poll
from realtime.tests.sockets import CONNECT_TIMEOUT, access_token, cookie, receive, with_origin

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Fresh-start-5678"
CLOSED = {"type": "websocket.close", "code": consumers.CLOSE_UNAUTHENTICATED}


def user_path(user) -> str:
    return f"/ws/user/{user.pk}"


async def token_socket(sockets, user):
    return await sockets.open(f"{user_path(user)}?token={access_token(user)}")


async def assert_closed_with_4401(socket):
    assert await socket.receive_output(timeout=CONNECT_TIMEOUT) == CLOSED


async def assert_still_open(socket):
    await socket.send_json_to({"type": "ping"})
    assert (await receive(socket))["type"] == "pong"


@database_sync_to_async
def logged_in_browser(user) -> Client:
    browser = Client()
    assert browser.login(username=user.username, password=PASSWORD)
    return browser


@database_sync_to_async
def superuser_browser() -> Client:
    browser = Client()
    browser.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return browser


@database_sync_to_async
def change_password_over_the_api(user) -> None:
    client = APIClient()
    client.force_authenticate(user=user)
    response = client.post("/api/users/me/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code == 204, response.content


async def test_a_password_change_over_the_api_closes_the_accounts_token_sockets(sockets, owner, other_user):
    mine = await token_socket(sockets, owner)
    someone_elses = await token_socket(sockets, other_user)

    await change_password_over_the_api(owner)

    await assert_closed_with_4401(mine)
    await assert_still_open(someone_elses)


async def test_a_token_issued_before_the_password_change_is_refused_on_connect(sockets, owner):
    old_token = access_token(owner)
    await change_password_over_the_api(owner)

    assert await sockets.refused(f"{user_path(owner)}?token={old_token}") == consumers.CLOSE_UNAUTHENTICATED
    await token_socket(sockets, owner)  # a token issued after it is fine


async def test_a_password_change_on_the_settings_page_closes_the_sessions_sockets(sockets, owner):
    this_device, other_device = await logged_in_browser(owner), await logged_in_browser(owner)
    here = await sockets.open(user_path(owner), headers=with_origin(cookie(sessionid=this_device.cookies["sessionid"].value)))
    there = await sockets.open(user_path(owner), headers=with_origin(cookie(sessionid=other_device.cookies["sessionid"].value)))

    form = {"password-current_password": PASSWORD, "password-new_password": NEW_PASSWORD}
    response = await database_sync_to_async(this_device.post)(reverse("account-settings"), form)
    assert response.status_code == 302

    await assert_closed_with_4401(there)
    # The page that changed it got a new session key (and its next page a new socket); the old one ends.
    await assert_closed_with_4401(here)
    assert await sockets.refused(
        user_path(owner), headers=with_origin(cookie(sessionid=other_device.cookies["sessionid"].value))
    ) == consumers.CLOSE_UNAUTHENTICATED
    await sockets.open(user_path(owner), headers=with_origin(cookie(sessionid=this_device.cookies["sessionid"].value)))


async def test_a_password_set_in_the_admin_closes_the_accounts_sockets(sockets, owner):
    socket = await token_socket(sockets, owner)
    admin = await superuser_browser()

    form = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    response = await database_sync_to_async(admin.post)(reverse("admin:auth_user_password_change", args=[owner.pk]), form)
    assert response.status_code == 302

    await assert_closed_with_4401(socket)


async def test_a_ban_by_the_admin_action_closes_the_accounts_sockets(sockets, owner, other_user):
    banned = await token_socket(sockets, owner)
    bystander = await token_socket(sockets, other_user)
    admin = await superuser_browser()

    data = {"action": "deactivate", "_selected_action": [str(owner.pk)]}
    response = await database_sync_to_async(admin.post)(reverse("admin:accounts_user_changelist"), data)
    assert response.status_code == 302

    await assert_closed_with_4401(banned)
    await assert_still_open(bystander)


async def test_a_ban_in_the_admin_change_form_closes_the_accounts_sockets(sockets, owner):
    socket = await token_socket(sockets, owner)
    admin = await superuser_browser()
    change_url = reverse("admin:accounts_user_change", args=[owner.pk])

    data = await database_sync_to_async(change_form_data)(admin, change_url, is_active=False)
    response = await database_sync_to_async(admin.post)(change_url, data)
    assert response.status_code == 302

    await assert_closed_with_4401(socket)
    assert await sockets.refused(f"{user_path(owner)}?token={access_token(owner)}") == consumers.CLOSE_UNAUTHENTICATED


async def test_a_ban_by_the_service_closes_session_and_token_sockets_alike(sockets, owner):
    browser = await logged_in_browser(owner)
    by_session = await sockets.open(user_path(owner), headers=with_origin(cookie(sessionid=browser.cookies["sessionid"].value)))
    by_token = await token_socket(sockets, owner)

    banned = await database_sync_to_async(accounts_services.deactivate_users)(users=User.objects.filter(pk=owner.pk))

    assert banned == 1
    await assert_closed_with_4401(by_session)
    await assert_closed_with_4401(by_token)


async def test_deleting_the_account_closes_its_sockets(sockets, owner):
    socket = await token_socket(sockets, owner)

    await database_sync_to_async(accounts_services.delete_account)(user=owner)

    await assert_closed_with_4401(socket)


async def test_a_ban_closes_a_signed_in_poll_socket_too_but_not_an_anonymous_one(sockets, owner):
    poll = await make_poll(author=owner, results_visibility=Poll.ResultsVisibility.OWNER_ONLY)
    authors = await sockets.open(f"/ws/poll/{poll.pk}?token={access_token(owner)}")
    anonymous = await sockets.open(f"/ws/poll/{poll.pk}")
    assert (await receive(authors))["type"] == "results"
    assert (await receive(anonymous))["type"] == "results_hidden"

    await database_sync_to_async(accounts_services.deactivate_users)(users=User.objects.filter(pk=owner.pk))

    await assert_closed_with_4401(authors)
    await assert_still_open(anonymous)


@database_sync_to_async
def api_key_of(user, *scopes) -> tuple:
    return api_keys.create_api_key(user=user, name="Live board", scopes=list(scopes))


@database_sync_to_async
def revoke(key) -> None:
    api_keys.revoke_api_keys(keys=ApiKey.objects.filter(pk=key.pk))


async def test_a_socket_opened_with_an_api_key_ends_when_that_key_is_revoked_and_others_stay(sockets, owner):
    key, secret = await api_key_of(owner, "read")
    _other_key, other_secret = await api_key_of(owner, "read")
    socket = await sockets.open(f"{user_path(owner)}?token={secret}")
    other = await sockets.open(f"{user_path(owner)}?token={other_secret}")
    with_token = await token_socket(sockets, owner)

    await revoke(key)

    await assert_closed_with_4401(socket)
    await assert_still_open(other)
    await assert_still_open(with_token)


async def test_an_api_key_without_read_cannot_open_a_socket(sockets, owner):
    _key, secret = await api_key_of(owner, "vote")

    assert await sockets.refused(f"{user_path(owner)}?token={secret}") == consumers.CLOSE_UNAUTHENTICATED
