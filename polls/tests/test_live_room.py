"""The live room's rules (polls.join_codes, polls.presenting, polls.decks, polls.answers), through the services
and the API: join codes, a presenter's reveal and hide, decks, and open-text answers."""

import pytest

from accounts.models import AuditEntry
from polls import answers, decks, errors, join_codes, presenting, selectors, services
from polls.models import Answer, Deck, Poll
from polls.permissions import can_see_results
from polls.tests.factories import PollFactory, visitor
from polls.voters import Voter

pytestmark = pytest.mark.django_db


@pytest.fixture
def text_poll(owner):
    return PollFactory(author=owner, title="One word for today?", method="text", options=[], answers_per_voter=2)


def answer(poll, text, voter=None):
    return answers.submit_answer(poll=poll, voter=voter or visitor(1), text=text)


# --- Join codes ---------------------------------------------------------------------------------------


def test_every_poll_and_deck_gets_a_readable_code_and_the_two_kinds_never_share_one(owner, poll):
    deck = decks.create_deck(author=owner, title="Monday", poll_ids=[poll.pk])
    for code in (poll.join_code, deck.join_code):
        assert len(code) == 6 and not set(code) & set("0O1I")
    assert poll.join_code[0] in join_codes.LETTERS and deck.join_code[0] in join_codes.DIGITS


def test_a_code_is_found_whatever_its_case_and_spacing(owner, poll):
    typed = f" {poll.join_code[:3].lower()}-{poll.join_code[3:]} "
    assert join_codes.find(typed) == poll
    assert join_codes.display(poll.join_code) == f"{poll.join_code[:3]} {poll.join_code[3:]}"
    assert join_codes.find("ABC") is None and join_codes.find("O0O0O0") is None and join_codes.find(None) is None


def test_a_held_poll_answers_to_no_code(poll, moderator):
    services.hold_poll(poll=poll, moderator=moderator, reason="spam")
    assert join_codes.find(poll.join_code) is None


def test_a_drawn_code_already_held_is_drawn_again(owner, poll, monkeypatch):
    draws = iter([poll.join_code, "BCDEFG"])
    monkeypatch.setattr(join_codes, "poll_code", lambda: next(draws))
    assert PollFactory(author=owner).join_code == "BCDEFG"


def test_the_api_finds_polls_and_decks_by_code(api_client, owner, poll):
    deck = decks.create_deck(author=owner, title="Monday", poll_ids=[poll.pk])
    found = api_client.get(f"/api/polls/code/{poll.join_code.lower()}")
    assert found.status_code == 200 and found.json()["id"] == str(poll.pk)
    assert found.json()["join_code"] == poll.join_code
    state = api_client.get(f"/api/decks/code/{deck.join_code}")
    assert state.status_code == 200 and state.json()["poll"]["slug"] == poll.slug
    assert api_client.get(f"/api/polls/code/{deck.join_code}").status_code == 404
    assert api_client.get("/api/decks/code/ZZZZZZ").json()["code"] == "not_found"


# --- Presenting ---------------------------------------------------------------------------------------


def test_hiding_while_presenting_hides_an_always_poll_from_everyone_but_its_managers(owner, other_user, poll):
    presenting.present(poll=poll, actor=owner, audience_results="hidden")
    poll.refresh_from_db()
    assert poll.is_presenting
    assert not can_see_results(poll=poll, user=other_user, has_voted=True)
    assert not can_see_results(poll=poll, user=None, has_voted=False)
    assert can_see_results(poll=poll, user=owner, has_voted=False)
    assert not Poll.objects.results_public().filter(pk=poll.pk).exists()
    assert selectors.results_hidden_reason(poll) == "The presenter is keeping the results hidden for now."


def test_revealing_shows_an_owner_only_poll_until_presenting_ends(owner, other_user):
    poll = PollFactory(author=owner, results_visibility="owner_only")
    presenting.present(poll=poll, actor=owner, audience_results="shown")
    poll.refresh_from_db()
    assert can_see_results(poll=poll, user=other_user, has_voted=False)
    assert Poll.objects.results_public().filter(pk=poll.pk).exists()
    presenting.present(poll=poll, actor=owner, presenting=False)
    poll.refresh_from_db()
    assert (poll.is_presenting, poll.audience_results) == (False, "rule")
    assert not can_see_results(poll=poll, user=other_user, has_voted=False)


def test_no_reveal_opens_an_open_secret_poll(owner):
    poll = PollFactory(author=owner, is_secret=True, results_visibility="after_close")
    presenting.present(poll=poll, actor=owner, audience_results="shown")
    poll.refresh_from_db()
    assert not can_see_results(poll=poll, user=None, has_voted=False)
    assert not Poll.objects.results_public().filter(pk=poll.pk).exists()


