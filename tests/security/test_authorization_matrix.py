"""Who may call which API endpoint: every operation of the OpenAPI schema, for five callers, with the
exact status (and, for a refusal, the error code) each one gets.

A row per operation (and a few more for other kinds of poll); a column per caller: anonymous,
another user, the owner of the object in the path, staff (is_staff, no group) and a moderator
(accounts.services.make_moderator). "Owner" is the poll's author, the vote's voter, the like's liker,
the notification's recipient, or the user themselves. Each cell builds its objects afresh inside a
savepoint that is rolled back afterwards, so a DELETE in one cell cannot change what the next one sees.

Staff without the moderators group have a moderator's powers in the API: the code (polls.permissions.can_manage,
VoterVoteSerializer) and the endpoint tests (accounts/tests/test_api_auth.py) treat is_staff as "moderator".
"""

import json
import re
from dataclasses import dataclass
from typing import Callable

from datetime import timedelta

import pyotp
import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import api_keys, two_factor
from accounts.models import Notification, User
from accounts.tests.factories import PASSWORD
from accounts.tokens import Purpose, make_token
from polls import answers, decks, invites, presenting, services
from polls.models import Answer, Ballot, Deck, Like, Poll, Report, Vote
from polls.tests.factories import PollFactory, pick
from polls.voters import Voter
from realtime import events
from tests.ci_summary import summarise
from tests.security.conftest import bearer_client
from webhooks import services as webhook_services
from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "other", "owner", "staff", "moderator")


@dataclass(frozen=True)
class Call:
    url: str
    body: dict | None = None


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # as the schema names it
    setup: Callable  # (Cast) -> Call, run inside the cell's savepoint
    expected: str  # one outcome per role, in ROLES order: "200", "403 not_owner", ...
    variant: str = ""

    def outcomes(self) -> dict[str, str]:
        cells = [cell.strip() for cell in self.expected.split("|")]
        assert len(cells) == len(ROLES), f"{self}: {len(cells)} cells"
        return dict(zip(ROLES, cells))

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}" + (f" [{self.variant}]" if self.variant else "")


@dataclass
class Cast:
    owner: object
    other: object
    staff: object
    moderator: object
    third: object  # the poll's author where the owner is a voter or liker


# --- What each row needs (every object is new for its cell) ----------------------------------------------


def poll_of(author, **fields) -> Poll:
    return PollFactory(author=author, title="Favourite colour?", **fields)


def voted(poll: Poll, user) -> Vote:
    cast = services.cast_vote(poll=poll, voter=Voter(user=user), option_ids=pick(poll, "Red"))
    return cast.ballot.votes.get()


def liked(poll: Poll, user) -> Like:
    return services.like_poll(poll=poll, voter=Voter(user=user))


def closed(poll: Poll) -> Poll:
    Poll.objects.filter(pk=poll.pk).update(is_active=False)
    poll.refresh_from_db()
    return poll


def held(poll: Poll, moderator) -> Poll:
    return services.hold_poll(poll=poll, moderator=moderator, reason="Spam links in the options.")


def vote_body(poll: Poll) -> dict:
    return {"poll_id": str(poll.pk), "option_ids": [str(pick(poll, "Red")[0])]}


def notification_for(user) -> Notification:
    poll = poll_of(user)
    return Notification.objects.create(recipient=user, kind=Notification.Kind.VOTE, poll=poll, payload={"message": "New votes."})


def owners_unread_notifications(cast) -> Call:
    notification_for(cast.owner)
    return Call("/api/notifications?unread=true")


def owners_api_key(cast) -> str:
    key, _secret = api_keys.create_api_key(user=cast.owner, name="Spreadsheet sync", scopes=["read"])
    return str(key.pk)


def owners_poll(cast, **fields) -> str:
    return str(poll_of(cast.owner, **fields).pk)


def owners_vote(cast) -> str:
    """The owner's vote on someone else's poll."""
    return str(voted(poll_of(cast.third), cast.owner).pk)


def owners_vote_on_a_closed_poll(cast) -> str:
    vote = voted(poll_of(cast.third), cast.owner)
    closed(vote.poll)
    return str(vote.pk)


def owner_who_voted(cast) -> str:
    voted(poll_of(cast.third), cast.owner)
    return str(cast.owner.pk)


def owner_who_liked(cast) -> str:
    liked(poll_of(cast.third), cast.owner)
    return str(cast.owner.pk)


def secret_poll_with_a_ballot(cast, *, close: bool) -> tuple[Poll, str]:
    """The owner's secret poll, a ballot from the third user on it, and that ballot's receipt."""
    poll = poll_of(cast.owner, is_secret=True)
    receipt = services.cast_vote(poll=poll, voter=Voter(user=cast.third), option_ids=pick(poll, "Red")).receipt
    return (closed(poll) if close else poll), receipt


def receipt_url(poll: Poll, receipt: str) -> str:
    return f"/api/polls/{poll.pk}/receipts/{receipt}"


def secret_ballot_of_the_owner(cast) -> str:
    poll = poll_of(cast.third, is_secret=True)
    services.cast_vote(poll=poll, voter=Voter(user=cast.owner), option_ids=pick(poll, "Red"))
    return str(poll.pk)


def owners_ballot_change(poll: Poll, cast) -> Call:
    """The owner voted Red on the poll; the call moves the vote to Green."""
    services.cast_vote(poll=poll, voter=Voter(user=cast.owner), option_ids=pick(poll, "Red"))
    return Call(f"/api/votes/poll/{poll.pk}", {"option_ids": [str(pick(poll, "Green")[0])]})


def author_with_a_poll(cast) -> str:
    poll_of(cast.owner)
    return str(cast.owner.pk)


def owners_invite(cast) -> str:
    """The path of an invite of the owner's invite-only poll."""
    poll = poll_of(cast.owner, invite_only=True)
    [invite] = invites.create_invites(poll=poll, actor=cast.owner, count=1)
    return f"/api/polls/{poll.pk}/invites/{invite.pk}"


def suggestion_on_owners_poll(cast) -> str:
    """The path of a suggestion the third user made on the owner's poll, waiting for the owner."""
    poll = poll_of(cast.owner, allow_write_ins=True)
    write_in = services.suggest_option(poll=poll, voter=Voter(user=cast.third), text="Purple")
    return f"/api/polls/{poll.pk}/write-ins/{write_in.pk}"


def invited_vote_body(poll: Poll) -> dict:
    [invite] = invites.create_invites(poll=poll, actor=poll.author, count=1)
    return vote_body(poll) | {"invite": invite.token}


# --- The live room: presenting, answers, decks, join codes -------------------------------------------------


def presented(poll: Poll, audience_results: str) -> Poll:
    return presenting.present(poll=poll, actor=poll.author, presenting=True, audience_results=audience_results)


