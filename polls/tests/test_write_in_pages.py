"""Write-ins on the pages, without JavaScript: the poll page's "Suggest an option" form, the author's queue at
/p/<slug>/write-ins/ with its Accept and Reject buttons, and the manage panel's link to it."""

import pytest
from django.contrib.messages import get_messages

from polls import invites, services
from polls.models import MAX_OPTIONS, Option, WriteIn
from polls.tests.factories import PollFactory, pick, visitor
from polls.voters import Voter

pytestmark = pytest.mark.django_db

FORM = 'id="write-in-heading"'


@pytest.fixture
def poll(owner):
    return PollFactory(author=owner, title="Where do we eat?", options=["Pizza", "Sushi"], allow_write_ins=True)


@pytest.fixture
def owner_browser(client, owner):
    client.force_login(owner)
    return client


def page(client, poll) -> str:
    return client.get(f"/p/{poll.slug}/").content.decode()


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def waiting(poll, text="Tacos") -> WriteIn:
    return services.suggest_option(poll=poll, voter=visitor(7), text=text)


# --- The poll page's form ------------------------------------------------------------------------------------


def test_a_visitor_suggests_from_the_poll_page_and_sees_it_waiting(client, poll):
    assert FORM in page(client, poll)

    response = client.post(f"/p/{poll.slug}/suggest/", {"text": "Tacos"})

    assert (response.status_code, response["Location"]) == (302, f"/p/{poll.slug}/")
    assert said(response) == ["Thank you: “Tacos” waits for the poll's author to add it."]
    assert WriteIn.objects.get().status == WriteIn.Status.PENDING
    html = page(client, poll)
    assert "Yours, waiting for the author: <span class=\"user-text\">“Tacos”</span>" in html


def test_without_approval_the_option_is_on_the_page_at_once_and_can_be_voted_for(client, owner):
    poll = PollFactory(author=owner, options=["Pizza", "Sushi"], allow_write_ins=True, write_ins_need_approval=False)

    response = client.post(f"/p/{poll.slug}/suggest/", {"text": "Tacos"})
    client.post(f"/p/{poll.slug}/vote/", {"option": pick(poll, "Tacos")})

    assert said(response) == ["“Tacos” is now an option of this poll."]
    assert Option.objects.get(poll=poll, text="Tacos").vote_count == 1


@pytest.mark.parametrize(
    "text, message",
    [
        ("  ", "Write the option you suggest."),
        ("x" * 101, "Options are at most 100 characters."),
        ("PIZZA", "This poll already has that option."),
    ],
)
def test_a_refused_suggestion_says_why_on_the_page(client, poll, text, message):
    response = client.post(f"/p/{poll.slug}/suggest/", {"text": text})

    assert response.status_code == 302
    assert said(response) == [message]
    assert not WriteIn.objects.exists()


def test_the_form_shows_only_where_the_visitor_may_suggest(client, owner):
    without = PollFactory(author=owner, options=["Pizza", "Sushi"])
    members = PollFactory(author=owner, options=["Pizza", "Sushi"], allow_write_ins=True, allow_anonymous=False)
    closed = PollFactory(author=owner, options=["Pizza", "Sushi"], allow_write_ins=True)
    services.set_poll_active(poll=closed, actor=owner, active=False)
    invited = PollFactory(author=owner, options=["Pizza", "Sushi"], allow_write_ins=True, invite_only=True)

    for poll in (without, members, closed, invited):
        assert FORM not in page(client, poll), poll

    [invite] = invites.create_invites(poll=invited, actor=owner, count=1)
    client.get(f"/i/{invite.token}")
    assert FORM in page(client, invited)


def test_a_voter_who_voted_may_still_suggest(client, poll):
    client.post(f"/p/{poll.slug}/vote/", {"option": pick(poll, "Pizza")})

    assert FORM in page(client, poll)


def test_a_closed_poll_refuses_a_suggestion_posted_anyway(client, poll, owner):
    services.set_poll_active(poll=poll, actor=owner, active=False)

    response = client.post(f"/p/{poll.slug}/suggest/", {"text": "Tacos"})

    assert said(response) == ["This poll is closed."]
    assert not WriteIn.objects.exists()


def test_suggesting_on_the_page_spends_the_voters_rate_budget(client, poll, settings):
    settings.RATE_LIMIT_ENABLED = True
    settings.RATELIMIT_ENABLE = True
    settings.RATE_LIMIT_VOTER_REQUESTS = 1
    settings.RATE_LIMIT_WINDOW = 24 * 3600
    client.post(f"/p/{poll.slug}/suggest/", {"text": "Tacos"})

    response = client.post(f"/p/{poll.slug}/suggest/", {"text": "Ramen"})

    assert said(response)[-1].startswith("That was a lot of clicks.")
    assert WriteIn.objects.count() == 1


