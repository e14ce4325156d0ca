"""A poll's page: its option cards, changing a vote in one step, and what it offers whom (the live
indicator, likes, closing, reports, dates)."""

import re

import pytest
from django.test import Client

from polls import errors, public_bodies, services
from polls.models import Poll, Report
from polls.tests.factories import PollFactory, like_counts, pick, visitor, vote_counts
from polls.voters import Voter
from quickpoll.tests.pages import shown_messages, signed_in, text

pytestmark = pytest.mark.django_db


def page_of(poll: Poll, action: str = "") -> str:
    return f"/p/{poll.slug}/{action}"


def per_option(poll: Poll) -> list[int]:
    return list(poll.options.order_by("position").values_list("vote_count", flat=True))


def ticked(response) -> list[str]:
    """Option ids whose radio or checkbox is ticked on the page."""
    return re.findall(r'name="option" value="([^"]+)" id="[^"]+" checked', response.content.decode())


def vote(browser, poll, *texts, action="vote/"):
    return browser.post(page_of(poll, action), {"option": [str(pk) for pk in pick(poll, *texts)]}, follow=True)


# --- option cards ------------------------------------------------------------------------------


def test_each_option_is_one_card_labelling_its_input(poll):
    html = Client().get(page_of(poll)).content.decode()

    cards = re.findall(r'<label class="option-body" for="option-([^"]+)">\s*<input [^>]*id="option-\1"', html)
    assert cards == [str(pk) for pk in pick(poll, "Red", "Green", "Blue")]


def test_after_voting_the_same_cards_carry_the_results_and_the_voters_pick(poll):
    services.cast_vote(poll=poll, voter=visitor(2), option_ids=pick(poll, "Red"))
    browser = Client()

    html = vote(browser, poll, "Red").content.decode()

    (red,) = re.findall(r'<li class="option-card([^"]*)" data-option-id="%s">(.*?)</li>' % pick(poll, "Red")[0], html, re.S)
    classes, card = red
    assert classes == " is-leader is-mine"
    assert '<span class="option-mine">Your vote</span>' in card
    assert '<strong class="option-percent">100%</strong> <span class="option-count">2 votes</span>' in card
    assert '<progress class="option-bar" max="100" value="100.0" aria-hidden="true">' in card
    assert "<strong>2</strong> voters" in html and 'class="vote-form"' not in html


def test_a_multiple_choice_poll_counts_voters_apart_from_votes(multi_poll):
    services.cast_vote(poll=multi_poll, voter=visitor(1), option_ids=pick(multi_poll, "Red", "Green"))
    services.cast_vote(poll=multi_poll, voter=visitor(2), option_ids=pick(multi_poll, "Red"))

    assert "<strong>2</strong> voters · 3 votes" in text(Client().get(page_of(multi_poll)))


# --- changing a vote: one step, never lost ------------------------------------------------------


def test_change_my_vote_is_a_link_that_takes_nothing_back(poll):
    browser = Client()
    vote(browser, poll, "Green")

    page = browser.get(page_of(poll)).content.decode()
    opened = browser.get(page_of(poll) + "?change=1")
    left = browser.get(page_of(poll))  # the voter walks away without saving

    assert '<a href="?change=1#vote">Change my vote</a>' in page
    assert f'action="/p/{poll.slug}/retract/"' not in page
    assert ticked(opened) == [str(pick(poll, "Green")[0])]
    assert f'action="/p/{poll.slug}/change/"' in opened.content.decode()
    assert per_option(poll) == [0, 1, 0] and "Change my vote" in text(left)


def test_changing_a_vote_replaces_the_ballot_in_one_post(poll):
    browser = Client()
    vote(browser, poll, "Green")

    response = vote(browser, poll, "Blue", action="change/")

    assert shown_messages(response) == [("success", "Your vote is changed.")]
    assert per_option(poll) == [0, 0, 1] and vote_counts(poll) == (1, 1, 1)
    assert re.search(r'class="option-card is-leader is-mine" data-option-id="%s"' % pick(poll, "Blue")[0], text(response))


def test_a_refused_change_keeps_the_old_vote_and_the_new_ticks(multi_poll):
    browser = Client()
    vote(browser, multi_poll, "Red")

    response = vote(browser, multi_poll, "Red", "Green", "Blue", action="change/")

    assert response.status_code == 400 and "Pick at most 2 options." in text(response)
    assert per_option(multi_poll) == [1, 0, 0]
    assert ticked(response) == [str(pk) for pk in pick(multi_poll, "Red", "Green", "Blue")]