def presented_then_ended(poll: Poll, audience_results: str) -> Poll:
    presented(poll, audience_results)
    return presenting.present(poll=poll, actor=poll.author, presenting=False)


def text_poll_of(author, **fields) -> Poll:
    return poll_of(author, method="text", options=[], **fields)


def answered(poll: Poll, user, text: str = "Coffee") -> Answer:
    return answers.submit_answer(poll=poll, voter=Voter(user=user), text=text)


def answer_url(answer: Answer) -> str:
    return f"/api/polls/{answer.poll_id}/answers/{answer.pk}"


# --- Webhooks -----------------------------------------------------------------------------------------------
WEBHOOK_BODY = {"url": "https://93.184.215.14/hook", "events": ["poll.closed"]}


def owners_endpoint(cast) -> str:
    return str(webhook_services.create_endpoint(owner=cast.owner, **WEBHOOK_BODY).pk)


def owners_delivery(cast) -> str:
    """An attempt of the owner's endpoint's log, answered with a 500 and given up."""
    event = webhook_services.send_test(endpoint=Endpoint.objects.get(pk=owners_endpoint(cast)), actor=cast.owner)
    event.status, event.attempts = "failed", 1
    event.save()
    return str(Delivery.objects.create(outbox_event=event, endpoint=event.endpoint, attempt=1, status="failed", response_code=500).pk)


def owners_deck(cast) -> Deck:
    """The owner's deck of two of the owner's polls."""
    poll_ids = [poll_of(cast.owner).pk, poll_of(cast.owner).pk]
    return decks.create_deck(author=cast.owner, title="Monday's talk", poll_ids=poll_ids)


def owners_deck_edit(cast) -> Call:
    deck = owners_deck(cast)
    poll_ids = [str(pk) for pk in deck.items.order_by("-position").values_list("poll_id", flat=True)]
    return Call(f"/api/decks/{deck.pk}", {"title": "Tuesday's talk", "polls": poll_ids})


def owners_deck_list(cast) -> Call:
    owners_deck(cast)
    return Call("/api/decks")


def new_deck_of_owners_polls(cast) -> Call:
    return Call("/api/decks", {"title": "A new talk", "polls": [owners_poll(cast), owners_poll(cast)]})


def two_factor_step(cast, *, code_steps_ahead: int | None) -> Call:
    """The owner's second login step: a challenge (whoever holds it may finish) and the app's next code, or a wrong one."""
    secret = pyotp.random_base32()
    two_factor.enable_two_factor(user=cast.owner, secret=secret, code=pyotp.TOTP(secret).now())
    code = "" if code_steps_ahead is None else pyotp.TOTP(secret).at(timezone.now() + timedelta(seconds=30 * code_steps_ahead))
    return Call("/api/users/login/two-factor", {"challenge": two_factor.sign_in_challenge(cast.owner), "code": code or "not-a-code"})


NEW_ACCOUNT = {"username": "newcomer", "email": "newcomer@example.com", "password": "a-Strong-pass-8812"}
NEW_POLL = {"title": "A new poll", "options": ["Yes", "No"]}
NEW_PASSWORD = {"current_password": PASSWORD, "new_password": "another-Strong-pass-5531"}

