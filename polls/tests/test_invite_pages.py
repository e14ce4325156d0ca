"""The invite pages, without JavaScript: /i/<token>, voting with the invite held, and /p/<slug>/invites."""

import pytest
from django.core import mail

from polls import invites
from polls.models import Ballot, Invite
from polls.tests.factories import PollFactory, pick

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_group(owner):
    return PollFactory(author=owner, title="Club vote", invite_only=True)


@pytest.fixture
def owner_browser(client, owner):
    client.force_login(owner)
    return client


def make(poll, count=1) -> list[Invite]:
    return invites.create_invites(poll=poll, actor=poll.author, count=count)


def page(poll, tail: str = "/") -> str:
    return f"/p/{poll.slug}/invites{tail}"


# --- The invited visitor --------------------------------------------------------------------------------


def test_without_an_invite_the_page_offers_no_ballot_and_says_why(client, closed_group):
    html = client.get(f"/p/{closed_group.slug}/").content.decode()
    assert "invite-only" in html
    assert "open the link from your invite" in html
    assert 'class="vote-form"' not in html


def test_opening_an_invite_link_lets_this_browser_vote_once(client, django_user_model, closed_group):
    [invite] = make(closed_group)
    response = client.get(f"/i/{invite.token}")
    assert response.status_code == 302
    assert response["Location"] == f"/p/{closed_group.slug}/"
    assert 'class="vote-form"' in client.get(response["Location"]).content.decode()

    client.post(f"/p/{closed_group.slug}/vote/", {"option": pick(closed_group, "Red")})
    assert Ballot.objects.get(poll=closed_group).invite == invite

    # Someone else opening the same link afterwards gets no ballot.
    stranger = client.__class__()
    stranger.get(f"/i/{invite.token}")
    html = stranger.get(f"/p/{closed_group.slug}/").content.decode()
    assert "already been used" in html
    stranger.post(f"/p/{closed_group.slug}/vote/", {"option": pick(closed_group, "Green")})
    assert Ballot.objects.filter(poll=closed_group).count() == 1


def test_the_holder_can_change_their_vote(client, closed_group):
    [invite] = make(closed_group)
    client.get(f"/i/{invite.token}")
    client.post(f"/p/{closed_group.slug}/vote/", {"option": pick(closed_group, "Red")})
    client.post(f"/p/{closed_group.slug}/retract/")
    client.post(f"/p/{closed_group.slug}/vote/", {"option": pick(closed_group, "Blue")})
    ballot = Ballot.objects.get(poll=closed_group)
    assert ballot.invite == invite
    assert [vote.option.text for vote in ballot.votes.all()] == ["Blue"]


def test_an_unknown_invite_link_is_404(client):
    response = client.get("/i/no-such-invite-token")
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


def test_a_revoked_invite_link_says_so(client, closed_group):
    [invite] = make(closed_group)
    invites.revoke_unused_invites(poll=closed_group, actor=closed_group.author)
    response = client.get(f"/i/{invite.token}", follow=True)
    assert "revoked" in response.content.decode()
    assert 'class="vote-form"' not in response.content.decode()


def test_guessing_invite_links_is_rate_limited(client, settings):
    settings.RATE_LIMIT_ENABLED = True
    settings.RATELIMIT_ENABLE = True
    settings.RATE_LIMIT_INVITE_REQUESTS = 3
    codes = [client.get(f"/i/guess-{number}").status_code for number in range(4)]
    assert codes == [404, 404, 404, 429]


# --- The managers' page --------------------------------------------------------------------------------


def test_the_manager_page_makes_invites_and_shows_counts(owner_browser, closed_group):
    response = owner_browser.post(page(closed_group), {"count": "3", "label": "Board"})
    assert response.status_code == 302
    assert Invite.objects.filter(poll=closed_group, label="Board").count() == 3
    html = owner_browser.get(page(closed_group)).content.decode()
    for invite in Invite.objects.all():
        assert f"http://testserver/i/{invite.token}" in html
    assert "<dd>3</dd>" in html