def test_every_change_is_a_new_results_version_and_repeating_one_changes_nothing(owner, poll):
    before = poll.results_version
    presenting.present(poll=poll, actor=owner, presenting=True)
    presenting.present(poll=poll, actor=owner, presenting=True)
    poll.refresh_from_db()
    assert poll.results_version == before + 1


def test_only_managers_present_and_a_moderator_leaves_a_trail(poll, other_user, moderator):
    with pytest.raises(errors.NotOwner):
        presenting.present(poll=poll, actor=other_user, presenting=True)
    with pytest.raises(errors.LoginRequired):
        presenting.present(poll=poll, actor=None, presenting=True)
    presenting.present(poll=poll, actor=moderator, audience_results="hidden")
    assert AuditEntry.objects.filter(action="poll_presented", target_id=str(poll.pk)).exists()


def test_the_presentation_api_answers_managers_with_the_state_and_refuses_bad_input(owner_client, other_client, poll):
    url = f"/api/polls/{poll.pk}/presentation"
    assert other_client.post(url, {"presenting": True}, format="json").status_code == 403
    bad = owner_client.post(url, {"audience_results": "everyone"}, format="json")
    assert bad.status_code == 400 and "audience_results" in bad.json()["fields"]
    ended_showing = owner_client.post(url, {"presenting": False, "audience_results": "shown"}, format="json")
    assert ended_showing.status_code == 400
    state = owner_client.post(url, {"audience_results": "hidden"}, format="json").json()
    assert state["presenting"] and state["audience_results"] == "hidden" and not state["results_visible_to_audience"]
    assert owner_client.get(url).json()["join_code"] == poll.join_code


# --- Decks ---------------------------------------------------------------------------------------------


def test_a_deck_holds_its_authors_polls_in_order_and_moves_through_them(owner):
    first, second = PollFactory(author=owner), PollFactory(author=owner)
    deck = decks.create_deck(author=owner, title="  Monday   standup ", poll_ids=[second.pk, first.pk])
    assert deck.title == "Monday standup" and deck.current_poll == second
    decks.move(deck=deck, actor=owner, position=1)
    deck.refresh_from_db()
    assert deck.current_poll == first and decks.deck_state(deck)["position"] == 1
    for position in (2, -1, "1", True):
        with pytest.raises(errors.InvalidDeck):
            decks.move(deck=deck, actor=owner, position=position)


def test_a_deck_refuses_polls_its_author_does_not_manage_and_other_peoples_decks(owner, other_user):
    mine, theirs = PollFactory(author=owner), PollFactory(author=other_user)
    with pytest.raises(errors.InvalidDeck) as refused:
        decks.create_deck(author=owner, title="Mixed", poll_ids=[mine.pk, theirs.pk])
    assert str(theirs.pk) in refused.value.fields["polls"][0]
    for poll_ids in ([], [mine.pk, mine.pk], ["not-an-id"], "abc"):
        with pytest.raises(errors.InvalidDeck):
            decks.create_deck(author=owner, title="Bad", poll_ids=poll_ids)
    deck = decks.create_deck(author=owner, title="Mine", poll_ids=[mine.pk])
    with pytest.raises(errors.NotOwner):
        decks.move(deck=deck, actor=other_user, position=0)
    with pytest.raises(errors.NotOwner):
        decks.update_deck(deck=deck, actor=other_user, title="Taken")


def test_reordering_keeps_the_poll_on_screen_and_dropping_it_starts_again(owner):
    a, b, c = (PollFactory(author=owner) for _ in range(3))
    deck = decks.create_deck(author=owner, title="Three", poll_ids=[a.pk, b.pk, c.pk])
    decks.move(deck=deck, actor=owner, position=1)
    deck = decks.update_deck(deck=deck, actor=owner, poll_ids=[b.pk, c.pk, a.pk])
    assert (deck.position, deck.current_poll) == (0, b)
    deck = decks.update_deck(deck=deck, actor=owner, poll_ids=[c.pk, a.pk])
    assert (deck.position, deck.current_poll) == (0, c)


def test_a_deleted_poll_leaves_its_deck_working(owner):
    a, b = PollFactory(author=owner), PollFactory(author=owner)
    deck = decks.create_deck(author=owner, title="Two", poll_ids=[a.pk, b.pk])
    services.delete_poll(poll=a, actor=owner)
    deck.refresh_from_db()
    assert deck.current_poll == b and decks.deck_state(deck)["count"] == 1