ROWS = [
    # --- accounts ---------------------------------------------------------------------------------------
    Row("POST", "/api/users/register", lambda c: Call("/api/users/register", NEW_ACCOUNT), "201 | 201 | 201 | 201 | 201"),
    Row(
        "POST",
        "/api/users/login",
        lambda c: Call("/api/users/login", {"username": c.owner.username, "password": PASSWORD}),
        "200 | 200 | 200 | 200 | 200",
    ),
    Row(
        "POST",
        "/api/users/login/two-factor",
        lambda c: two_factor_step(c, code_steps_ahead=1),
        "200 | 200 | 200 | 200 | 200",
    ),
    Row(
        "POST",
        "/api/users/login/two-factor",
        lambda c: two_factor_step(c, code_steps_ahead=None),
        "401 invalid_two_factor_code | 401 invalid_two_factor_code | 401 invalid_two_factor_code | 401 invalid_two_factor_code | 401 invalid_two_factor_code",
        variant="wrong code",
    ),
    Row(
        "POST",
        "/api/users/token/refresh",
        lambda c: Call("/api/users/token/refresh", {"refresh": str(RefreshToken.for_user(c.owner))}),
        "200 | 200 | 200 | 200 | 200",
    ),
    Row(
        "POST",
        "/api/users/logout",
        lambda c: Call("/api/users/logout", {"refresh": str(RefreshToken.for_user(c.owner))}),
        "204 | 204 | 204 | 204 | 204",
    ),
    Row("GET", "/api/users/me", lambda c: Call("/api/users/me"), "401 login_required | 200 | 200 | 200 | 200"),
    Row(
        "PATCH",
        "/api/users/me",
        lambda c: Call("/api/users/me", {"display_name": "Renamed"}),
        "401 login_required | 200 | 200 | 200 | 200",
    ),
    Row(
        "DELETE",
        "/api/users/me",
        lambda c: Call("/api/users/me", {"password": PASSWORD}),
        "401 login_required | 204 | 204 | 204 | 204",
    ),
    Row("GET", "/api/users/me/export", lambda c: Call("/api/users/me/export"), "401 login_required | 200 | 200 | 200 | 200"),
    Row(
        "POST",
        "/api/users/me/password",
        lambda c: Call("/api/users/me/password", NEW_PASSWORD),
        "401 login_required | 204 | 204 | 204 | 204",
    ),
    # --- mail: reset, confirmation, notification mails (accounts.mail) ---
    Row(
        "POST",
        "/api/users/password-reset",
        lambda c: Call("/api/users/password-reset", {"email": c.owner.email}),
        "202 | 202 | 202 | 202 | 202",
    ),
    Row(
        "POST",
        "/api/users/password-reset/confirm",
        lambda c: Call(
            "/api/users/password-reset/confirm",
            {"token": make_token(c.owner, Purpose.PASSWORD_RESET), "new_password": NEW_PASSWORD["new_password"]},
        ),
        "204 | 204 | 204 | 204 | 204",
    ),
    Row(
        "POST",
        "/api/users/email/confirm",
        lambda c: Call("/api/users/email/confirm", {"token": make_token(c.owner, Purpose.CONFIRM_EMAIL)}),
        "204 | 204 | 204 | 204 | 204",
    ),
    Row("POST", "/api/users/me/email/resend", lambda c: Call("/api/users/me/email/resend"), "401 login_required | 202 | 202 | 202 | 202"),
    Row("GET", "/api/users/me/email-preferences", lambda c: Call("/api/users/me/email-preferences"), "401 login_required | 200 | 200 | 200 | 200"),
    Row(
        "PATCH",
        "/api/users/me/email-preferences",
        lambda c: Call("/api/users/me/email-preferences", {"weekly_digest": True}),
        "401 login_required | 200 | 200 | 200 | 200",
    ),
    Row("GET", "/api/users", lambda c: Call("/api/users"), "200 | 200 | 200 | 200 | 200"),
    Row("GET", "/api/users/count", lambda c: Call("/api/users/count"), "200 | 200 | 200 | 200 | 200"),
    Row("GET", "/api/users/{id}", lambda c: Call(f"/api/users/{c.owner.pk}"), "200 | 200 | 200 | 200 | 200"),
    Row(
        "GET",
        "/api/users/{user_id}/polls",
        lambda c: Call(f"/api/users/{c.owner.pk}/polls"),
        "200 | 200 | 200 | 200 | 200",
    ),
    Row(
        "GET",
        "/api/users/{user_id}/stats",
        lambda c: Call(f"/api/users/{c.owner.pk}/stats"),
        "200 | 200 | 200 | 200 | 200",
    ),
    # --- polls ------------------------------------------------------------------------------------------
    Row("GET", "/api/polls", lambda c: Call(f"/api/polls?author={author_with_a_poll(c)}"), "200 | 200 | 200 | 200 | 200"),
    Row("GET", "/api/polls/trending", lambda c: Call("/api/polls/trending"), "200 | 200 | 200 | 200 | 200"),
    Row("GET", "/api/polls/popular", lambda c: Call("/api/polls/popular"), "200 | 200 | 200 | 200 | 200"),
    Row("GET", "/api/polls/recent", lambda c: Call("/api/polls/recent"), "200 | 200 | 200 | 200 | 200"),
    Row("GET", "/api/polls/search", lambda c: Call("/api/polls/search?q=colour"), "200 | 200 | 200 | 200 | 200"),
    Row("GET", "/api/polls/stats", lambda c: Call("/api/polls/stats"), "200 | 200 | 200 | 200 | 200"),
    Row("GET", "/api/polls/{id}", lambda c: Call(f"/api/polls/{owners_poll(c)}"), "200 | 200 | 200 | 200 | 200"),
    Row(
        "GET",
        "/api/polls/{id}",
        lambda c: Call(f"/api/polls/{owners_poll(c, is_public=False)}"),
        "200 | 200 | 200 | 200 | 200",
        variant="unlisted: opens by its link",
    ),
    Row("POST", "/api/polls", lambda c: Call("/api/polls", NEW_POLL), "401 login_required | 201 | 201 | 201 | 201"),
    Row(
        "PUT",
        "/api/polls/{id}",
        lambda c: Call(f"/api/polls/{owners_poll(c)}", {"title": "Retitled", "options": ["Red", "Green", "Blue"]}),
        "401 login_required | 403 not_owner | 200 | 200 | 200",
    ),
    Row(
        "PATCH",
        "/api/polls/{id}",
        lambda c: Call(f"/api/polls/{owners_poll(c)}", {"title": "Retitled"}),
        "401 login_required | 403 not_owner | 200 | 200 | 200",
    ),
    Row(
        "DELETE",
        "/api/polls/{id}",
        lambda c: Call(f"/api/polls/{owners_poll(c)}"),
        "401 login_required | 403 not_owner | 204 | 204 | 204",
    ),
    Row(
        "POST",
        "/api/polls/{id}/activate",
        lambda c: Call(f"/api/polls/{closed(poll_of(c.owner)).pk}/activate"),
        "401 login_required | 403 not_owner | 200 | 200 | 200",
    ),
    Row(
        "POST",
        "/api/polls/{id}/deactivate",
        lambda c: Call(f"/api/polls/{owners_poll(c)}/deactivate"),
        "401 login_required | 403 not_owner | 200 | 200 | 200",
    ),
    Row(
        "PATCH",
        "/api/polls/{id}",
        lambda c: Call(f"/api/polls/{owners_poll(c)}", {"results_visibility": "owner_only"}),
        "401 login_required | 403 not_owner | 200 | 403 not_editable | 403 not_editable",
        variant="results visibility: the author's alone",
    ),
    Row(
        "PATCH",
        "/api/polls/{id}",
        lambda c: Call(f"/api/polls/{held(poll_of(c.owner), c.moderator).pk}", {"is_public": True}),
        "401 login_required | 403 not_owner | 409 moderation_hold | 409 moderation_hold | 409 moderation_hold",
        variant="on hold: listing waits for the lift",
    ),
    Row(
        "POST",
        "/api/polls/{id}/activate",
        lambda c: Call(f"/api/polls/{held(poll_of(c.owner), c.moderator).pk}/activate"),
        "401 login_required | 403 not_owner | 409 moderation_hold | 409 moderation_hold | 409 moderation_hold",
        variant="on hold",
    ),
    Row(
        "POST",
        "/api/polls/{id}/hold",
        lambda c: Call(f"/api/polls/{owners_poll(c)}/hold", {"reason": "Spam links in the options."}),
        "401 login_required | 403 forbidden | 403 forbidden | 200 | 200",
    ),
    Row(
        "DELETE",
        "/api/polls/{id}/hold",
        lambda c: Call(f"/api/polls/{held(poll_of(c.owner), c.moderator).pk}/hold", {"reason": "Fixed."}),
        "401 login_required | 403 forbidden | 403 forbidden | 200 | 200",
    ),
    Row(
        "POST",
        "/api/polls/{id}/void-ballots",
        lambda c: Call(
            f"/api/polls/{voted(poll_of(c.owner), c.third).poll_id}/void-ballots",
            {"since": "2000-01-01T00:00:00Z", "reason": "A burst from one network."},
        ),
        "401 login_required | 403 forbidden | 403 forbidden | 200 | 200",
    ),
    Row(
        "POST",
        "/api/polls/{id}/report",
        lambda c: Call(f"/api/polls/{owners_poll(c)}/report", {"reason": "spam"}),
        "401 login_required | 201 | 403 own_poll | 201 | 201",
    ),
    Row(
        "GET",
        "/api/polls/{id}/export",
        lambda c: Call(f"/api/polls/{owners_poll(c)}/export?format=json"),
        "401 login_required | 403 not_owner | 200 | 200 | 200",
    ),
    Row(
        "GET",
        "/api/polls/{id}/export",
        lambda c: Call(f"/api/polls/{owners_poll(c, is_public=False)}/export?format=csv"),
        "401 login_required | 403 not_owner | 200 | 200 | 200",
        variant="unlisted, csv",
    ),
    Row(
        "GET",
        "/api/polls/{poll_id}/invites",
        lambda c: Call(f"/api/polls/{owners_poll(c, invite_only=True)}/invites"),
        "401 login_required | 403 not_owner | 200 | 200 | 200",
    ),
    Row(
        "POST",
        "/api/polls/{poll_id}/invites",
        lambda c: Call(f"/api/polls/{owners_poll(c, invite_only=True)}/invites", {"count": 2}),
        "401 login_required | 403 not_owner | 201 | 201 | 201",
    ),
    Row(
        "POST",
        "/api/polls/{poll_id}/invites/{id}/revoke",
        lambda c: Call(f"{owners_invite(c)}/revoke"),
        "401 login_required | 403 not_owner | 200 | 200 | 200",
    ),
    Row(
        "POST",
        "/api/polls/{poll_id}/invites/revoke-unused",
        lambda c: Call(f"/api/polls/{owners_poll(c, invite_only=True)}/invites/revoke-unused"),
        "401 login_required | 403 not_owner | 200 | 200 | 200",
    ),
    Row(
        "GET",
        "/api/polls/{poll_id}/invites/export",
        lambda c: Call(f"{owners_invite(c).rsplit('/', 1)[0]}/export"),
        "401 login_required | 403 not_owner | 200 | 200 | 200",
    ),
    Row(
        "POST",
        "/api/polls/{poll_id}/write-ins",
        lambda c: Call(f"/api/polls/{owners_poll(c, allow_write_ins=True)}/write-ins", {"text": "Purple"}),
        "201 | 201 | 201 | 201 | 201",
    ),
    Row(
        "POST",
        "/api/polls/{poll_id}/write-ins",
        lambda c: Call(f"/api/polls/{owners_poll(c)}/write-ins", {"text": "Purple"}),
        "403 write_ins_off | 403 write_ins_off | 403 write_ins_off | 403 write_ins_off | 403 write_ins_off",
        variant="a poll without write-ins",
    ),
    Row(
        "GET",
        "/api/polls/{poll_id}/write-ins",
        lambda c: Call(f"{suggestion_on_owners_poll(c).rsplit('/', 1)[0]}?status=pending"),
        "401 login_required | 403 not_owner | 200 | 200 | 200",
    ),
    Row(
        "POST",
        "/api/polls/{poll_id}/write-ins/{id}/accept",
        lambda c: Call(f"{suggestion_on_owners_poll(c)}/accept"),
        "401 login_required | 403 not_owner | 200 | 200 | 200",
    ),
    Row(
        "POST",
        "/api/polls/{poll_id}/write-ins/{id}/reject",
        lambda c: Call(f"{suggestion_on_owners_poll(c)}/reject"),
        "401 login_required | 403 not_owner | 200 | 200 | 200",
    ),
    Row(
        "GET",
        "/api/polls/{id}/export",
        lambda c: Call(f"/api/polls/{secret_poll_with_a_ballot(c, close=False)[0].pk}/export?format=csv"),
        "401 login_required | 403 not_owner | 403 results_hidden | 403 results_hidden | 403 results_hidden",
        variant="open secret poll: sealed for everyone",
    ),
    Row(
        "GET",
        "/api/polls/{id}/ballots",
        lambda c: Call(f"/api/polls/{secret_poll_with_a_ballot(c, close=True)[0].pk}/ballots"),
        "200 | 200 | 200 | 200 | 200",
    ),
    Row(
        "GET",
        "/api/polls/{id}/ballots",
        lambda c: Call(f"/api/polls/{secret_poll_with_a_ballot(c, close=False)[0].pk}/ballots"),
        "403 results_hidden | 403 results_hidden | 403 results_hidden | 403 results_hidden | 403 results_hidden",
        variant="open: not even for its author",
    ),
    Row(
        "GET",
        "/api/polls/{id}/receipts/{code}",
        lambda c: Call(receipt_url(*secret_poll_with_a_ballot(c, close=False))),
        "200 | 200 | 200 | 200 | 200",
    ),
    Row(
        "GET",
        "/api/polls/{id}/results",
        lambda c: Call(f"/api/polls/{owners_poll(c, method='ranked')}/results"),
        "200 | 200 | 200 | 200 | 200",
    ),
    Row(
        "GET",
        "/api/polls/{id}/results",
        lambda c: Call(f"/api/polls/{owners_poll(c, method='score', results_visibility='owner_only')}/results"),
        "403 results_hidden | 403 results_hidden | 200 | 200 | 200",
        variant="results for the author only",
    ),
    Row(
        "GET",
        "/api/polls/{id}/challenge",
        lambda c: Call(f"/api/polls/{owners_poll(c)}/challenge"),
        "200 | 200 | 200 | 200 | 200",
    ),
    Row(
        "GET",
        "/api/polls/{id}/challenge",
        lambda c: Call(f"/api/polls/{owners_poll(c, is_public=False)}/challenge"),
        "200 | 200 | 200 | 200 | 200",
        variant="unlisted",
    ),
    # --- embeds -----------------------------------------------------------------------------------------
    Row(
        "GET",
        "/api/oembed",
        lambda c: Call(f"/api/oembed?url=http://testserver/p/{poll_of(c.owner).slug}/"),
        "200 | 200 | 200 | 200 | 200",
    ),
    Row(
        "GET",
        "/api/oembed",
        lambda c: Call(f"/api/oembed?url=http://testserver/embed/{poll_of(c.owner, is_public=False).slug}"),
        "200 | 200 | 200 | 200 | 200",
        variant="unlisted: anyone with its link",
    ),
    Row(
        "GET",
        "/api/oembed",
        lambda c: Call("/api/oembed?url=https://elsewhere.example.org/p/a-poll/"),
        "404 not_found | 404 not_found | 404 not_found | 404 not_found | 404 not_found",
        variant="not a poll of this site",
    ),
    # --- the live room ----------------------------------------------------------------------------------
    Row(
        "GET",
        "/api/polls/{id}/presentation",
        lambda c: Call(f"/api/polls/{presented(poll_of(c.owner), 'hidden').pk}/presentation"),
        "401 login_required | 403 not_owner | 200 | 200 | 200",
    ),
    Row(
        "POST",
        "/api/polls/{id}/presentation",
        lambda c: Call(f"/api/polls/{owners_poll(c)}/presentation", {"presenting": True, "audience_results": "hidden"}),
        "401 login_required | 403 not_owner | 200 | 200 | 200",
    ),
    Row(
        "POST",
        "/api/polls/{id}/presentation",
        lambda c: Call(f"/api/polls/{presented(poll_of(c.owner), 'shown').pk}/presentation", {"presenting": False}),
        "401 login_required | 403 not_owner | 200 | 200 | 200",
        variant="ending it",
    ),
    Row(
        "GET",
        "/api/polls/{id}/results",
        lambda c: Call(f"/api/polls/{presented(poll_of(c.owner), 'hidden').pk}/results"),
        "403 results_hidden | 403 results_hidden | 200 | 200 | 200",
        variant="presenting, results hidden from the audience",
    ),
    Row(
        "GET",
        "/api/polls/{id}/results",
        lambda c: Call(f"/api/polls/{presented(poll_of(c.owner, results_visibility='owner_only'), 'shown').pk}/results"),
        "200 | 200 | 200 | 200 | 200",
        variant="presenting, an author-only poll's results shown",
    ),
    Row(
        "GET",
        "/api/polls/{id}/results",
        lambda c: Call(f"/api/polls/{presented_then_ended(poll_of(c.owner, results_visibility='owner_only'), 'shown').pk}/results"),
        "403 results_hidden | 403 results_hidden | 200 | 200 | 200",
        variant="presenting ended: the author-only rule again",
    ),
    Row(
        "GET",
        "/api/polls/{id}/results",
        lambda c: Call(f"/api/polls/{presented_then_ended(poll_of(c.owner), 'hidden').pk}/results"),
        "200 | 200 | 200 | 200 | 200",
        variant="presenting ended: the always rule again",
    ),
    Row(
        "GET",
        "/api/polls/{id}/results",
        lambda c: Call(f"/api/polls/{presented(poll_of(c.owner, is_secret=True), 'shown').pk}/results"),
        "403 results_hidden | 403 results_hidden | 403 results_hidden | 403 results_hidden | 403 results_hidden",
        variant="presenting an open secret poll, results shown: still sealed",
    ),
    Row(
        "GET",
        "/api/votes/poll/{poll_id}/stats",
        lambda c: Call(f"/api/votes/poll/{presented(poll_of(c.owner), 'hidden').pk}/stats"),
        "403 results_hidden | 403 results_hidden | 200 | 200 | 200",
        variant="presenting, results hidden from the audience",
    ),
    Row(
        "GET",
        "/api/polls/{poll_id}/answers",
        lambda c: Call(f"/api/polls/{answered(text_poll_of(c.owner), c.third).poll_id}/answers"),
        "200 | 200 | 200 | 200 | 200",
    ),
    Row(
        "POST",
        "/api/polls/{poll_id}/answers",
        lambda c: Call(f"/api/polls/{text_poll_of(c.owner).pk}/answers", {"text": "Coffee"}),
        "201 | 201 | 201 | 201 | 201",
    ),
    Row(
        "POST",
        "/api/polls/{poll_id}/answers",
        lambda c: Call(f"/api/polls/{text_poll_of(c.owner, allow_anonymous=False).pk}/answers", {"text": "Coffee"}),
        "401 login_required | 201 | 201 | 201 | 201",
        variant="members only",
    ),
    Row(
        "POST",
        "/api/polls/{poll_id}/answers",
        lambda c: Call(f"/api/polls/{closed(text_poll_of(c.owner)).pk}/answers", {"text": "Coffee"}),
        "403 poll_closed | 403 poll_closed | 403 poll_closed | 403 poll_closed | 403 poll_closed",
        variant="closed",
    ),
    Row(
        "DELETE",
        "/api/polls/{poll_id}/answers/{id}",
        lambda c: Call(answer_url(answered(text_poll_of(c.third), c.owner))),
        "403 not_owner | 403 not_owner | 204 | 204 | 204",
        variant="the owner's own answer",
    ),
    Row(
        "DELETE",
        "/api/polls/{poll_id}/answers/{id}",
        lambda c: Call(answer_url(answered(text_poll_of(c.owner), c.third))),
        # Its author hides answers from every screen; deleting one is its voter's or a moderator's, as with votes.
        "403 not_owner | 403 not_owner | 403 not_owner | 204 | 204",
        variant="an answer on the owner's poll",
    ),
    Row(
        "POST",
        "/api/polls/{poll_id}/answers/hide",
        lambda c: Call(f"/api/polls/{answered(text_poll_of(c.owner), c.third).poll_id}/answers/hide", {"key": "coffee", "hidden": True}),
        "401 login_required | 403 not_owner | 200 | 200 | 200",
    ),
    Row(
        "GET",
        "/api/polls/code/{code}",
        lambda c: Call(f"/api/polls/code/{poll_of(c.owner).join_code.lower()}"),
        "200 | 200 | 200 | 200 | 200",
    ),
    Row(
        "GET",
        "/api/polls/code/{code}",
        lambda c: Call(f"/api/polls/code/{held(poll_of(c.owner), c.moderator).join_code}"),
        "404 not_found | 404 not_found | 404 not_found | 404 not_found | 404 not_found",
        variant="on hold",
    ),
    Row(
        "GET",
        "/api/decks/code/{code}",
        lambda c: Call(f"/api/decks/code/{owners_deck(c).join_code}"),
        "200 | 200 | 200 | 200 | 200",
    ),
    Row("GET", "/api/decks", owners_deck_list, "401 login_required | 200 | 200 | 200 | 200"),
    Row("POST", "/api/decks", new_deck_of_owners_polls, "401 login_required | 400 invalid | 201 | 201 | 201"),
    Row(
        "GET",
        "/api/decks/{id}",
        lambda c: Call(f"/api/decks/{owners_deck(c).pk}"),
        "401 login_required | 403 not_owner | 200 | 200 | 200",
    ),
    Row("PUT", "/api/decks/{id}", owners_deck_edit, "401 login_required | 403 not_owner | 200 | 200 | 200"),
    Row(
        "PATCH",
        "/api/decks/{id}",
        lambda c: Call(f"/api/decks/{owners_deck(c).pk}", {"title": "Tuesday's talk"}),
        "401 login_required | 403 not_owner | 200 | 200 | 200",
    ),
    Row(
        "DELETE",
        "/api/decks/{id}",
        lambda c: Call(f"/api/decks/{owners_deck(c).pk}"),
        "401 login_required | 403 not_owner | 204 | 204 | 204",
    ),
    Row(
        "POST",
        "/api/decks/{id}/move",
        lambda c: Call(f"/api/decks/{owners_deck(c).pk}/move", {"position": 1}),
        "401 login_required | 403 not_owner | 200 | 200 | 200",
    ),
    # --- webhooks: an endpoint is its owner's alone (anyone else, moderators too, finds none) ------------------
    Row("GET", "/api/webhooks", lambda c: Call("/api/webhooks"), "401 login_required | 200 | 200 | 200 | 200"),
    Row("POST", "/api/webhooks", lambda c: Call("/api/webhooks", WEBHOOK_BODY), "401 login_required | 201 | 201 | 201 | 201"),
    Row(
        "GET",
        "/api/webhooks/{id}",
        lambda c: Call(f"/api/webhooks/{owners_endpoint(c)}"),
        "401 login_required | 404 not_found | 200 | 404 not_found | 404 not_found",
    ),
    Row(
        "PUT",
        "/api/webhooks/{id}",
        lambda c: Call(f"/api/webhooks/{owners_endpoint(c)}", {**WEBHOOK_BODY, "events": ["poll.created"]}),
        "401 login_required | 404 not_found | 200 | 404 not_found | 404 not_found",
    ),
    Row(
        "PATCH",
        "/api/webhooks/{id}",
        lambda c: Call(f"/api/webhooks/{owners_endpoint(c)}", {"is_active": False}),
        "401 login_required | 404 not_found | 200 | 404 not_found | 404 not_found",
    ),
    Row(
        "DELETE",
        "/api/webhooks/{id}",
        lambda c: Call(f"/api/webhooks/{owners_endpoint(c)}"),
        "401 login_required | 404 not_found | 204 | 404 not_found | 404 not_found",
    ),
    Row(
        "GET",
        "/api/webhooks/{id}/deliveries",
        lambda c: Call(f"/api/webhooks/{owners_endpoint(c)}/deliveries"),
        "401 login_required | 404 not_found | 200 | 404 not_found | 404 not_found",
    ),
    Row(
        "POST",
        "/api/webhooks/{id}/test",
        lambda c: Call(f"/api/webhooks/{owners_endpoint(c)}/test"),
        "401 login_required | 404 not_found | 202 | 404 not_found | 404 not_found",
    ),
    Row(
        "POST",
        "/api/webhooks/{id}/rotate-secret",
        lambda c: Call(f"/api/webhooks/{owners_endpoint(c)}/rotate-secret"),
        "401 login_required | 404 not_found | 200 | 404 not_found | 404 not_found",
    ),
    Row(
        "GET",
        "/api/webhooks/deliveries/{id}",
        lambda c: Call(f"/api/webhooks/deliveries/{owners_delivery(c)}"),
        "401 login_required | 404 not_found | 200 | 404 not_found | 404 not_found",
    ),
    Row(
        "POST",
        "/api/webhooks/deliveries/{id}/redeliver",
        lambda c: Call(f"/api/webhooks/deliveries/{owners_delivery(c)}/redeliver"),
        "401 login_required | 404 not_found | 202 | 404 not_found | 404 not_found",
    ),
    # --- votes ------------------------------------------------------------------------------------------
    Row(
        "POST",
        "/api/votes",
        lambda c: Call("/api/votes", vote_body(poll_of(c.owner))),
        "201 | 201 | 201 | 201 | 201",
    ),
    Row(
        "POST",
        "/api/votes",
        lambda c: Call("/api/votes", vote_body(poll_of(c.owner, bot_protection="always"))),
        "428 challenge_required | 201 | 201 | 201 | 201",
        variant="bot protection always, no challenge",
    ),
    Row(
        "POST",
        "/api/votes",
        lambda c: Call("/api/votes", vote_body(poll_of(c.owner, allow_anonymous=False))),
        "401 login_required | 201 | 201 | 201 | 201",
        variant="members only",
    ),
    Row(
        "POST",
        "/api/votes",
        lambda c: Call("/api/votes", vote_body(closed(poll_of(c.owner)))),
        "403 poll_closed | 403 poll_closed | 403 poll_closed | 403 poll_closed | 403 poll_closed",
        variant="closed",
    ),
    Row(
        "POST",
        "/api/votes",
        lambda c: Call("/api/votes", vote_body(poll_of(c.owner, invite_only=True))),
        "403 invite_required | 403 invite_required | 403 invite_required | 403 invite_required | 403 invite_required",
        variant="invite-only, no invite",
    ),
    Row(
        "POST",
        "/api/votes",
        lambda c: Call("/api/votes", invited_vote_body(poll_of(c.owner, invite_only=True))),
        "201 | 201 | 201 | 201 | 201",
        variant="invite-only, with an invite",
    ),
    Row(
        "POST",
        "/api/votes",
        lambda c: Call("/api/votes", vote_body(poll_of(c.owner, is_secret=True))),
        "201 | 201 | 201 | 201 | 201",
        variant="secret",
    ),
    Row(
        "DELETE",
        "/api/votes/poll/{poll_id}",
        lambda c: Call(f"/api/votes/poll/{voted(poll_of(c.third), c.owner).poll_id}"),
        "404 not_found | 404 not_found | 204 | 404 not_found | 404 not_found",
    ),
    Row(
        "DELETE",
        "/api/votes/poll/{poll_id}",
        lambda c: Call(f"/api/votes/poll/{secret_ballot_of_the_owner(c)}"),
        "409 secret_ballot_final | 409 secret_ballot_final | 409 secret_ballot_final | 409 secret_ballot_final | 409 secret_ballot_final",
        variant="secret: final",
    ),
    Row(
        "PUT",
        "/api/votes/poll/{poll_id}",
        lambda c: owners_ballot_change(poll_of(c.third), c),
        "404 not_found | 404 not_found | 200 | 404 not_found | 404 not_found",
    ),
    Row(
        "PUT",
        "/api/votes/poll/{poll_id}",
        lambda c: owners_ballot_change(poll_of(c.third, is_secret=True), c),
        "409 secret_ballot_final | 409 secret_ballot_final | 409 secret_ballot_final | 409 secret_ballot_final | 409 secret_ballot_final",
        variant="secret: final",
    ),
    Row(
        "GET",
        "/api/votes/poll/{poll_id}",
        lambda c: Call(f"/api/votes/poll/{voted(poll_of(c.owner), c.third).poll_id}"),
        "401 login_required | 403 not_owner | 200 | 200 | 200",
    ),
    Row(
        "GET",
        "/api/votes/poll/{poll_id}/stats",
        lambda c: Call(f"/api/votes/poll/{owners_poll(c)}/stats"),
        "200 | 200 | 200 | 200 | 200",
    ),
    Row(
        "GET",
        "/api/votes/poll/{poll_id}/stats",
        lambda c: Call(f"/api/votes/poll/{owners_poll(c, results_visibility='owner_only')}/stats"),
        "403 results_hidden | 403 results_hidden | 200 | 200 | 200",
        variant="results for the author only",
    ),
    Row(
        "GET",
        "/api/votes/user/{user_id}",
        lambda c: Call(f"/api/votes/user/{owner_who_voted(c)}"),
        "401 login_required | 403 not_owner | 200 | 200 | 200",
    ),
    Row(
        "GET",
        "/api/votes/{id}",
        lambda c: Call(f"/api/votes/{owners_vote(c)}"),
        "403 not_owner | 403 not_owner | 200 | 200 | 200",
    ),
    Row(
        "DELETE",
        "/api/votes/{id}",
        lambda c: Call(f"/api/votes/{owners_vote(c)}"),
        "403 not_owner | 403 not_owner | 204 | 204 | 204",
    ),
    Row(
        "DELETE",
        "/api/votes/{id}",
        lambda c: Call(f"/api/votes/{owners_vote_on_a_closed_poll(c)}"),
        "403 not_owner | 403 not_owner | 403 poll_closed | 204 | 204",
        variant="closed poll: moderators only",
    ),
    # --- likes ------------------------------------------------------------------------------------------
    Row(
        "POST",
        "/api/likes",
        lambda c: Call("/api/likes", {"poll_id": owners_poll(c)}),
        "201 | 201 | 201 | 201 | 201",
    ),
    Row(
        "POST",
        "/api/likes",
        lambda c: Call("/api/likes", {"poll_id": owners_poll(c, allow_anonymous=False)}),
        "401 login_required | 201 | 201 | 201 | 201",
        variant="members only",
    ),
    Row(
        "DELETE",
        "/api/likes/{id}",
        lambda c: Call(f"/api/likes/{liked(poll_of(c.third), c.owner).pk}"),
        "403 not_owner | 403 not_owner | 204 | 204 | 204",
    ),
    Row(
        "DELETE",
        "/api/likes/poll/{poll_id}",
        lambda c: Call(f"/api/likes/poll/{liked(poll_of(c.third), c.owner).poll_id}"),
        "404 not_found | 404 not_found | 204 | 404 not_found | 404 not_found",
    ),
    Row(
        "GET",
        "/api/likes/user/{user_id}",
        lambda c: Call(f"/api/likes/user/{owner_who_liked(c)}"),
        "401 login_required | 403 not_owner | 200 | 200 | 200",
    ),
    # --- notifications ----------------------------------------------------------------------------------
    Row(
        "GET",
        "/api/notifications",
        owners_unread_notifications,
        "401 login_required | 200 | 200 | 200 | 200",
    ),
    Row(
        "GET",
        "/api/notifications/{id}",
        lambda c: Call(f"/api/notifications/{notification_for(c.owner).pk}"),
        "401 login_required | 404 not_found | 200 | 404 not_found | 404 not_found",
    ),
    Row(
        "POST",
        "/api/notifications/{id}/read",
        lambda c: Call(f"/api/notifications/{notification_for(c.owner).pk}/read"),
        "401 login_required | 404 not_found | 200 | 404 not_found | 404 not_found",
    ),
    Row(
        "POST",
        "/api/notifications/read-all",
        lambda c: Call("/api/notifications/read-all"),
        "401 login_required | 200 | 200 | 200 | 200",
    ),
    # --- personal API keys: each owner's own, for moderators too (they revoke others' in the admin) ------
    Row("GET", "/api/keys", lambda c: Call("/api/keys"), "401 login_required | 200 | 200 | 200 | 200"),
    Row(
        "POST",
        "/api/keys",
        lambda c: Call("/api/keys", {"name": "Spreadsheet sync", "scopes": ["read"]}),
        "401 login_required | 201 | 201 | 201 | 201",
    ),
    Row(
        "GET",
        "/api/keys/{id}",
        lambda c: Call(f"/api/keys/{owners_api_key(c)}"),
        "401 login_required | 404 not_found | 200 | 404 not_found | 404 not_found",
    ),
    Row(
        "DELETE",
        "/api/keys/{id}",
        lambda c: Call(f"/api/keys/{owners_api_key(c)}"),
        "401 login_required | 404 not_found | 204 | 404 not_found | 404 not_found",
    ),
]