def test_change_vote_service_rolls_back_when_the_new_ballot_is_refused(multi_poll):
    voter = visitor(1)
    services.cast_vote(poll=multi_poll, voter=voter, option_ids=pick(multi_poll, "Green"))

    with pytest.raises(errors.TooManyOptions):
        services.change_vote(poll=multi_poll, voter=voter, option_ids=pick(multi_poll, "Red", "Green", "Blue"))
    with pytest.raises(errors.InvalidOption):
        services.change_vote(poll=multi_poll, voter=voter, option_ids=[])

    assert per_option(multi_poll) == [0, 1, 0]


def test_change_vote_service_needs_a_ballot_to_change(poll):
    with pytest.raises(errors.NotVoted):
        services.change_vote(poll=poll, voter=None, option_ids=pick(poll, "Red"))
    with pytest.raises(errors.NotVoted):
        services.change_vote(poll=poll, voter=visitor(1), option_ids=pick(poll, "Red"))
    assert vote_counts(poll) == (0, 0, 0)


def test_a_secret_ballot_cannot_be_changed(owner):
    secret = PollFactory(author=owner, title="Chair", is_secret=True)
    voter = visitor(1)
    services.cast_vote(poll=secret, voter=voter, option_ids=pick(secret, "Red"))

    with pytest.raises(errors.SecretBallotFinal):
        services.change_vote(poll=secret, voter=voter, option_ids=pick(secret, "Blue"))


def test_a_secret_poll_page_offers_no_change(owner):
    secret = PollFactory(author=owner, title="Chair", is_secret=True)
    browser = Client()
    vote(browser, secret, "Red")

    opened = browser.get(page_of(secret) + "?change=1")

    assert "Change my vote" not in text(opened) and 'class="vote-form"' not in text(opened)
    assert "your vote is final" in text(opened)


# --- the live indicator -------------------------------------------------------------------------


def test_the_live_indicator_shows_only_beside_visible_results_of_an_open_poll(owner):
    visible = PollFactory(author=owner, title="Visible")
    hidden = PollFactory(author=owner, title="Hidden", results_visibility=Poll.ResultsVisibility.AFTER_CLOSE)
    closed = PollFactory(author=owner, title="Closed")
    Poll.objects.filter(pk=closed.pk).update(is_active=False)

    assert "data-live-status" in text(Client().get(page_of(visible)))
    assert "data-live-status" not in text(Client().get(page_of(hidden)))
    assert "data-live-status" not in text(Client().get(page_of(closed)))


# --- closing asks first ---------------------------------------------------------------------------


def test_closing_asks_for_confirmation_first_without_javascript(poll):
    browser = signed_in(poll.author)

    asked = browser.post(page_of(poll, "open/"))
    poll.refresh_from_db()
    assert asked.status_code == 200 and poll.is_active
    assert "Close this poll?" in text(asked) and '<input type="hidden" name="confirmed" value="1">' in text(asked)

    closed = browser.post(page_of(poll, "open/"), {"confirmed": "1"}, follow=True)
    poll.refresh_from_db()
    assert not poll.is_active
    assert shown_messages(closed) == [("success", "The poll is closed: voting has ended and its results are final.")]


def test_the_close_button_asks_with_javascript_too(poll):
    html = signed_in(poll.author).get(page_of(poll)).content.decode()

    assert re.search(r'<form method="post" action="/p/%s/open/" class="inline" data-confirm="Close this poll\?' % poll.slug, html)


# --- likes on a closed poll -----------------------------------------------------------------------


def test_a_closed_polls_like_button_is_disabled_and_a_like_refused(poll):
    Poll.objects.filter(pk=poll.pk).update(is_active=False)
    browser = Client()

    html = browser.get(page_of(poll)).content.decode()
    response = browser.post(page_of(poll, "like/"), follow=True)

    assert re.search(r'<button type="submit" class="secondary like-button" aria-pressed="false" disabled', html)
    assert shown_messages(response) == [("error", "This poll is closed.")]
    assert like_counts(poll) == (0, 0)


# --- reports --------------------------------------------------------------------------------------


def test_the_report_form_has_no_reason_picked_for_the_reporter(poll, other_user):
    html = signed_in(other_user).get(page_of(poll)).content.decode()
    form = re.search(r'<form method="post" action="/p/%s/report/".*?</form>' % poll.slug, html, re.S).group(0)

    radios = re.findall(r'<input type="radio" name="reason"[^>]*>', form)
    assert len(radios) == 4 and all("required" in radio and "checked" not in radio for radio in radios)
    assert "selected" not in form and 'name="note"' in form


def test_an_author_cannot_report_their_own_poll(poll, owner):
    browser = signed_in(owner)

    html = browser.get(page_of(poll)).content.decode()
    response = browser.post(page_of(poll, "report/"), {"reason": "spam"}, follow=True)

    assert "report/" not in html
    assert shown_messages(response) == [("error", errors.OwnPollReport.message)]
    assert not Report.objects.exists()


