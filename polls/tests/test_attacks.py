"""Attacks on holds, voided ballots, invites and secret ballots that once got through, each pinned here."""

from datetime import timedelta

import pytest
from django.utils import timezone

from polls import errors, services
from polls.models import Invite, Poll
from polls.tests.factories import PollFactory, pick
from polls.voters import Voter

pytestmark = pytest.mark.django_db


# --- Secret ballots: closing and reopening between ballots -------------------------------------------


@pytest.fixture
def secret_poll(owner):
    return PollFactory(author=owner, title="Who should chair?", is_secret=True)


def test_a_secret_poll_closed_with_ballots_does_not_reopen(secret_poll, owner, other_user):
    """The attack: the author closed the poll after each ballot to read the counts, then reopened it,
    so every ballot's choice showed as the difference between two readings."""
    services.cast_vote(poll=secret_poll, voter=Voter(user=other_user), option_ids=pick(secret_poll, "Red"))
    services.set_poll_active(poll=secret_poll, actor=owner, active=False)

    with pytest.raises(errors.SecretPollFinal) as refused:
        services.set_poll_active(poll=secret_poll, actor=owner, active=True)
    assert refused.value.code == "secret_poll_closed"
    secret_poll.refresh_from_db()
    assert not secret_poll.is_open


def test_an_expired_secret_poll_with_ballots_is_not_reopened_by_a_later_closing_time(secret_poll, owner, other_user):
    services.cast_vote(poll=secret_poll, voter=Voter(user=other_user), option_ids=pick(secret_poll, "Red"))
    Poll.objects.filter(pk=secret_poll.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    secret_poll.refresh_from_db()

    with pytest.raises(errors.SecretPollFinal):
        services.update_poll(poll=secret_poll, actor=owner, expires_at=timezone.now() + timedelta(days=1))
    secret_poll.refresh_from_db()
    assert not secret_poll.is_open


def test_a_secret_poll_without_ballots_and_an_ordinary_poll_reopen(secret_poll, poll, owner, other_user):
    services.set_poll_active(poll=secret_poll, actor=owner, active=False)
    assert services.set_poll_active(poll=secret_poll, actor=owner, active=True).is_open
    services.cast_vote(poll=poll, voter=Voter(user=other_user), option_ids=pick(poll, "Red"))
    services.set_poll_active(poll=poll, actor=owner, active=False)
    assert services.set_poll_active(poll=poll, actor=owner, active=True).is_open


def test_reopening_a_closed_secret_poll_over_the_api_is_refused(secret_poll, owner_client, other_user):
    services.cast_vote(poll=secret_poll, voter=Voter(user=other_user), option_ids=pick(secret_poll, "Red"))
    assert owner_client.post(f"/api/polls/{secret_poll.pk}/deactivate").status_code == 200
    response = owner_client.post(f"/api/polls/{secret_poll.pk}/activate")
    assert response.status_code == 409 and response.json()["code"] == "secret_poll_closed"


# --- Voided ballots cast with invites ----------------------------------------------------------------


def test_voiding_a_ballot_cast_with_an_invite_does_not_free_the_invite(owner, moderator):
    """The attack: ballots voided by a moderator left their invites unused, so the same links took
    new ballots from fresh anonymous ids (which neither the voided list nor the address cap stops)."""
    poll = PollFactory(author=owner, invite_only=True)
    invite = Invite.objects.create(poll=poll, token="tok-voided-0001")
    voter = Voter(anon_id="visitor-1", ip_address="198.51.100.7", invite=invite.token)
    services.cast_vote(poll=poll, voter=voter, option_ids=pick(poll, "Red"))
    assert services.void_ballots(poll=poll, moderator=moderator, reason="Burst", network="198.51.100.0/24") == 1

    fresh = Voter(anon_id="visitor-fresh", ip_address="198.51.100.8", invite=invite.token)
    with pytest.raises(errors.InviteRevoked):
        services.cast_vote(poll=poll, voter=fresh, option_ids=pick(poll, "Red"))
    poll.refresh_from_db()
    assert poll.total_votes == 0


# --- The author's data download ----------------------------------------------------------------------


def test_the_authors_data_download_does_not_show_an_open_secret_polls_counts(secret_poll, owner_client, other_user):
    """The attack: the author downloaded their data after each ballot; the counts of their own open
    secret poll were in it, so each download told the latest voter's choice."""
    services.cast_vote(poll=secret_poll, voter=Voter(user=other_user), option_ids=pick(secret_poll, "Red"))

    exported = owner_client.get("/api/users/me/export").json()
    (mine,) = [poll for poll in exported["polls"] if poll["id"] == str(secret_poll.pk)]
    assert mine["total_votes"] is None
    assert [option["vote_count"] for option in mine["options"]] == [None, None, None]

    services.set_poll_active(poll=secret_poll, actor=secret_poll.author, active=False)
    exported = owner_client.get("/api/users/me/export").json()
    (mine,) = [poll for poll in exported["polls"] if poll["id"] == str(secret_poll.pk)]
    assert mine["total_votes"] == 1 and [option["vote_count"] for option in mine["options"]] == [1, 0, 0]


# --- The admin's option pages --------------------------------------------------------------------------


def test_the_admins_option_list_and_page_keep_an_open_secret_polls_counts_sealed(client, secret_poll, moderator):
    """The attack: the poll's change page said "sealed", but the admin's Options list and an option's
    page showed its vote count; watched beside the Ballots list, each new ballot told who chose what."""
    Poll.objects.filter(pk=secret_poll.pk).update(title="Sealed poll")
    for number in range(7):
        services.cast_vote(poll=secret_poll, voter=Voter(anon_id=f"visitor-{number}", ip_address="203.0.113.1"), option_ids=pick(secret_poll, "Red"))
    red = secret_poll.options.get(text="Red")
    client.force_login(moderator)

    listing = client.get("/admin/polls/option/", {"q": "Sealed poll"}).content.decode()
    page = client.get(f"/admin/polls/option/{red.pk}/change/").content.decode()
    for html in (listing, page):
        assert "sealed until the poll closes" in html
        assert ">7<" not in html

    services.set_poll_active(poll=secret_poll, actor=secret_poll.author, active=False)
    assert ">7<" in client.get("/admin/polls/option/", {"q": "Sealed poll"}).content.decode()


# --- Invites of a secret poll ----------------------------------------------------------------------------


def test_the_printable_sheet_of_a_secret_poll_does_not_leave_out_the_used_invites(client, owner):
    """The attack: on a secret poll the invites list does not say which links were used, but the
    printable sheet printed only unused ones; the missing cards named who had voted."""
    poll = PollFactory(author=owner, invite_only=True, is_secret=True)
    used, unused = Invite.objects.create(poll=poll, token="tok-secret-used"), Invite.objects.create(poll=poll, token="tok-secret-unused")
    services.cast_vote(poll=poll, voter=Voter(anon_id="visitor-1", ip_address="203.0.113.1", invite=used.token), option_ids=pick(poll, "Red"))
    client.force_login(owner)

    html = client.get(f"/p/{poll.slug}/invites/print/").content.decode()

    assert used.token in html and unused.token in html


# --- Bot defence from an IPv6 network ---------------------------------------------------------------------


def test_an_ipv6_client_rotating_addresses_in_its_64_is_one_address_to_the_bot_defence(owner, settings):
    """The attack: an IPv6 host holds a whole /64; a fresh source address per ballot kept every address's
    count at one, so an adaptive poll never asked it for a challenge (the rate limits and the socket cap
    already count a /64 as one client)."""
    settings.BOT_DEFENCE_ADDRESS_THRESHOLD = 3
    settings.BOT_DEFENCE_POLL_THRESHOLD = 1000
    polls = [PollFactory(author=owner) for _ in range(4)]  # over several polls, so the per-poll cap is no matter
    for number, poll in enumerate(polls[:3]):
        services.cast_vote(poll=poll, voter=Voter(anon_id=f"visitor-{number}", ip_address=f"2001:db8:1:2::{number + 1}"), option_ids=pick(poll, "Red"))

    with pytest.raises(errors.ChallengeRequired):
        services.cast_vote(poll=polls[3], voter=Voter(anon_id="visitor-9", ip_address="2001:db8:1:2::99"), option_ids=pick(polls[3], "Red"))
    # Another /64 is another client.
    services.cast_vote(poll=polls[3], voter=Voter(anon_id="visitor-10", ip_address="2001:db8:1:3::1"), option_ids=pick(polls[3], "Red"))