def test_the_deck_api_lets_authors_make_move_and_delete_their_decks(owner_client, other_client, owner):
    a, b = PollFactory(author=owner), PollFactory(author=owner)
    made = owner_client.post("/api/decks", {"title": "Talk", "polls": [str(a.pk), str(b.pk)]}, format="json")
    assert made.status_code == 201
    deck = made.json()
    assert deck["polls"] == [str(a.pk), str(b.pk)] and deck["current_poll"]["id"] == str(a.pk)
    url = f"/api/decks/{deck['id']}"
    assert other_client.get(url).status_code == 403
    assert other_client.post(f"{url}/move", {"position": 1}, format="json").status_code == 403
    assert owner_client.post(f"{url}/move", {"position": 5}, format="json").json()["code"] == "invalid"
    assert owner_client.post(f"{url}/move", {"position": 1}, format="json").json()["current_poll"]["id"] == str(b.pk)
    assert owner_client.patch(url, {"title": "Talk 2"}, format="json").json()["title"] == "Talk 2"
    assert [d["id"] for d in owner_client.get("/api/decks").json()["results"]] == [deck["id"]]
    assert other_client.get("/api/decks").json()["results"] == []
    assert owner_client.delete(url).status_code == 204
    assert not Deck.objects.exists() and Poll.objects.count() == 2


# --- Open text -------------------------------------------------------------------------------------------


def test_an_open_text_poll_takes_no_options_and_no_secret_or_invites(owner):
    for bad in ({"options": ["A", "B"]}, {"is_secret": True}, {"invite_only": True}, {"answer_max_length": 0},
                {"answers_per_voter": 11}):
        with pytest.raises(errors.InvalidPoll):
            services.create_poll(author=owner, title="Words", method="text", **bad)
    poll = services.create_poll(author=owner, title="Words", method="text")
    assert poll.takes_answers and not poll.options.exists()


def test_answers_group_by_case_accents_spacing_and_end_punctuation(text_poll):
    answer(text_poll, "Café", visitor(1))
    answer(text_poll, "  cafe ", visitor(2))
    answer(text_poll, "CAFÉ!", visitor(3))
    answer(text_poll, "Tea", visitor(1))
    results = selectors.full_results(Poll.objects.get(pk=text_poll.pk))
    assert results["total_votes"] == 4
    groups = results["answers"]["groups"]
    assert [(group["key"], group["count"]) for group in groups] == [("cafe", 3), ("tea", 1)]
    assert groups[0]["weight"] == 5 and groups[1]["weight"] == 1
    assert results["answers"]["voters"] == 3


def test_bad_answers_are_refused_with_their_codes(text_poll):
    for text, error in (("   ", errors.AnswerEmpty), ("x" * 61, errors.AnswerTooLong), ("what the FUCK", errors.AnswerNotAllowed),
                        (None, errors.AnswerEmpty), (12, errors.AnswerEmpty)):
        with pytest.raises(error):
            answer(text_poll, text)
    assert not Answer.objects.exists()


def test_the_profanity_filter_is_the_polls_switch_and_the_operators_list(owner, settings, tmp_path):
    poll = PollFactory(author=owner, method="text", options=[], filter_profanity=False)
    assert answer(poll, "shit happens").key == "shit happens"
    words = tmp_path / "words.txt"
    words.write_text("# ours\nbroccoli\n")
    settings.PROFANITY_WORDS_FILE = str(words)
    filtered = PollFactory(author=owner, method="text", options=[])
    with pytest.raises(errors.AnswerNotAllowed):
        answer(filtered, "Brócoli? no: BROCCOLI!")
    assert answer(filtered, "shit happens")


def test_a_voter_gives_at_most_answers_per_voter(text_poll, owner):
    answer(text_poll, "one")
    answer(text_poll, "two")
    with pytest.raises(errors.TooManyAnswers):
        answer(text_poll, "three")
    assert answer(text_poll, "three", Voter(user=owner))


def test_anonymous_answers_from_one_address_stop_at_the_cap(text_poll, settings):
    settings.ANONYMOUS_BALLOTS_PER_IP = 2
    answer(text_poll, "a", visitor(1))
    answer(text_poll, "b", visitor(2))
    answer(text_poll, "c", visitor(2))  # a voter already counted there gives their second
    with pytest.raises(errors.AnonymousLimitReached):
        answer(text_poll, "d", visitor(3))
    assert answer(text_poll, "d", visitor(3, ip_address="198.51.100.7"))


def test_a_closed_or_choice_poll_takes_no_answers(text_poll, owner, poll):
    with pytest.raises(errors.NotTextPoll):
        answer(poll, "words")
    services.set_poll_active(poll=text_poll, actor=owner, active=False)
    with pytest.raises(errors.PollClosed):
        answer(Poll.objects.get(pk=text_poll.pk), "late")


