"""Invite-only polls: the invites (polls.invites), the rule that admits a ballot with one
(polls.permissions.require_can_take_part), and the API and pages that make, revoke and redeem them."""

import csv
import io

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from polls import errors, invites, services
from polls.models import Ballot, Invite
from polls.permissions import can_vote
from polls.tests.factories import PollFactory, pick, visitor, vote_counts
from polls.voters import Voter

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_group(owner):
    return PollFactory(author=owner, title="Club vote", invite_only=True)


def make(poll, count=1, **kwargs) -> list[Invite]:
    return invites.create_invites(poll=poll, actor=poll.author, count=count, **kwargs)


def vote(poll, voter, text="Red"):
    return services.cast_vote(poll=poll, voter=voter, option_ids=pick(poll, text))


# --- The database: one invite, one ballot ------------------------------------------------------------


def test_the_database_refuses_a_second_ballot_on_one_invite(closed_group):
    [invite] = make(closed_group)
    Ballot.objects.create(poll=closed_group, anon_id="first-voter-000001", invite=invite)
    with pytest.raises(IntegrityError), transaction.atomic():
        Ballot.objects.create(poll=closed_group, anon_id="second-voter-00001", invite=invite)


def test_tokens_are_long_random_and_unique(closed_group):
    made = make(closed_group, 50)
    tokens = {invite.token for invite in made}
    assert len(tokens) == 50
    assert all(len(token) >= 22 and token.replace("-", "").replace("_", "").isalnum() for token in tokens)


# --- Voting with an invite -------------------------------------------------------------------------


def test_an_invite_only_poll_refuses_a_ballot_without_an_invite(closed_group, other_user):
    with pytest.raises(errors.InviteRequired):
        vote(closed_group, Voter(user=other_user))
    with pytest.raises(errors.InviteRequired):
        vote(closed_group, visitor(1))
    assert vote_counts(closed_group) == (0, 0, 0)


def test_an_invite_admits_one_ballot_and_is_then_used(closed_group, other_user):
    [invite] = make(closed_group)
    cast = vote(closed_group, Voter(user=other_user, invite=invite.token))
    assert cast.ballot.invite == invite
    with pytest.raises(errors.InviteUsed):
        vote(closed_group, Voter(anon_id="another-visitor-01", invite=invite.token))
    assert vote_counts(closed_group) == (1, 1, 1)
    assert invites.invite_counts(closed_group) == invites.InviteCounts(total=1, used=1, revoked=0, unused=0)


def test_the_same_voter_voting_again_with_their_invite_is_already_voted(closed_group):
    [invite] = make(closed_group)
    voter = Voter(anon_id="invited-visitor-01", invite=invite.token)
    vote(closed_group, voter)
    with pytest.raises(errors.AlreadyVoted):
        vote(closed_group, voter, "Green")


def test_a_wrong_token_or_another_polls_invite_is_invalid(closed_group, owner):
    elsewhere = PollFactory(author=owner, invite_only=True)
    [foreign] = make(elsewhere)
    for token in ["not-a-token-at-all", foreign.token, "x" * 500]:
        with pytest.raises(errors.InviteInvalid):
            vote(closed_group, Voter(anon_id="invited-visitor-01", invite=token))


def test_a_revoked_invite_admits_no_ballot(closed_group):
    [invite] = make(closed_group)
    invites.revoke_invites(poll=closed_group, actor=closed_group.author, invites=Invite.objects.filter(pk=invite.pk))
    with pytest.raises(errors.InviteRevoked):
        vote(closed_group, Voter(anon_id="invited-visitor-01", invite=invite.token))


def test_revoking_a_used_invite_keeps_its_ballot_counted_and_its_voter_may_take_it_back(closed_group):
    [invite] = make(closed_group)
    voter = Voter(anon_id="invited-visitor-01", invite=invite.token)
    vote(closed_group, voter)
    invites.revoke_invites(poll=closed_group, actor=closed_group.author, invites=Invite.objects.all())
    assert vote_counts(closed_group) == (1, 1, 1)
    services.retract_ballot(poll=closed_group, voter=voter)
    with pytest.raises(errors.InviteRevoked):
        vote(closed_group, voter)


def test_taking_a_ballot_back_frees_the_invite_for_its_holder_to_vote_again(closed_group):
    [invite] = make(closed_group)
    voter = Voter(anon_id="invited-visitor-01", invite=invite.token)
    vote(closed_group, voter)
    services.retract_ballot(poll=closed_group, voter=voter)
    vote(closed_group, voter, "Blue")
    assert Ballot.objects.get(poll=closed_group).invite == invite
    assert vote_counts(closed_group) == (1, 1, 1)


def test_liking_an_invite_only_poll_needs_the_invite_too(closed_group):
    [invite] = make(closed_group)
    with pytest.raises(errors.InviteRequired):
        services.like_poll(poll=closed_group, voter=visitor(1))
    voter = Voter(anon_id="invited-visitor-01", invite=invite.token)
    vote(closed_group, voter)
    services.like_poll(poll=closed_group, voter=voter)  # its own voter keeps the used invite


def test_invited_ballots_are_exempt_from_the_per_address_cap(closed_group, settings):
    settings.ANONYMOUS_BALLOTS_PER_IP = 2
    made = make(closed_group, 5)
    for number, invite in enumerate(made):
        voter = Voter(anon_id=f"room-voter-{number:08d}", ip_address="203.0.113.9", invite=invite.token)
        vote(closed_group, voter)
    assert vote_counts(closed_group) == (5, 5, 5)