_METHOD = re.compile(r"GET|POST|PUT|PATCH|DELETE")


def shape(path: str) -> str:
    """/api/votes/poll/{id} and /api/votes/poll/{poll_id} are one path."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def readme_operations() -> set[tuple[str, str]]:
    """(method, path shape) of every row of the endpoint table in docs/api.md.

    "`GET`/`PATCH /api/users/me`" is two operations; "`GET /api/polls/trending`, `/popular`" means
    /api/polls/popular; a path without methods takes those of the path before it.
    """
    section = (settings.BASE_DIR / "docs" / "api.md").read_text().split("## Endpoints", 1)[1]
    table = section.strip().split("\n\n", 1)[0]  # the table ends at the first blank line
    operations = set()
    for line in table.splitlines()[2:]:  # after the header and its rule
        cell = re.split(r"(?<!\\)\|", line)[1]
        pending, methods, previous = [], [], None
        for chunk in re.findall(r"`([^`]+)`", cell):
            if _METHOD.fullmatch(chunk):
                pending.append(chunk)
                continue
            words = chunk.split()
            if _METHOD.fullmatch(words[0]):
                methods, pending, path = [*pending, words[0]], [], words[1]
            else:
                path = words[0]
            path = path.split("?")[0]
            if not path.startswith("/api/"):
                path = previous.rsplit("/", 1)[0] + path
            operations |= {(method, shape(path)) for method in methods}
            previous = path
    return operations


def schema_operations() -> set[tuple[str, str]]:
    response = bearer_client().get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    return {(method.upper(), shape(path)) for path, item in schema["paths"].items() for method in item if method != "parameters"}


def outcome(response) -> str:
    """"200", or for an error "403 not_owner", checking the API's one error shape on the way."""
    if response.status_code < 400:
        return str(response.status_code)
    if not response["Content-Type"].startswith("application/json"):
        return f"{response.status_code} (not JSON: {response['Content-Type']})"
    body = response.json()
    if not {"code", "detail"} <= set(body):
        return f"{response.status_code} (no error shape: {body})"
    return f"{response.status_code} {body['code']}"


