"""Open-text polls in the browser's pages, without JavaScript: the create form's "Open text" card (no options
sent), the answer box and its refusals shown on the page, "Your answers" with Take back, hiding a group
(managers only), and the word cloud with its ranked list, on the page and in live snapshots."""

import re

import pytest
from django.test import Client

from polls import answers
from polls.models import Answer, Poll
from polls.tests.factories import PollFactory, visitor
from polls.tests.test_pages import new_poll_data
from quickpoll.tests.pages import field_errors, shown_messages, signed_in, text
from realtime import events

pytestmark = pytest.mark.django_db


@pytest.fixture
def text_poll(owner):
    return PollFactory(author=owner, title="One word for today?", method="text", options=[], answer_max_length=20)


def answer_box(response) -> str:
    found = re.search(r'<form [^>]*class="answer-form[^"]*".*?</form>', text(response), re.S)
    return found.group(0) if found else ""


def cloud_words(response) -> list[tuple[str, str]]:
    """(weight, text) of each word in the cloud."""
    return [(weight, word.strip()) for weight, word in re.findall(r'class="cloud-word weight-(\d)">([^<]*)<', text(response))]


def ranked(response) -> list[tuple[str, str]]:
    """(text, count) of each row of the ranked list, top first."""
    return re.findall(
        r'<span class="answer-text">([^<]*)</span>\s*<span class="answer-count"><strong>(\d+)</strong>', text(response)
    )


def answer_as(client: Client, poll: Poll, words: str):
    return client.post(f"/p/{poll.slug}/answer/", {"answer": words})


# --- creating --------------------------------------------------------------------------------------


def test_the_form_offers_open_text_with_its_settings(owner):
    page = text(signed_in(owner).get("/polls/new/"))

    assert 'value="text"' in page and "Open text" in page
    for name in ("answer_max_length", "answers_per_voter", "filter_profanity"):
        assert f'name="{name}"' in page


def test_an_open_text_poll_is_created_without_the_blank_option_rows(owner):
    # The page always shows four option boxes; for an open-text poll none of them is sent as an option.
    data = new_poll_data(
        title="Describe the talk in a word", method="text", options=["", "", "", ""],
        answer_max_length="30", answers_per_voter="3", filter_profanity="",
    )

    response = signed_in(owner).post("/polls/new/", data)

    assert response.status_code == 302, field_errors(response, "options")
    poll = Poll.objects.get()
    assert poll.takes_answers and not poll.options.exists()
    assert (poll.answer_max_length, poll.answers_per_voter, poll.filter_profanity) == (30, 3, False)


def test_options_typed_before_switching_to_open_text_are_left_out(owner):
    data = new_poll_data(title="Your word", method="text", options=["Soup", "Salad", "", ""])

    response = signed_in(owner).post("/polls/new/", data)

    assert response.status_code == 302
    assert not Poll.objects.get().options.exists()


def test_a_choice_poll_still_needs_its_options(owner):
    response = signed_in(owner).post("/polls/new/", new_poll_data(options=["Soup", "", "", ""]))

    assert response.status_code == 400
    assert field_errors(response, "options")
    assert not Poll.objects.exists()


def test_an_answer_length_out_of_range_is_shown_beside_its_box(owner):
    response = signed_in(owner).post("/polls/new/", new_poll_data(method="text", answer_max_length="500"))

    assert response.status_code == 400
    assert field_errors(response, "answer_max_length")
    assert not Poll.objects.exists()


# --- answering -------------------------------------------------------------------------------------


def test_the_poll_page_has_an_answer_box_limited_to_the_polls_length(text_poll):
    box = answer_box(Client().get(f"/p/{text_poll.slug}/"))

    assert f'action="/p/{text_poll.slug}/answer/"' in box
    assert re.search(r'<input id="answer-text" name="answer" type="text" value="" maxlength="20" required', box)
    assert 'data-answer-counter data-max="20"' in box and "Up to 20 characters" in box
    assert "vote-form" not in text(Client().get(f"/p/{text_poll.slug}/"))  # no ballot of options


