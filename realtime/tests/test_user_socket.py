"""/ws/user/{id}: who may open it (session or JWT), and the notifications and confirmations it carries."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.tests.factories import UserFactory
from polls import services
from polls.voters import Voter
from realtime import consumers
from realtime.tests.actions import like, make_poll, visitor, vote
from realtime.tests.sockets import CONNECT_TIMEOUT, access_token, cookie, receive, silent, with_origin

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def user_path(user) -> str:
    return f"/ws/user/{user.pk}"


def expired_token(user) -> str:
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(minutes=1))
    return str(token)


@database_sync_to_async
def notifications_over_rest(user) -> list[dict]:
    client = APIClient()
    client.force_authenticate(user=user)
    response = client.get("/api/notifications")
    assert response.status_code == 200, response.content
    return response.json()["results"]


# --- Who may open it ------------------------------------------------------------------------------


async def test_a_logged_in_browser_opens_its_own_socket_with_the_session_cookie(sockets, owner, session_cookie):
    session = await database_sync_to_async(session_cookie)(owner)

    socket = await sockets.open(user_path(owner), headers=with_origin(cookie(sessionid=session)))

    await socket.send_json_to({"type": "ping"})
    assert (await receive(socket))["type"] == "pong"


async def test_a_script_opens_its_own_socket_with_an_access_token_in_the_query(sockets, owner):
    await sockets.open(f"{user_path(owner)}?token={access_token(owner)}", headers=[])


async def test_an_access_token_as_subprotocol_is_accepted_and_the_bearer_subprotocol_chosen(sockets, owner):
    socket = sockets.make(user_path(owner), subprotocols=["bearer", access_token(owner)])

    assert await socket.connect(timeout=CONNECT_TIMEOUT) == (True, "bearer")


async def test_the_user_id_may_be_written_in_capitals(sockets, owner):
    await sockets.open(f"/ws/user/{str(owner.pk).upper()}?token={access_token(owner)}")


@pytest.mark.parametrize(
    "credentials",
    ["none", "expired", "garbage", "refresh_token", "garbage_subprotocol", "bearer_without_token", "inactive_user"],
)
async def test_a_socket_without_valid_credentials_is_refused_with_4401(sockets, owner, credentials):
    path, subprotocols = user_path(owner), None
    if credentials == "expired":
        path += f"?token={expired_token(owner)}"
    elif credentials == "garbage":
        path += "?token=not.a.token"
    elif credentials == "refresh_token":
        # Issuing a refresh token records it for the blacklist: a database write.
        path += f"?token={await database_sync_to_async(RefreshToken.for_user)(owner)}"
    elif credentials == "garbage_subprotocol":
        subprotocols = ["bearer", "not.a.token"]
    elif credentials == "bearer_without_token":
        subprotocols = ["bearer"]
    elif credentials == "inactive_user":
        token = access_token(owner)
        owner.is_active = False
        await database_sync_to_async(owner.save)()
        path += f"?token={token}"

    assert await sockets.refused(path, subprotocols=subprotocols) == consumers.CLOSE_UNAUTHENTICATED


async def test_an_invalid_token_is_refused_even_beside_a_valid_session(sockets, owner, session_cookie):
    session = await database_sync_to_async(session_cookie)(owner)

    code = await sockets.refused(
        f"{user_path(owner)}?token={expired_token(owner)}", headers=with_origin(cookie(sessionid=session))
    )

    assert code == consumers.CLOSE_UNAUTHENTICATED


async def test_someone_elses_socket_is_refused_with_4403(sockets, owner, other_user, session_cookie):
    session = await database_sync_to_async(session_cookie)(other_user)

    assert await sockets.refused(f"{user_path(owner)}?token={access_token(other_user)}") == consumers.CLOSE_FORBIDDEN
    assert (
        await sockets.refused(user_path(owner), headers=with_origin(cookie(sessionid=session)))
        == consumers.CLOSE_FORBIDDEN
    )


async def test_staff_cannot_open_someone_elses_socket_either(sockets, owner, staff_user):
    assert await sockets.refused(f"{user_path(owner)}?token={access_token(staff_user)}") == consumers.CLOSE_FORBIDDEN


# --- What arrives ---------------------------------------------------------------------------------


async def test_a_vote_on_my_poll_notifies_me_with_the_payload_of_the_notification_list(sockets, owner, other_user):
    poll = await make_poll(author=owner)
    mine = await sockets.open(f"{user_path(owner)}?token={access_token(owner)}")

    await vote(poll, Voter(user=other_user), "Green")

    message = await receive(mine)
    assert message["type"] == "notification"
    assert set(message) == {"type", "notification"}
    listed = await notifications_over_rest(owner)
    assert len(listed) == 1
    assert message["notification"] == listed[0]
    assert message["notification"]["kind"] == "vote"
    assert message["notification"]["poll_id"] == str(poll.pk)
    assert message["notification"]["is_read"] is False


@database_sync_to_async
def read_all_over_rest(user) -> None:
    client = APIClient()
    client.force_authenticate(user=user)
    assert client.post("/api/notifications/read-all").status_code == 200


async def test_reading_my_notifications_tells_every_tab_the_unread_count(sockets, owner, other_user):
    poll = await make_poll(author=owner)
    tabs = [await sockets.open(f"{user_path(owner)}?token={access_token(owner)}") for _ in range(2)]
    await vote(poll, Voter(user=other_user))
    for tab in tabs:
        assert (await receive(tab))["type"] == "notification"

    await read_all_over_rest(owner)

    for tab in tabs:
        assert await receive(tab) == {"type": "notifications.read", "unread": 0}


async def test_a_notification_reaches_every_tab_of_its_recipient_and_nobody_else(sockets, owner, other_user):
    poll = await make_poll(author=owner)
    bystander = await database_sync_to_async(UserFactory)()
    tabs = [await sockets.open(f"{user_path(owner)}?token={access_token(owner)}") for _ in range(2)]
    bystanders_socket = await sockets.open(f"{user_path(bystander)}?token={access_token(bystander)}")
    voters_socket = await sockets.open(f"{user_path(other_user)}?token={access_token(other_user)}")

    await vote(poll, Voter(user=other_user))

    for tab in tabs:
        assert (await receive(tab))["type"] == "notification"
    # The voter hears only the confirmation of their own vote; a bystander hears nothing.
    assert (await receive(voters_socket))["type"] == "vote.cast"
    assert await silent(voters_socket, bystanders_socket)


async def test_my_own_vote_is_confirmed_on_my_socket_without_a_notification(sockets, owner):
    poll = await make_poll(author=owner)
    socket = await sockets.open(f"{user_path(owner)}?token={access_token(owner)}")

    cast = await vote(poll, Voter(user=owner), "Blue")

    message = await receive(socket)
    assert message["type"] == "vote.cast"
    assert message["poll_id"] == str(poll.pk)
    assert message["ballot_id"] == str(cast.ballot.pk)
    assert len(message["option_ids"]) == 1
    assert await silent(socket)


async def test_an_anonymous_vote_notifies_the_author_as_someone(sockets, owner):
    poll = await make_poll(author=owner)
    socket = await sockets.open(f"{user_path(owner)}?token={access_token(owner)}")

    await vote(poll, visitor(1))

    notification = (await receive(socket))["notification"]
    assert notification["kind"] == "vote"
    assert notification["payload"]["actor"] == "Someone"


async def test_a_like_notifies_the_author_and_confirms_to_the_liker(sockets, owner, other_user):
    poll = await make_poll(author=owner)
    authors_socket = await sockets.open(f"{user_path(owner)}?token={access_token(owner)}")
    likers_socket = await sockets.open(f"{user_path(other_user)}?token={access_token(other_user)}")

    liked = await like(poll, Voter(user=other_user))

    notification = await receive(authors_socket)
    assert notification["type"] == "notification"
    assert notification["notification"]["kind"] == "like"
    assert notification["notification"] == (await notifications_over_rest(owner))[0]
    assert await receive(likers_socket) == {"type": "like.added", "poll_id": str(poll.pk), "like_id": str(liked.pk)}


async def test_a_moderator_closing_my_poll_notifies_me(sockets, owner, staff_user):
    poll = await make_poll(author=owner)
    socket = await sockets.open(f"{user_path(owner)}?token={access_token(owner)}")

    await database_sync_to_async(services.set_poll_active)(poll=poll, actor=staff_user, active=False)

    notification = (await receive(socket))["notification"]
    assert notification["kind"] == "poll_closed"
    assert notification["poll_id"] == str(poll.pk)