def fingerprint() -> tuple:
    """What a refused request must leave as it was (views_count aside: reading a poll counts a view)."""
    return (
        sorted(Poll.objects.values_list("id", "title", "description", "is_active", "is_public", "total_votes", "likes_count")),
        sorted(User.objects.values_list("id", "username", "email", "display_name", "password", "is_active")),
        sorted(Notification.objects.values_list("id", "read_at")),
        sorted(Poll.objects.values_list("id", "presenting_since", "audience_results")),
        sorted(Answer.objects.values_list("id", "hidden")),
        sorted(Deck.objects.values_list("id", "title", "position")),
        Ballot.objects.count(),
        Vote.objects.count(),
        Like.objects.count(),
        Report.objects.count(),
        BlacklistedToken.objects.count(),
    )


def test_the_readme_table_is_read_whole():
    operations = readme_operations()

    assert {("GET", "/api/users/me"), ("PATCH", "/api/users/me"), ("GET", "/api/polls/popular")} <= operations
    assert {("PUT", "/api/polls/{}"), ("DELETE", "/api/polls/{}"), ("POST", "/api/polls/{}/deactivate")} <= operations
    assert {("GET", "/api/votes/{}"), ("DELETE", "/api/votes/{}"), ("DELETE", "/api/likes/poll/{}")} <= operations
    assert len(operations) == 99  # 61, the live room's 15, the API keys' 4, webhooks' 11, the two-factor login step, the account mails' 6 and oEmbed


