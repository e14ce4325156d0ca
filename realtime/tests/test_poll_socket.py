"""/ws/poll/{id}: who may subscribe, what a subscriber sees under each results rule, and live snapshots."""

import json
import uuid
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.test import AsyncClient
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from polls import services
from polls.models import Poll
from polls.tests.factories import pick
from polls.voters import ANON_COOKIE, Voter
from realtime import consumers, events
from realtime.tests.actions import like, make_poll, option_ids, visitor, vote
from realtime.tests.sockets import (
    CONNECT_TIMEOUT,
    access_token,
    cookie,
    receive,
    receive_until,
    silent,
    with_origin,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

RESULTS_KEYS = {"type", "poll_id", "version", "total_votes", "options", "likes_count", "is_open", "server_time"}


def poll_path(poll) -> str:
    return f"/ws/poll/{poll.pk}"


def votes_by_text(message: dict) -> dict[str, int]:
    return {option["text"]: option["votes"] for option in message["options"]}


def is_results(message: dict) -> bool:
    return message["type"] == "results"


def is_settled(total: int):
    """The snapshot that shows `total` votes."""
    return lambda message: is_results(message) and message["total_votes"] == total


@database_sync_to_async
def results_version(poll) -> int:
    return Poll.objects.get(pk=poll.pk).results_version


# --- Who may subscribe ------------------------------------------------------------------------


async def test_a_public_poll_sends_its_results_on_connect(sockets, owner):
    poll = await make_poll(author=owner)
    await vote(poll, visitor(1), "Green")

    socket = await sockets.open(poll_path(poll))

    message = await receive(socket)
    assert RESULTS_KEYS <= set(message)
    assert message["type"] == "results"
    assert message["poll_id"] == str(poll.pk)
    assert message["total_votes"] == 1
    assert votes_by_text(message) == {"Red": 0, "Green": 1, "Blue": 0}
    assert [option["percentage"] for option in message["options"]] == [0.0, 100.0, 0.0]
    assert message["is_open"] is True
    assert message["version"] == await results_version(poll)


async def test_an_unknown_poll_is_refused_with_4404(sockets):
    assert await sockets.refused(f"/ws/poll/{uuid.uuid4()}") == consumers.CLOSE_NOT_FOUND


@pytest.mark.parametrize("path", ["/ws/poll/" + "0" * 34, "/ws/nothing-here", "/ws/user/not-an-id"])
async def test_a_path_that_names_no_socket_is_refused_with_4404_and_not_counted(sockets, path):
    assert await sockets.refused(path) == consumers.CLOSE_NOT_FOUND
    await sockets.close_all()

    assert consumers.QuickPollConsumer.open_connections == 0


async def test_an_unlisted_poll_is_watched_by_anyone_with_its_link(
    sockets, owner, other_user, staff_user, session_cookie
):
    """As its page: unlisted keeps a poll out of lists, not away from whoever holds its link."""
    poll = await make_poll(author=owner, is_public=False)
    owner_session = await database_sync_to_async(session_cookie)(owner)
    other_session = await database_sync_to_async(session_cookie)(other_user)

    watchers = [
        await sockets.open(poll_path(poll)),
        await sockets.open(poll_path(poll), headers=with_origin(cookie(sessionid=other_session))),
        await sockets.open(f"{poll_path(poll)}?token={access_token(other_user)}"),
        await sockets.open(poll_path(poll), headers=with_origin(cookie(sessionid=owner_session))),
        await sockets.open(f"{poll_path(poll)}?token={access_token(staff_user)}"),
    ]
    as_author_by_subprotocol = sockets.make(poll_path(poll), subprotocols=["bearer", access_token(owner)])
    assert await as_author_by_subprotocol.connect(timeout=CONNECT_TIMEOUT) == (True, "bearer")
    watchers.append(as_author_by_subprotocol)

    for socket in watchers:
        message = await receive(socket)
        assert message["type"] == "results"
        assert message["poll_id"] == str(poll.pk)
    await vote(poll, visitor(1), "Green")
    for socket in watchers:
        assert (await receive_until(socket, is_settled(1)))[-1]["total_votes"] == 1


async def test_an_unlisted_poll_shows_link_holders_its_results_only_as_its_rule_allows(
    sockets, owner, session_cookie
):
    poll = await make_poll(author=owner, is_public=False, results_visibility=Poll.ResultsVisibility.OWNER_ONLY)
    owner_session = await database_sync_to_async(session_cookie)(owner)
    author = await sockets.open(poll_path(poll), headers=with_origin(cookie(sessionid=owner_session)))
    stranger = await sockets.open(poll_path(poll))

    assert (await receive(author))["type"] == "results"
    assert (await receive(stranger))["type"] == "results_hidden"
    await vote(poll, visitor(1))

    assert (await receive_until(author, is_settled(1)))[-1]["total_votes"] == 1
    assert await silent(stranger)


async def test_a_poll_made_unlisted_keeps_its_watchers(sockets, owner):
    poll = await make_poll(author=owner)
    socket = await sockets.open(poll_path(poll))
    await receive(socket)

    await database_sync_to_async(services.update_poll)(poll=poll, actor=owner, is_public=False)

    updated = await receive(socket)
    assert (updated["type"], updated["is_public"]) == ("poll.updated", False)
    await vote(poll, visitor(1))
    assert (await receive_until(socket, is_settled(1)))[-1]["total_votes"] == 1


async def test_an_expired_token_is_refused_with_4401_on_a_poll_socket(sockets, owner):
    poll = await make_poll(author=owner, is_public=False)
    token = AccessToken.for_user(owner)
    token.set_exp(lifetime=-timedelta(minutes=1))

    assert await sockets.refused(f"{poll_path(poll)}?token={token}") == consumers.CLOSE_UNAUTHENTICATED


# --- Live snapshots ---------------------------------------------------------------------------


async def test_a_vote_sends_every_subscriber_a_fresh_snapshot(sockets, owner):
    poll = await make_poll(author=owner)
    first = await sockets.open(poll_path(poll))
    second = await sockets.open(poll_path(poll))
    before = [await receive(first), await receive(second)]

    await vote(poll, visitor(1), "Blue")

    for socket, initial in zip((first, second), before):
        message = await receive(socket)
        assert message["type"] == "results"
        assert message["total_votes"] == 1
        assert votes_by_text(message) == {"Red": 0, "Green": 0, "Blue": 1}
        assert message["version"] > initial["version"]
        assert message["version"] == await results_version(poll)


async def test_a_like_sends_a_snapshot_with_the_new_likes_count(sockets, owner):
    poll = await make_poll(author=owner)
    socket = await sockets.open(poll_path(poll))
    assert (await receive(socket))["likes_count"] == 0

    await like(poll, visitor(1))

    message = await receive(socket)
    assert message["type"] == "results"
    assert message["likes_count"] == 1
    assert message["total_votes"] == 0


async def test_a_retracted_ballot_sends_a_snapshot_with_lower_counts(sockets, owner):
    poll = await make_poll(author=owner)
    await vote(poll, visitor(1), "Red")
    socket = await sockets.open(poll_path(poll))
    assert (await receive(socket))["total_votes"] == 1

    await database_sync_to_async(services.retract_ballot)(poll=poll, voter=visitor(1))

    message = await receive(socket)
    assert message["total_votes"] == 0
    assert votes_by_text(message) == {"Red": 0, "Green": 0, "Blue": 0}


async def test_quick_votes_are_coalesced_into_fewer_snapshots_of_absolute_counts(sockets, owner):
    poll = await make_poll(author=owner)
    socket = await sockets.open(poll_path(poll))
    initial = await receive(socket)

    @database_sync_to_async
    def five_quick_votes():
        for number, text in enumerate(["Red", "Red", "Green", "Blue", "Red"], start=1):
            services.cast_vote(poll=poll, voter=visitor(number), option_ids=pick(poll, text))

    await five_quick_votes()

    snapshots = await receive_until(socket, is_settled(5))
    assert all(is_results(message) for message in snapshots)
    assert len(snapshots) < 5
    versions = [initial["version"]] + [message["version"] for message in snapshots]
    assert versions == sorted(set(versions)), "versions must only grow"
    assert votes_by_text(snapshots[-1]) == {"Red": 3, "Green": 1, "Blue": 1}
    assert snapshots[-1]["version"] == await results_version(poll)
    for message in snapshots:
        assert sum(option["votes"] for option in message["options"]) == message["total_votes"]
    # Nothing newer is left to send, and the same version is never sent twice.
    assert await silent(socket)


async def test_a_snapshot_no_newer_than_the_last_one_sent_is_dropped(sockets, owner):
    poll = await make_poll(author=owner)
    await vote(poll, visitor(1))
    socket = await sockets.open(poll_path(poll))
    current = await receive(socket)
    layer = get_channel_layer()

    # As if another server process's snapshots arrived late, then a newer one.
    for version in (current["version"] - 1, current["version"], current["version"] + 1):
        snapshot = current | {"version": version}
        envelope = {
            "type": "results.snapshot",
            "text": json.dumps(snapshot),
            "version": version,
            "is_open": True,
            "voters": [],
        }
        await layer.group_send(events.poll_group(poll.pk), envelope)

    assert (await receive(socket))["version"] == current["version"] + 1
    assert await silent(socket)


async def test_a_rest_vote_reaches_subscribers_with_the_counts_the_api_returned(sockets, owner):
    poll = await make_poll(author=owner)
    socket = await sockets.open(poll_path(poll))
    await receive(socket)
    green = (await option_ids(poll, "Green"))[0]

    @database_sync_to_async
    def vote_over_rest():
        return APIClient().post("/api/votes", {"poll_id": str(poll.pk), "option_ids": [green]}, format="json")

    response = await vote_over_rest()

    assert response.status_code == 201, response.content
    message = await receive_until(socket, is_settled(1))
    assert message[-1]["options"] == response.json()["results"]["options"]
    assert votes_by_text(message[-1]) == {"Red": 0, "Green": 1, "Blue": 0}


async def test_a_vote_through_the_asgi_client_reaches_subscribers(sockets, owner):
    poll = await make_poll(author=owner)
    socket = await sockets.open(poll_path(poll))
    await receive(socket)
    red, blue = await option_ids(poll, "Red", "Blue")
    client = AsyncClient()

    for anon_id, option in (("asgi-visitor-0001", red), ("asgi-visitor-0002", blue)):
        response = await client.post(
            "/api/votes",
            {"poll_id": str(poll.pk), "option_ids": [option]},
            content_type="application/json",
            headers={"X-Anon-Id": anon_id},
        )
        assert response.status_code == 201, response.content

    message = (await receive_until(socket, is_settled(2)))[-1]
    assert votes_by_text(message) == {"Red": 1, "Green": 0, "Blue": 1}


async def test_a_deleted_poll_tells_its_subscribers_and_closes_with_4410(sockets, owner):
    poll = await make_poll(author=owner)
    socket = await sockets.open(poll_path(poll))
    await receive(socket)
    poll_id = str(poll.pk)  # delete() clears the instance's pk

    await database_sync_to_async(services.delete_poll)(poll=poll, actor=owner)

    message = await receive(socket)
    assert message["type"] == "poll.deleted"
    assert message["poll_id"] == poll_id
    assert await socket.receive_output(timeout=2) == {"type": "websocket.close", "code": consumers.CLOSE_GONE}


async def test_a_poll_edit_is_announced_and_results_hide_when_the_rule_tightens(sockets, owner):
    poll = await make_poll(author=owner)
    socket = await sockets.open(poll_path(poll))
    await receive(socket)

    await database_sync_to_async(services.update_poll)(
        poll=poll, actor=owner, title="Favourite colour, really?", results_visibility=Poll.ResultsVisibility.OWNER_ONLY
    )

    updated = await receive(socket)
    assert updated["type"] == "poll.updated"
    assert updated["title"] == "Favourite colour, really?"
    hidden = await receive(socket)
    assert hidden["type"] == "results_hidden"
    assert hidden["reason"]
    await vote(poll, visitor(1))
    assert await silent(socket)


# --- What each results rule shows -----------------------------------------------------------


async def test_after_vote_hides_results_from_a_visitor_until_their_own_vote(sockets, owner):
    poll = await make_poll(author=owner, results_visibility=Poll.ResultsVisibility.AFTER_VOTE)
    me = visitor(1)
    socket = await sockets.open(poll_path(poll), headers=with_origin(cookie(**{ANON_COOKIE: me.anon_id})))

    hidden = await receive(socket)
    assert hidden == {
        "type": "results_hidden",
        "poll_id": str(poll.pk),
        "reason": "Results show once you have voted.",
        "visible_from": None,
    }
    await vote(poll, visitor(2))  # someone else's vote shows me nothing
    assert await silent(socket)

    await vote(poll, me, "Green")

    message = await receive(socket)
    assert message["type"] == "results"
    assert message["total_votes"] == 2
    assert votes_by_text(message) == {"Red": 1, "Green": 1, "Blue": 0}


async def test_after_vote_shows_results_on_connect_to_a_visitor_who_voted(sockets, owner):
    poll = await make_poll(author=owner, results_visibility=Poll.ResultsVisibility.AFTER_VOTE)
    me = visitor(1)
    await vote(poll, me)

    by_cookie = await sockets.open(poll_path(poll), headers=with_origin(cookie(**{ANON_COOKIE: me.anon_id})))
    by_header = await sockets.open(poll_path(poll), headers=[(b"x-anon-id", me.anon_id.encode())])
    stranger = await sockets.open(poll_path(poll), headers=with_origin(cookie(**{ANON_COOKIE: visitor(2).anon_id})))

    assert (await receive(by_cookie))["type"] == "results"
    assert (await receive(by_header))["type"] == "results"
    assert (await receive(stranger))["type"] == "results_hidden"


async def test_after_vote_shows_results_to_a_logged_in_user_once_they_vote(
    sockets, owner, other_user, session_cookie
):
    poll = await make_poll(author=owner, results_visibility=Poll.ResultsVisibility.AFTER_VOTE)
    session = await database_sync_to_async(session_cookie)(other_user)
    socket = await sockets.open(poll_path(poll), headers=with_origin(cookie(sessionid=session)))
    assert (await receive(socket))["type"] == "results_hidden"

    await vote(poll, Voter(user=other_user), "Blue")

    message = await receive(socket)
    assert message["type"] == "results"
    assert votes_by_text(message) == {"Red": 0, "Green": 0, "Blue": 1}


@database_sync_to_async
def retract(poll, voter: Voter):
    return services.retract_ballot(poll=poll, voter=voter)


async def test_after_vote_hides_results_again_when_the_visitor_takes_their_vote_back(sockets, owner):
    poll = await make_poll(author=owner, results_visibility=Poll.ResultsVisibility.AFTER_VOTE)
    me = visitor(1)
    await vote(poll, me)
    socket = await sockets.open(poll_path(poll), headers=with_origin(cookie(**{ANON_COOKIE: me.anon_id})))
    assert (await receive(socket))["type"] == "results"

    await retract(poll, me)

    hidden = await receive(socket)
    assert hidden["type"] == "results_hidden"
    assert hidden["reason"] == "Results show once you have voted."
    await vote(poll, visitor(2))  # others keep voting: nothing streams to me any more
    assert await silent(socket)

    await vote(poll, me, "Blue")  # a new ballot starts the stream again
    message = await receive(socket)
    assert message["type"] == "results"
    assert votes_by_text(message) == {"Red": 1, "Green": 0, "Blue": 1}


async def test_after_vote_hides_results_from_a_user_whose_vote_a_moderator_withdrew(
    sockets, owner, other_user, staff_user
):
    poll = await make_poll(author=owner, results_visibility=Poll.ResultsVisibility.AFTER_VOTE)
    cast = await vote(poll, Voter(user=other_user), "Green")
    socket = await sockets.open(f"{poll_path(poll)}?token={access_token(other_user)}")
    watcher = await sockets.open(f"{poll_path(poll)}?token={access_token(owner)}")  # the author always sees
    assert (await receive(socket))["type"] == "results"
    assert (await receive(watcher))["type"] == "results"

    await database_sync_to_async(services.withdraw_vote)(vote=cast.votes[0], voter=None, actor=staff_user)

    assert (await receive(socket))["type"] == "results_hidden"
    update = await receive(watcher)
    assert update["type"] == "results"
    assert update["total_votes"] == 0


async def test_owner_only_shows_results_to_the_author_alone(sockets, owner, other_user, session_cookie):
    poll = await make_poll(author=owner, results_visibility=Poll.ResultsVisibility.OWNER_ONLY)
    owner_session = await database_sync_to_async(session_cookie)(owner)
    author = await sockets.open(poll_path(poll), headers=with_origin(cookie(sessionid=owner_session)))
    other = await sockets.open(f"{poll_path(poll)}?token={access_token(other_user)}")
    anonymous = await sockets.open(poll_path(poll), headers=with_origin(cookie(**{ANON_COOKIE: visitor(1).anon_id})))

    assert (await receive(author))["type"] == "results"
    for socket in (other, anonymous):
        hidden = await receive(socket)
        assert hidden["type"] == "results_hidden"
        assert hidden["reason"] == "Only the poll's author sees the results."

    await vote(poll, visitor(1))  # even the voter's own vote shows them nothing
    await vote(poll, Voter(user=other_user))

    assert (await receive_until(author, is_settled(2)))[-1]["total_votes"] == 2
    assert await silent(other, anonymous)


async def test_after_close_shows_results_when_the_author_closes_the_poll(sockets, owner, other_user):
    poll = await make_poll(author=owner, results_visibility=Poll.ResultsVisibility.AFTER_CLOSE)
    socket = await sockets.open(f"{poll_path(poll)}?token={access_token(other_user)}")
    hidden = await receive(socket)
    assert hidden["type"] == "results_hidden"
    assert hidden["reason"] == "Results show when the author closes the poll."
    await vote(poll, Voter(user=other_user), "Red")
    assert await silent(socket)

    await database_sync_to_async(services.set_poll_active)(poll=poll, actor=owner, active=False)

    closed = await receive(socket)
    assert closed["type"] == "poll.closed"
    assert closed["is_open"] is False
    results = await receive(socket)
    assert results["type"] == "results"
    assert results["is_open"] is False
    assert votes_by_text(results) == {"Red": 1, "Green": 0, "Blue": 0}


async def test_after_close_hides_results_again_when_the_poll_reopens(sockets, owner):
    poll = await make_poll(author=owner, results_visibility=Poll.ResultsVisibility.AFTER_CLOSE)
    await database_sync_to_async(services.set_poll_active)(poll=poll, actor=owner, active=False)
    socket = await sockets.open(poll_path(poll))
    assert (await receive(socket))["type"] == "results"

    await database_sync_to_async(services.set_poll_active)(poll=poll, actor=owner, active=True)

    reopened = await receive(socket)
    assert reopened["type"] == "poll.updated"
    assert reopened["is_open"] is True
    assert (await receive(socket))["type"] == "results_hidden"
    await vote(poll, visitor(1))
    assert await silent(socket)


async def test_after_close_results_hidden_says_when_a_timed_poll_closes(sockets, owner):
    expires_at = timezone.now() + timedelta(hours=1)
    poll = await make_poll(author=owner, results_visibility=Poll.ResultsVisibility.AFTER_CLOSE, expires_at=expires_at)
    socket = await sockets.open(poll_path(poll))

    hidden = await receive(socket)
    assert hidden["type"] == "results_hidden"
    assert hidden["visible_from"] == expires_at.isoformat()


async def test_a_secret_polls_results_reach_no_socket_until_it_closes(sockets, owner, session_cookie):
    poll = await make_poll(author=owner, is_secret=True)
    owner_session = await database_sync_to_async(session_cookie)(owner)
    author = await sockets.open(poll_path(poll), headers=with_origin(cookie(sessionid=owner_session)))
    me = visitor(1)
    voter = await sockets.open(poll_path(poll), headers=with_origin(cookie(**{ANON_COOKIE: me.anon_id})))
    assert (await receive(author))["type"] == "results_hidden"
    assert (await receive(voter))["type"] == "results_hidden"

    await vote(poll, me, "Green")

    assert await silent(author)  # not even its author sees the counts move
    assert await silent(voter)
    await database_sync_to_async(services.set_poll_active)(poll=poll, actor=owner, active=False)
    for socket in (author, voter):
        final = await receive_until(socket, is_results)
        assert votes_by_text(final[-1]) == {"Red": 0, "Green": 1, "Blue": 0}


# --- Voting methods ---------------------------------------------------------------------------


async def test_a_ranked_polls_snapshot_carries_its_rounds_as_they_unfold(sockets, owner):
    poll = await make_poll(author=owner, method="ranked")
    socket = await sockets.open(poll_path(poll))
    assert (await receive(socket))["ranked"]["rounds"] == []

    await vote(poll, visitor(1), "Red", "Blue")
    await vote(poll, visitor(2), "Green", "Blue")
    await vote(poll, visitor(3), "Blue", "Green")

    message = (await receive_until(socket, is_settled(3)))[-1]
    rounds = message["ranked"]["rounds"]
    # Three-way tie: Blue (last in the poll's order) goes first, and its ballot moves to Green, who wins.
    assert [one["eliminated"]["text"] for one in rounds[:-1]] == ["Blue"]
    assert rounds[0]["tie_broken_by"] == "poll order"
    assert {one["text"]: one["votes"] for one in rounds[-1]["tallies"]} == {"Red": 1, "Green": 2}
    assert [o["text"] for o in message["options"] if o["id"] == message["ranked"]["winner"]] == ["Green"]
    assert "Round 1" in message["html"]


async def test_a_score_polls_snapshot_carries_means_and_distributions(sockets, owner):
    poll = await make_poll(author=owner, method="score")
    socket = await sockets.open(poll_path(poll))
    await receive(socket)
    red, blue = await option_ids(poll, "Red", "Blue")

    await database_sync_to_async(services.cast_vote)(poll=poll, voter=visitor(1), scores={red: 4, blue: 1})

    message = (await receive_until(socket, is_settled(1)))[-1]
    assert {o["text"]: o["mean"] for o in message["options"]} == {"Red": 4.0, "Green": None, "Blue": 1.0}
    assert message["score"]["options"][0]["distribution"] == [0, 0, 0, 0, 1, 0]


# --- Languages ------------------------------------------------------------------------------------


async def test_each_socket_gets_live_fragments_in_the_language_of_its_page(sockets, owner):
    poll = await make_poll(author=owner)
    await vote(poll, visitor(1), "Green")
    german = await sockets.open(poll_path(poll), headers=with_origin((b"accept-language", b"de-DE,de;q=0.9")))
    spanish = await sockets.open(poll_path(poll), headers=with_origin(cookie(django_language="es")))
    english = await sockets.open(poll_path(poll))
    on_connect = [await receive(socket) for socket in (german, spanish, english)]
    assert ["1 Stimme" in on_connect[0]["html"], "1 voto" in on_connect[1]["html"], "1 vote" in on_connect[2]["html"]] == [
        True,
        True,
        True,
    ]

    await vote(poll, visitor(2), "Green")

    live = [await receive(socket) for socket in (german, spanish, english)]
    assert "2 Stimmen" in live[0]["html"] and "2 votos" in live[1]["html"] and "2 votes" in live[2]["html"]
    assert live[0]["version"] == live[1]["version"] == live[2]["version"]