def test_an_open_poll_ignores_invites(poll):
    vote(poll, Voter(anon_id="plain-visitor-0001", invite="whatever-token"))
    assert Ballot.objects.get(poll=poll).invite is None


# --- Making and revoking ---------------------------------------------------------------------------


def test_only_managers_make_or_revoke_invites(closed_group, other_user, staff_user):
    with pytest.raises(errors.NotOwner):
        invites.create_invites(poll=closed_group, actor=other_user, count=1)
    with pytest.raises(errors.NotOwner):
        invites.revoke_unused_invites(poll=closed_group, actor=other_user)
    assert len(invites.create_invites(poll=closed_group, actor=staff_user, count=2)) == 2


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"count": 0}, "count"),
        ({"count": 501}, "count"),
        ({"emails": ["ann@example.com", "not an address"]}, "emails"),
        ({"count": 1, "label": "x" * 101}, "label"),
    ],
)
def test_bad_requests_for_invites_say_which_field(closed_group, kwargs, field):
    with pytest.raises(errors.InvalidInvites) as refused:
        invites.create_invites(poll=closed_group, actor=closed_group.author, **kwargs)
    assert field in refused.value.fields
    assert not Invite.objects.exists()


def test_a_poll_has_at_most_its_cap_of_invites(closed_group, settings):
    settings.INVITES_PER_POLL = 5
    make(closed_group, 4)
    with pytest.raises(errors.InvalidInvites) as refused:
        make(closed_group, 2)
    assert "1 more" in refused.value.fields["count"][0]
    make(closed_group, 1)
    assert Invite.objects.count() == 5


def test_addresses_get_one_invite_each_and_a_mail_with_their_link(closed_group, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        made = invites.create_invites(
            poll=closed_group,
            actor=closed_group.author,
            emails=["ann@example.com", " bob@example.com", "ANN@example.com", ""],
            link_for=lambda invite: f"https://polls.example/i/{invite.token}",
        )
    assert [invite.email for invite in made] == ["ann@example.com", "bob@example.com"]
    assert sorted(message.to[0] for message in mail.outbox) == ["ann@example.com", "bob@example.com"]
    by_address = {invite.email: invite for invite in made}
    for message in mail.outbox:
        assert f"https://polls.example/i/{by_address[message.to[0]].token}" in message.body
        assert "Club vote" in message.subject


def test_revoke_unused_leaves_used_invites_alone(closed_group):
    made = make(closed_group, 3)
    vote(closed_group, Voter(anon_id="invited-visitor-01", invite=made[0].token))
    assert invites.revoke_unused_invites(poll=closed_group, actor=closed_group.author) == 2
    assert invites.revoke_unused_invites(poll=closed_group, actor=closed_group.author) == 0
    assert invites.invite_counts(closed_group) == invites.InviteCounts(total=3, used=1, revoked=2, unused=0)


def test_revoking_touches_only_this_polls_invites(closed_group, owner):
    other_poll = PollFactory(author=owner, invite_only=True)
    [foreign] = make(other_poll)
    assert invites.revoke_invites(poll=closed_group, actor=owner, invites=Invite.objects.filter(pk=foreign.pk)) == 0
    foreign.refresh_from_db()
    assert foreign.revoked_at is None


def test_the_csv_neutralises_formulas(closed_group):
    make(closed_group, 1, label="=HYPERLINK(\"http://evil\")")
    rows = list(csv.reader(io.StringIO(invites.invites_csv(closed_group, link_for=lambda i: "L", show_use=True))))
    assert rows[0] == ["link", "email", "label", "status", "created_at"]
    assert rows[1][2].startswith("'=")


def test_invite_only_is_editable_by_its_managers(poll, owner):
    services.update_poll(poll=poll, actor=owner, invite_only=True)
    poll.refresh_from_db()
    assert poll.invite_only
    with pytest.raises(errors.InviteRequired):
        vote(poll, visitor(1))


def test_an_invite_only_poll_is_offered_only_to_holders_of_a_usable_invite(closed_group):
    [invite] = make(closed_group)
    assert not can_vote(None, closed_group, has_voted=False)
    assert can_vote(None, closed_group, has_voted=False, invite=invite.token)
    assert not can_vote(None, closed_group, has_voted=False, invite="wrong")
    vote(closed_group, Voter(anon_id="invited-visitor-01", invite=invite.token))
    assert not can_vote(None, closed_group, has_voted=False, invite=invite.token)


def test_where_use_is_hidden_no_list_tells_used_from_unused(closed_group, monkeypatch):
    """What a poll that keeps its voters secret gets: counts, never which invite was used."""
    monkeypatch.setattr(invites, "can_see_which_invites_were_used", lambda user, poll: False)
    used, unused = make(closed_group, 2)
    vote(closed_group, Voter(anon_id="invited-visitor-01", invite=used.token))

    def listed():
        return {invite.pk: invites.status_of(invite, show_use=False) for invite in invites.invites_of(closed_group)}

    assert listed() == {used.pk: "unused", unused.pk: "unused"}
    assert invites.revoke_unused_invites(poll=closed_group, actor=closed_group.author) == 2
    assert listed() == {used.pk: "revoked", unused.pk: "revoked"}
    assert invites.invite_counts(closed_group).used == 1