def test_an_anonymous_voter_meets_the_same_proof_of_work_as_a_ballot(owner):
    poll = PollFactory(author=owner, method="text", options=[], bot_protection="always")

    box = answer_box(Client().get(f"/p/{poll.slug}/"))

    assert f'data-altcha-challenge="/api/polls/{poll.pk}/challenge"' in box


def test_an_answer_goes_in_and_shows_under_your_answers_with_take_back(text_poll):
    browser = Client()

    response = answer_as(browser, text_poll, "  Inspiring! ")

    assert response.status_code == 302 and response["Location"] == f"/p/{text_poll.slug}/"
    page = browser.get(response["Location"])
    assert ("success", "Your answer is in.") in shown_messages(page)
    given = Answer.objects.get()
    assert given.text == "Inspiring!"
    assert "Your answers" in text(page) and '<span class="my-answer-text">Inspiring!</span>' in text(page)
    assert f'action="/p/{text_poll.slug}/answers/{given.pk}/take-back/"' in text(page)
    assert answer_box(page) == ""  # one answer per voter: given
    assert ranked(page) == [("Inspiring!", "1")]


@pytest.mark.parametrize(
    ("words", "reason"),
    [
        ("x" * 21, "Answers to this poll are at most 20 characters."),
        ("Bollocks!", "This answer holds a word this poll does not allow."),
        ("   ", "Write an answer first."),
    ],
)
def test_a_refused_answer_comes_back_in_the_box_beside_its_reason(text_poll, words, reason):
    response = answer_as(Client(), text_poll, words)

    assert response.status_code == 400
    box = answer_box(response)
    assert f'<p class="notice error answer-error" id="answer-error" role="alert">{reason}</p>' in box
    assert f'value="{words}"' in box and 'aria-invalid="true"' in box
    assert not Answer.objects.exists()


def test_profanity_passes_where_the_author_switched_the_filter_off(owner):
    poll = PollFactory(author=owner, method="text", options=[], filter_profanity=False)

    assert answer_as(Client(), poll, "bollocks").status_code == 302
    assert Answer.objects.filter(poll=poll).count() == 1


def test_one_answer_too_many_is_refused_on_the_page(owner):
    poll = PollFactory(author=owner, method="text", options=[], answers_per_voter=2)
    browser = Client()
    answer_as(browser, poll, "Tea")
    page = browser.get(f"/p/{poll.slug}/")
    assert "1 of 2 answers left" in answer_box(page) and "Add another answer" in answer_box(page)
    answer_as(browser, poll, "Coffee")

    response = answer_as(browser, poll, "Water")  # a stale page, or a second tab

    assert response.status_code == 400
    assert answer_box(response) == ""  # none left to give
    refusal = '<p class="notice error answer-error" id="answer-error" role="alert">You have given the 2 answers this poll takes.</p>'
    assert refusal in text(response)
    assert Answer.objects.filter(poll=poll).count() == 2


def test_taking_an_answer_back_frees_the_box_again(text_poll):
    browser = Client()
    answer_as(browser, text_poll, "Calm")
    given = Answer.objects.get()

    response = browser.post(f"/p/{text_poll.slug}/answers/{given.pk}/take-back/")

    assert response.status_code == 302
    page = browser.get(response["Location"])
    assert ("success", "Your answer is taken back.") in shown_messages(page)
    assert not Answer.objects.exists()
    assert answer_box(page)


def test_someone_elses_answer_cannot_be_taken_back(text_poll):
    answer_as(Client(), text_poll, "Calm")
    given = Answer.objects.get()
    stranger = Client()

    response = stranger.post(f"/p/{text_poll.slug}/answers/{given.pk}/take-back/", follow=True)

    assert Answer.objects.filter(pk=given.pk).exists()
    assert any(level == "error" for level, _ in shown_messages(response))


# --- the word cloud ------------------------------------------------------------------------------


def test_no_answers_yet_is_said_plainly(text_poll):
    page = text(Client().get(f"/p/{text_poll.slug}/"))

    assert "No answers yet" in page
    assert "cloud-word" not in page