def test_hiding_a_group_hides_its_answers_now_and_later_and_the_total_follows(text_poll, owner, other_user):
    answer(text_poll, "Spam", visitor(1))
    answer(text_poll, "spam!", visitor(2))
    answer(text_poll, "Ham", visitor(3))
    with pytest.raises(errors.NotOwner):
        answers.hide(poll=text_poll, actor=other_user, key="spam")
    assert answers.hide(poll=text_poll, actor=owner, key="SPAM") == 2
    later = answer(text_poll, "spam", visitor(4))
    assert later.hidden
    text_poll.refresh_from_db()
    assert text_poll.total_votes == 1
    assert [group["key"] for group in selectors.full_results(text_poll)["answers"]["groups"]] == ["ham"]
    assert answers.hide(poll=text_poll, actor=owner, key="spam", hidden=False) == 3
    text_poll.refresh_from_db()
    assert text_poll.total_votes == 4
    with pytest.raises(errors.AnswerNotFound):
        answers.hide(poll=text_poll, actor=owner, key="eggs")


def test_a_voter_takes_back_their_answer_and_nobody_elses(text_poll):
    mine = answer(text_poll, "mine", visitor(1))
    with pytest.raises(errors.NotOwner):
        answers.take_back(answer=mine, voter=visitor(2), actor=None)
    answers.take_back(answer=mine, voter=visitor(1), actor=None)
    text_poll.refresh_from_db()
    assert text_poll.total_votes == 0 and not Answer.objects.exists()


def test_the_answers_api(api_client, owner_client, text_poll):
    url = f"/api/polls/{text_poll.pk}/answers"
    made = api_client.post(url, {"text": "Blue sky"}, format="json")
    assert made.status_code == 201 and made.json()["key"] == "blue sky"
    assert api_client.post(url, {"text": "x" * 100}, format="json").json()["code"] == "answer_too_long"
    mine = api_client.get(url).json()["results"]
    assert [a["text"] for a in mine] == ["Blue sky"] and "voter" not in mine[0]
    assert owner_client.get(url).json()["results"][0]["voter"].startswith("anonymous")
    assert api_client.post(f"{url}/hide", {"key": "blue sky"}, format="json").status_code == 401
    assert owner_client.post(f"{url}/hide", {"key": "Blue Sky"}, format="json").json() == {"changed": 1}
    results = api_client.get(f"/api/polls/{text_poll.pk}/results").json()
    assert results["answers"]["groups"] == [] and results["total_votes"] == 0
    assert api_client.delete(f"{url}/{made.json()['id']}").status_code == 204
    choice = PollFactory(author=text_poll.author)
    assert api_client.post(f"/api/polls/{choice.pk}/answers", {"text": "hi"}, format="json").json()["code"] == "wrong_ballot_shape"


def test_my_data_holds_my_answers_and_deleting_my_account_takes_them_from_the_count(text_poll, other_user):
    from accounts.personal_data import export_personal_data
    from accounts.services import delete_account

    answer(text_poll, "Mine", Voter(user=other_user))
    answer(text_poll, "Theirs", visitor(1))
    exported = export_personal_data(user=other_user)
    assert [(given["text"], given["poll"]["title"]) for given in exported["answers"]] == [("Mine", text_poll.title)]
    delete_account(user=other_user)
    text_poll.refresh_from_db()
    assert text_poll.total_votes == 1 and [a.text for a in Answer.objects.all()] == ["Theirs"]


def test_an_open_text_poll_is_created_over_the_api_without_options(owner_client):
    made = owner_client.post("/api/polls", {"title": "Words?", "method": "text", "answers_per_voter": 3}, format="json")
    assert made.status_code == 201 and made.json()["options"] == [] and made.json()["answers_per_voter"] == 3
    assert owner_client.post("/api/polls", {"title": "Words?"}, format="json").json()["fields"].keys() == {"options"}


def test_codes_that_name_nothing_are_limited_per_address_and_codes_that_work_are_not(api_client, poll, settings):
    settings.RATE_LIMIT_ENABLED = settings.RATELIMIT_ENABLE = True
    settings.RATE_LIMIT_JOIN_MISSES = 3
    for _ in range(5):
        assert api_client.get(f"/api/polls/code/{poll.join_code}").status_code == 200
    for _ in range(3):
        assert api_client.get("/api/polls/code/ZZZZZZ").status_code == 404
    refused = api_client.get(f"/api/polls/code/{poll.join_code}")
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