def test_suggesting_takes_a_post(client, poll):
    assert client.get(f"/p/{poll.slug}/suggest/").status_code == 405


# --- The author's queue ------------------------------------------------------------------------------------


def test_the_manage_panel_links_to_the_queue_with_what_waits(owner_browser, poll):
    waiting(poll, "Tacos")
    waiting(poll, "Ramen")

    html = page(owner_browser, poll)

    assert f'href="/p/{poll.slug}/write-ins/">Suggestions (2 waiting)</a>' in html


def test_the_author_accepts_from_the_queue(owner_browser, poll, owner):
    write_in = waiting(poll, "Tacos")
    html = owner_browser.get(f"/p/{poll.slug}/write-ins/").content.decode()
    assert "Tacos" in html and 'value="accept"' in html

    response = owner_browser.post(f"/p/{poll.slug}/write-ins/{write_in.pk}/", {"decision": "accept"})

    assert (response.status_code, response["Location"]) == (302, f"/p/{poll.slug}/write-ins/")
    assert said(response) == ["“Tacos” is now an option of this poll."]
    write_in.refresh_from_db()
    assert (write_in.status, write_in.option.text, write_in.handled_by) == (WriteIn.Status.ACCEPTED, "Tacos", owner)
    assert "Nothing waiting" in owner_browser.get(f"/p/{poll.slug}/write-ins/").content.decode()


def test_the_author_rejects_from_the_queue(owner_browser, poll):
    write_in = waiting(poll, "Tacos")

    owner_browser.post(f"/p/{poll.slug}/write-ins/{write_in.pk}/", {"decision": "reject"})

    write_in.refresh_from_db()
    assert write_in.status == WriteIn.Status.REJECTED
    assert list(Option.objects.filter(poll=poll).values_list("text", flat=True)) == ["Pizza", "Sushi"]


def test_a_refused_acceptance_says_why(owner_browser, poll, owner):
    write_in = waiting(poll, "Tacos")
    services.update_poll(poll=poll, actor=owner, options=[f"Option {n}" for n in range(MAX_OPTIONS)])

    response = owner_browser.post(f"/p/{poll.slug}/write-ins/{write_in.pk}/", {"decision": "accept"})

    assert said(response) == [f"This poll has {MAX_OPTIONS} options already."]
    assert WriteIn.objects.get().status == WriteIn.Status.PENDING


def test_a_decision_must_be_named(owner_browser, poll):
    write_in = waiting(poll, "Tacos")

    response = owner_browser.post(f"/p/{poll.slug}/write-ins/{write_in.pk}/", {"decision": "maybe"})

    assert said(response) == ["Choose to accept or to reject the suggestion."]
    assert WriteIn.objects.get().status == WriteIn.Status.PENDING


def test_only_the_author_and_moderators_see_and_decide(client, poll, other_user, moderator):
    write_in = waiting(poll, "Tacos")
    queue, decide = f"/p/{poll.slug}/write-ins/", f"/p/{poll.slug}/write-ins/{write_in.pk}/"

    assert client.get(queue).status_code == 302  # to the login page
    assert client.post(decide, {"decision": "accept"}).status_code == 302
    client.force_login(other_user)
    assert client.get(queue).status_code == 403
    assert client.post(decide, {"decision": "accept"}).status_code == 403
    assert WriteIn.objects.get().status == WriteIn.Status.PENDING

    client.force_login(moderator)
    assert client.get(queue).status_code == 200
    client.post(decide, {"decision": "reject"})
    assert WriteIn.objects.get().status == WriteIn.Status.REJECTED


def test_a_suggestion_of_another_poll_is_not_found_here(owner_browser, poll, owner):
    elsewhere = PollFactory(author=owner, options=["Pizza", "Sushi"], allow_write_ins=True)
    write_in = waiting(elsewhere, "Tacos")

    response = owner_browser.post(f"/p/{poll.slug}/write-ins/{write_in.pk}/", {"decision": "accept"})

    assert response.status_code == 404


def test_the_queue_escapes_what_voters_wrote(owner_browser, poll):
    waiting(poll, "<script>alert(1)</script>")

    html = owner_browser.get(f"/p/{poll.slug}/write-ins/").content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_accounts_are_named_in_the_queue(owner_browser, poll, other_user):
    services.suggest_option(poll=poll, voter=Voter(user=other_user), text="Tacos")

    html = owner_browser.get(f"/p/{poll.slug}/write-ins/").content.decode()

    assert f"by {other_user.public_name}" in html