def test_the_api_refuses_an_authors_report_of_their_own_poll(poll, owner_client):
    response = owner_client.post(f"/api/polls/{poll.pk}/report", {"reason": "spam"}, format="json")

    assert response.status_code == 403 and response.json()["code"] == "own_poll"
    assert not Report.objects.exists()


# --- pick at most N, without JavaScript ---------------------------------------------------------


def test_too_many_picks_come_back_ticked_beside_the_reason(multi_poll):
    response = vote(Client(), multi_poll, "Red", "Green", "Blue")

    assert response.status_code == 400
    assert '<p class="notice error vote-error" id="vote-error" role="alert">Pick at most 2 options.</p>' in text(response)
    assert ticked(response) == [str(pk) for pk in pick(multi_poll, "Red", "Green", "Blue")]
    assert vote_counts(multi_poll) == (0, 0, 0)


# --- the author's chart -------------------------------------------------------------------------------


def test_the_chart_scale_rounds_up_to_a_readable_step(poll, owner):
    for number in range(1, 8):
        services.cast_vote(poll=poll, voter=visitor(number), option_ids=pick(poll, "Red"))

    html = signed_in(owner).get(page_of(poll)).content.decode()

    assert re.findall(r'text-anchor="end" dominant-baseline="middle">(\d+)</text>', html) == ["0", "2", "4", "6", "8"]


def test_a_secret_poll_has_no_chart(owner):
    secret = PollFactory(author=owner, title="Chair", is_secret=True)
    services.cast_vote(poll=secret, voter=Voter(user=None, anon_id="a" * 32), option_ids=pick(secret, "Red"))

    assert "chart-svg" not in text(signed_in(owner).get(page_of(secret)))


def test_the_qr_code_is_a_picture_loaded_when_asked_for_not_part_of_the_page(poll):
    page = text(Client().get(f"/p/{poll.slug}/"))
    assert f'<img src="/p/{poll.slug}/qr.svg"' in page and 'loading="lazy"' in page
    assert "qrline" not in page  # no inline QR drawing weighing on every visit

    picture = Client().get(f"/p/{poll.slug}/qr.svg")

    assert picture.status_code == 200 and picture["Content-Type"] == "image/svg+xml"
    assert picture.content.startswith(b'<svg xmlns="http://www.w3.org/2000/svg"') and b"<path" in picture.content
    assert Client().get("/p/no-such-poll/qr.svg").status_code == 404


# --- the page every visitor with nothing of their own gets ------------------------------------------

FORM_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def test_visitors_with_nothing_of_their_own_share_one_page_each_with_a_csrf_token_that_works(poll):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    pages = [browser.get(page_of(poll)).content.decode() for browser in (first, second)]
    tokens = [FORM_TOKEN.findall(page) for page in pages]

    assert all(tokens) and set(tokens[0]).isdisjoint(tokens[1])  # each visitor's own, in every form
    assert FORM_TOKEN.sub("", pages[0]) == FORM_TOKEN.sub("", pages[1])
    response = second.post(page_of(poll, "vote/"), {"option": pick(poll, "Red"), "csrfmiddlewaretoken": tokens[1][0]})
    assert response.status_code == 302
    assert vote_counts(poll) == (1, 1, 1)


VOTERS_SHOWN = re.compile(r"data-results-summary><strong>(\d+)</strong>")


def test_a_vote_drops_the_shared_page(poll):
    assert VOTERS_SHOWN.findall(Client().get(page_of(poll)).content.decode()) == ["0"]
    vote(Client(), poll, "Red")

    assert VOTERS_SHOWN.findall(Client().get(page_of(poll)).content.decode()) == ["1"]


def test_a_voter_never_gets_the_shared_page(poll):
    Client().get(page_of(poll))  # kept for visitors with nothing of their own
    voter = Client()
    vote(voter, poll, "Red")  # their anon cookie makes them someone

    assert "Your vote" in voter.get(page_of(poll)).content.decode()


def test_each_language_and_time_zone_gets_its_own_page(poll):
    english = Client().get(page_of(poll)).content.decode()

    german = Client(HTTP_ACCEPT_LANGUAGE="de").get(page_of(poll)).content.decode()

    assert '<html lang="en"' in english and '<html lang="de"' in german


def test_a_page_bringing_the_bot_challenge_is_never_shared(owner, monkeypatch):
    """Whether it brings the challenge depends on the visitor's address: such a page is their own."""
    kept = []
    monkeypatch.setattr(public_bodies, "keep_page", lambda *args: kept.append(args))
    poll = PollFactory(author=owner, bot_protection=Poll.BotProtection.ALWAYS)

    pages = [Client().get(page_of(poll)).content.decode() for _ in range(2)]

    assert all("data-altcha-challenge" in page for page in pages)
    assert kept == []