def test_the_manager_page_mails_a_list_of_addresses(owner_browser, closed_group, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        owner_browser.post(page(closed_group), {"emails": "ann@example.com\nbob@example.com, cy@example.com"})
    assert sorted(message.to[0] for message in mail.outbox) == ["ann@example.com", "bob@example.com", "cy@example.com"]


def test_a_bad_request_shows_its_error_beside_the_form(owner_browser, closed_group):
    response = owner_browser.post(page(closed_group), {"emails": "ann@example.com\nnonsense"})
    assert response.status_code == 400
    assert "Not e-mail addresses: nonsense" in response.content.decode()
    assert not Invite.objects.exists()


def test_revoking_one_and_all_unused(owner_browser, closed_group):
    first, second, third = make(closed_group, 3)
    owner_browser.post(page(closed_group, "/revoke/"), {"invite": str(first.pk)})
    first.refresh_from_db()
    assert first.revoked_at is not None
    asked = owner_browser.post(page(closed_group, "/revoke/"), {"unused": "1"})
    assert "Revoke the unused invites?" in asked.content.decode()
    assert Invite.objects.filter(revoked_at__isnull=True).count() == 2
    owner_browser.post(page(closed_group, "/revoke/"), {"unused": "1", "confirmed": "1"})
    assert Invite.objects.filter(revoked_at__isnull=True).count() == 0
    response = owner_browser.post(page(closed_group, "/revoke/"), {"invite": "not-an-id"}, follow=True)
    assert "Choose an invite" in response.content.decode()


def test_the_csv_download(owner_browser, closed_group):
    [invite] = make(closed_group)
    response = owner_browser.get(f"/p/{closed_group.slug}/invites.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert f"http://testserver/i/{invite.token}" in response.content.decode()


def test_the_printable_sheet_has_a_qr_code_per_usable_invite(owner_browser, closed_group):
    kept, revoked = make(closed_group, 2)
    invites.revoke_invites(poll=closed_group, actor=closed_group.author, invites=Invite.objects.filter(pk=revoked.pk))
    html = owner_browser.get(page(closed_group, "/print/")).content.decode()
    assert html.split('<ol class="invite-sheet">')[1].split("</ol>")[0].count("<svg") == 1  # the frame has icons too
    assert kept.token in html
    assert revoked.token not in html
    assert "QR code of an invite link" in html


@pytest.mark.parametrize("tail", ["/", "/print/"])
def test_other_users_are_refused_and_anonymous_visitors_sent_to_log_in(client, other_user, closed_group, tail):
    assert client.get(page(closed_group, tail)).status_code == 302
    client.force_login(other_user)
    assert client.get(page(closed_group, tail)).status_code == 403
    assert client.post(page(closed_group, "/revoke/"), {"unused": "1"}).status_code == 403
    assert client.get(f"/p/{closed_group.slug}/invites.csv").status_code == 403
    assert client.post(page(closed_group), {"count": "2"}).status_code == 403
    assert not Invite.objects.exists()


def test_wrong_methods_and_missing_polls(owner_browser, closed_group):
    assert owner_browser.get(page(closed_group, "/revoke/")).status_code == 405
    assert owner_browser.post(page(closed_group, "/print/")).status_code == 405
    assert owner_browser.get("/p/no-such-poll/invites/").status_code == 404


def test_the_poll_form_sets_invite_only(owner_browser, owner):
    poll = PollFactory(author=owner)
    form = {
        "title": poll.title,
        "options": ["Red", "Green", "Blue"],
        "results_visibility": "always",
        "is_public": "on",
        "allow_anonymous": "on",
        "invite_only": "on",
    }
    assert owner_browser.post(f"/p/{poll.slug}/edit/", form).status_code == 302
    poll.refresh_from_db()
    assert poll.invite_only