def test_the_page_shows_the_cloud_and_the_ranked_list_of_groups(text_poll):
    for number, words in enumerate(["Café", "Café", "cafe!", "Tea", "tea", "Water"], start=1):
        answers.submit_answer(poll=text_poll, voter=visitor(number), text=words)

    response = Client().get(f"/p/{text_poll.slug}/")

    assert ranked(response) == [("Café", "3"), ("Tea", "2"), ("Water", "1")]
    words = dict((word, weight) for weight, word in cloud_words(response))
    assert set(words) == {"Café", "Tea", "Water"}
    assert int(words["Café"]) > int(words["Water"])
    # The biggest word sits in the middle of the cloud, the others either side.
    assert [word for _, word in cloud_words(response)] == ["Tea", "Café", "Water"]
    assert "<strong>6</strong> answers from 6 people" in text(response)
    assert 'style="' not in re.search(r'<div class="answers".*?</div>\s*</div>', text(response), re.S).group(0)


def test_a_hundred_groups_show_ten_and_fold_the_rest(text_poll):
    for number in range(1, 31):
        answers.submit_answer(poll=text_poll, voter=visitor(number, ip_address=f"203.0.113.{number}"), text=f"word {number}")

    page = text(Client().get(f"/p/{text_poll.slug}/"))

    assert len(cloud_words(Client().get(f"/p/{text_poll.slug}/"))) == 30
    assert "<summary>All 30 different answers</summary>" in page
    assert '<ol class="answer-ranking" start="11"' in page


def test_the_live_snapshot_carries_the_cloud(text_poll):
    answers.submit_answer(poll=text_poll, voter=visitor(), text="Brilliant")

    html = events.results_message(text_poll.pk)["html"]

    assert 'class="cloud-word weight-' in html and ">Brilliant<" in html
    assert 'class="answer-hide' not in html  # the same snapshot for everyone: no manager's buttons


# --- hiding ----------------------------------------------------------------------------------------


def test_the_author_hides_a_group_and_shows_it_again(text_poll, owner):
    answers.submit_answer(poll=text_poll, voter=visitor(1), text="Rude thing")
    answers.submit_answer(poll=text_poll, voter=visitor(2), text="Nice")
    author = signed_in(owner)
    page = text(author.get(f"/p/{text_poll.slug}/"))
    assert f'action="/p/{text_poll.slug}/answers/hide/"' in page and 'aria-label="Hide “Rude thing”"' in page

    response = author.post(f"/p/{text_poll.slug}/answers/hide/", {"key": "rude thing", "hidden": "1"}, follow=True)

    assert ("success", "1 answer hidden from every screen.") in shown_messages(response)
    assert [word for _, word in cloud_words(response)] == ["Nice"]
    assert 'aria-label="Show “Rude thing” again"' in text(response)  # the manager's list of hidden answers
    assert "Rude thing" not in text(Client().get(f"/p/{text_poll.slug}/"))

    author.post(f"/p/{text_poll.slug}/answers/hide/", {"key": "rude thing", "hidden": "0"})
    assert "Rude thing" in text(Client().get(f"/p/{text_poll.slug}/"))


def test_hiding_needs_a_manager(text_poll, other_user):
    answers.submit_answer(poll=text_poll, voter=visitor(), text="Rude thing")
    assert 'class="inline answer-hide"' not in text(signed_in(other_user).get(f"/p/{text_poll.slug}/"))

    response = signed_in(other_user).post(f"/p/{text_poll.slug}/answers/hide/", {"key": "rude thing"}, follow=True)

    assert any(level == "error" for level, _ in shown_messages(response))
    assert not Answer.objects.filter(hidden=True).exists()
    anonymous = Client().post(f"/p/{text_poll.slug}/answers/hide/", {"key": "rude thing"})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert not Answer.objects.filter(hidden=True).exists()


def test_the_answer_pages_take_posts_only(text_poll):
    for path in ("answer/", "answers/hide/"):
        assert Client().get(f"/p/{text_poll.slug}/{path}").status_code == 405