def test_every_operation_answers_each_caller_exactly_as_the_table_says(
    request, owner, other_user, staff_user, moderator, third_user
):
    # Every operation of the schema and of docs/api.md's table has a row: a new endpoint without one fails here.
    covered = {(row.method, shape(row.path)) for row in ROWS}
    assert schema_operations() - covered == set(), "operations of the schema without a row in the matrix"
    assert readme_operations() - covered == set(), "operations of docs/api.md without a row in the matrix"
    assert covered - schema_operations() == set(), "rows for operations the schema does not have"

    cast = Cast(owner=owner, other=other_user, staff=staff_user, moderator=moderator, third=third_user)
    clients = {
        "anonymous": bearer_client(),
        "other": bearer_client(other_user),
        "owner": bearer_client(owner),
        "staff": bearer_client(staff_user),
        "moderator": bearer_client(moderator),
    }
    assert not staff_user.groups.exists() and moderator.groups.filter(name="moderators").exists()

    checked, wrong = 0, []
    for row in ROWS:
        for role, expected in row.outcomes().items():
            with transaction.atomic():
                call = row.setup(cast)
                before = fingerprint()
                send = getattr(clients[role], row.method.lower())
                response = send(call.url, call.body, format="json") if call.body is not None else send(call.url)
                got = outcome(response)
                if response.status_code >= 400 and fingerprint() != before:
                    got += " (and changed data)"
                transaction.set_rollback(True)  # this cell's objects and changes go; the next cell starts clean
            checked += 1
            if got != expected:
                wrong.append(f"{row.name:<60} {role:<10} expected {expected:<22} got {got}")

    summarise(request, f"matrix: {checked} authorization cells checked, {len(wrong)} wrong")
    assert not wrong, "\n" + "\n".join(wrong)
    assert checked == len(ROWS) * len(ROLES) >= len(schema_operations()) * len(ROLES)


# --- What the API's documentation leaves out --------------------------------------------------------------


def test_the_readme_table_lists_every_operation_of_the_schema():
    assert schema_operations() - readme_operations() == set()


def test_the_schema_answers_json_for_format_json():
    response = bearer_client().get("/api/schema?format=json")

    assert response.status_code == 200
    assert "json" in response["Content-Type"]
    assert json.loads(response.content)["paths"]


# --- Presenting overrides the results rule, and only while it lasts -------------------------------------------


def poll_body(client, poll: Poll) -> dict:
    response = client.get(f"/api/polls/{poll.pk}")
    assert response.status_code == 200
    return response.json()


def shows_counts(body: dict) -> bool:
    """Whether a poll body carries the results: the total and each option's votes."""
    with_votes = ["votes" in option for option in body["options"]]
    assert all(with_votes) == any(with_votes) == (body["total_votes"] is not None) == body["results_visible"], body
    return body["results_visible"]


@pytest.mark.parametrize(
    ("rule", "audience_results", "audience_sees"),
    [("always", "hidden", False), ("owner_only", "shown", True), ("after_close", "shown", True), ("after_vote", "hidden", False)],
)
def test_presenting_overrides_the_results_rule_for_the_audience_and_ending_restores_it(
    owner, other_user, moderator, rule, audience_results, audience_sees, django_capture_on_commit_callbacks, monkeypatch
):
    # Only the cached bodies' drop runs on commit here: a broadcast from the test's thread would close its connection.
    monkeypatch.setattr(events, "publish_presentation", lambda poll: None)
    monkeypatch.setattr(events, "publish_results_changed", lambda poll: None)
    poll = poll_of(owner, results_visibility=rule)
    services.cast_vote(poll=poll, voter=Voter(user=other_user), option_ids=pick(poll, "Red"))
    visitor, voter, author, mod = bearer_client(), bearer_client(other_user), bearer_client(owner), bearer_client(moderator)
    by_rule = {"always": True, "owner_only": False, "after_close": False, "after_vote": False}[rule]
    assert shows_counts(poll_body(visitor, poll)) is by_rule

    # The change drops the cached bodies visitors read when it commits, as a server's request would.
    with django_capture_on_commit_callbacks(execute=True):
        answer = author.post(
            f"/api/polls/{poll.pk}/presentation", {"presenting": True, "audience_results": audience_results}, format="json"
        )

    assert answer.status_code == 200
    assert answer.json()["results_visible_to_audience"] is audience_sees
    assert (answer.json()["presenting"], answer.json()["audience_results"]) == (True, audience_results)
    assert shows_counts(poll_body(visitor, poll)) is audience_sees
    # Whoever voted is audience too: the presenter's word beats "after voting".
    assert shows_counts(poll_body(voter, poll)) is audience_sees
    assert visitor.get(f"/api/polls/{poll.pk}/results").status_code == (200 if audience_sees else 403)
    # The author and moderators see the results whatever the audience is shown.
    assert shows_counts(poll_body(author, poll)) and shows_counts(poll_body(mod, poll))
    assert author.get(f"/api/polls/{poll.pk}/results").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        ended = author.post(f"/api/polls/{poll.pk}/presentation", {"presenting": False}, format="json")

    assert ended.status_code == 200
    assert (ended.json()["presenting"], ended.json()["audience_results"], ended.json()["presenting_since"]) == (False, "rule", None)
    assert shows_counts(poll_body(visitor, poll)) is by_rule
    assert shows_counts(poll_body(voter, poll)) is (by_rule or rule == "after_vote")
    assert visitor.get(f"/api/polls/{poll.pk}/results").status_code == (200 if by_rule else 403)
    refused = visitor.get(f"/api/polls/{poll.pk}/results")
    if not by_rule:
        assert refused.json()["code"] == "results_hidden"


def test_the_presentation_says_what_the_audience_sees(owner):
    poll = poll_of(owner, results_visibility="owner_only")
    author = bearer_client(owner)

    before = author.get(f"/api/polls/{poll.pk}/presentation").json()
    started = author.post(f"/api/polls/{poll.pk}/presentation", {"presenting": True}, format="json").json()
    shown = author.post(f"/api/polls/{poll.pk}/presentation", {"audience_results": "shown"}, format="json").json()

    assert before == {
        "presenting": False,
        "presenting_since": None,
        "audience_results": "rule",
        "results_visible_to_audience": False,
        "is_open": True,
        "join_code": poll.join_code,
    }
    assert (started["presenting"], started["audience_results"], started["results_visible_to_audience"]) == (True, "rule", False)
    assert started["presenting_since"] is not None
    assert (shown["presenting"], shown["audience_results"], shown["results_visible_to_audience"]) == (True, "shown", True)
    assert shown["presenting_since"] == started["presenting_since"]  # changing what is shown does not restart it
    bad = author.post(f"/api/polls/{poll.pk}/presentation", {"audience_results": "loud"}, format="json")
    assert bad.status_code == 400 and "audience_results" in bad.json()["fields"]
