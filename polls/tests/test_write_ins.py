"""Write-ins (polls.services.suggest_option, accept_write_in, reject_write_in): voters suggest options, the author
or a moderator decides, and an accepted option is voted on like any other."""

import pytest

from accounts.models import AuditEntry, Notification
from accounts.personal_data import export_personal_data
from accounts.services import delete_account
from polls import errors, selectors, services
from polls.models import MAX_OPTIONS, Option, Poll, Vote, WriteIn
from polls.tests.factories import PollFactory, pick, visitor
from polls.voters import Voter
from realtime import events

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_poll(owner):
    """Takes suggestions that wait for the author."""
    return PollFactory(author=owner, title="Where do we eat?", options=["Pizza", "Sushi"], allow_write_ins=True)


@pytest.fixture
def live_poll(owner):
    """Takes suggestions that join the poll at once."""
    return PollFactory(
        author=owner, title="Where do we eat?", options=["Pizza", "Sushi"], allow_write_ins=True, write_ins_need_approval=False
    )


def suggest(poll, text="Tacos", voter=None) -> WriteIn:
    return services.suggest_option(poll=poll, voter=voter or visitor(1), text=text)


def option_texts(poll) -> list[str]:
    return list(Option.objects.filter(poll=poll).order_by("position").values_list("text", flat=True))


def positions(poll) -> list[int]:
    return list(Option.objects.filter(poll=poll).order_by("position").values_list("position", flat=True))


# --- The two flows ---------------------------------------------------------------------------------------


def test_a_suggestion_waits_for_the_author_and_voters_do_not_see_it(open_poll):
    version = open_poll.results_version

    write_in = suggest(open_poll, "  Tacos   al pastor ")

    assert (write_in.status, write_in.text, write_in.option) == (WriteIn.Status.PENDING, "Tacos al pastor", None)
    assert (write_in.anon_id, write_in.suggested_by) == ("visitor-1", None)
    assert option_texts(open_poll) == ["Pizza", "Sushi"]
    open_poll.refresh_from_db()
    assert open_poll.results_version == version


@pytest.fixture
def told(monkeypatch) -> list:
    """What live pages hear: the poll event (an open page reloads on poll.updated) and fresh results."""
    heard = []
    monkeypatch.setattr(events, "publish_poll_event", lambda poll, kind: heard.append((kind, poll.pk)))
    monkeypatch.setattr(events, "publish_results_changed", lambda poll: heard.append(("results", poll.pk)))
    return heard


def test_accepting_makes_it_the_polls_last_option_and_tells_live_pages(
    open_poll, owner, told, django_capture_on_commit_callbacks
):
    write_in = suggest(open_poll)
    version = Poll.objects.get(pk=open_poll.pk).results_version

    with django_capture_on_commit_callbacks(execute=True):
        accepted = services.accept_write_in(write_in=write_in, actor=owner)

    assert accepted.status == WriteIn.Status.ACCEPTED
    assert (accepted.handled_by, accepted.option.text, accepted.option.position) == (owner, "Tacos", 2)
    assert option_texts(open_poll) == ["Pizza", "Sushi", "Tacos"]
    assert Poll.objects.get(pk=open_poll.pk).results_version == version + 1
    assert told == [("poll.updated", open_poll.pk), ("results", open_poll.pk)]
    # The author's own decisions are theirs to make: nothing for the moderators' audit log.
    assert not AuditEntry.objects.exists()


def test_without_approval_a_suggestion_is_an_option_at_once(live_poll, told, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        write_in = suggest(live_poll, "Tacos")

    assert (write_in.status, write_in.option.text, write_in.handled_by) == (WriteIn.Status.ACCEPTED, "Tacos", None)
    assert write_in.handled_at is not None
    assert option_texts(live_poll) == ["Pizza", "Sushi", "Tacos"]
    assert told == [("poll.updated", live_poll.pk), ("results", live_poll.pk)]


def test_a_suggestion_waiting_or_turned_down_tells_live_pages_nothing(open_poll, owner, told, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.reject_write_in(write_in=suggest(open_poll), actor=owner)

    assert told == []


def test_the_authors_own_suggestion_needs_no_approval(open_poll, owner):
    write_in = suggest(open_poll, "Tacos", Voter(user=owner))

    assert (write_in.status, write_in.handled_by) == (WriteIn.Status.ACCEPTED, owner)
    assert option_texts(open_poll) == ["Pizza", "Sushi", "Tacos"]


def test_rejecting_frees_the_place_and_the_same_text_is_not_suggested_again(open_poll, owner):
    write_in = suggest(open_poll, "Tacos")

    rejected = services.reject_write_in(write_in=write_in, actor=owner)

    assert (rejected.status, rejected.handled_by, rejected.option) == (WriteIn.Status.REJECTED, owner, None)
    assert option_texts(open_poll) == ["Pizza", "Sushi"]
    with pytest.raises(errors.SuggestionRejected):
        suggest(open_poll, "TACOS", visitor(2))


def test_positions_follow_the_last_option_even_after_a_gap(live_poll):
    Option.objects.filter(poll=live_poll, text="Pizza").delete()  # a moderator removed it: positions 1 only

    suggest(live_poll, "Tacos")
    suggest(live_poll, "Ramen", visitor(2))

    assert option_texts(live_poll) == ["Sushi", "Tacos", "Ramen"]
    assert positions(live_poll) == [1, 2, 3]


def test_the_author_hears_of_a_suggestion_waiting_and_repeats_gather_in_one_notice(open_poll, owner, other_user):
    suggest(open_poll, "Tacos", Voter(user=other_user))

    notice = Notification.objects.get(recipient=owner, kind=Notification.Kind.WRITE_IN)
    assert (notice.poll, notice.actor) == (open_poll, other_user)
    assert notice.payload["message"] == f"{other_user.public_name} suggested the option “Tacos” for “{open_poll.title}”."

    suggest(open_poll, "Ramen", visitor(1))

    notice = Notification.objects.get(recipient=owner, kind=Notification.Kind.WRITE_IN)
    assert (notice.count, notice.payload["message"]) == (2, f"2 options suggested for “{open_poll.title}”.")


def test_no_notice_for_an_option_that_needs_no_approval_or_the_authors_own(live_poll, open_poll, owner):
    suggest(live_poll, "Tacos")
    suggest(open_poll, "Ramen", Voter(user=owner))

    assert not Notification.objects.filter(kind=Notification.Kind.WRITE_IN).exists()


# --- Who decides --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("decide", [services.accept_write_in, services.reject_write_in])
def test_only_the_author_or_a_moderator_decides(open_poll, other_user, decide):
    write_in = suggest(open_poll, "Tacos", Voter(user=other_user))

    with pytest.raises(errors.NotOwner):
        decide(write_in=write_in, actor=other_user)  # not even its own suggester
    with pytest.raises(errors.LoginRequired):
        decide(write_in=write_in, actor=None)

    assert WriteIn.objects.get(pk=write_in.pk).status == WriteIn.Status.PENDING


@pytest.mark.parametrize(
    "decide, action",
    [
        (services.accept_write_in, AuditEntry.Action.WRITE_IN_ACCEPTED),
        (services.reject_write_in, AuditEntry.Action.WRITE_IN_REJECTED),
    ],
)
def test_a_moderators_decision_is_in_the_audit_log(open_poll, moderator, decide, action):
    write_in = suggest(open_poll, "Tacos")

    decide(write_in=write_in, actor=moderator, reason="Off topic.")

    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.target_id, entry.reason) == (moderator, action, str(open_poll.pk), "Off topic.")
    assert entry.details == {"write_in": str(write_in.pk), "text": "Tacos", "suggested_by": "anonymous visitor-"}


@pytest.mark.parametrize("decide", [services.accept_write_in, services.reject_write_in])
def test_a_suggestion_is_decided_once(open_poll, owner, decide):
    write_in = suggest(open_poll)
    services.accept_write_in(write_in=write_in, actor=owner)

    with pytest.raises(errors.WriteInHandled):
        decide(write_in=write_in, actor=owner)

    assert option_texts(open_poll) == ["Pizza", "Sushi", "Tacos"]


def test_a_suggestion_gone_with_its_account_is_no_longer_decided(open_poll, owner, other_user):
    write_in = suggest(open_poll, "Tacos", Voter(user=other_user))
    delete_account(user=other_user)

    with pytest.raises(errors.WriteInHandled):
        services.accept_write_in(write_in=write_in, actor=owner)

    assert option_texts(open_poll) == ["Pizza", "Sushi"]


# --- What is refused -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "Write the option you suggest."),
        ("   \n\t ", "Write the option you suggest."),
        ("x" * 101, "Options are at most 100 characters."),
    ],
)
def test_blank_or_too_long_text_is_refused(open_poll, text, message):
    with pytest.raises(errors.InvalidWriteIn) as refusal:
        suggest(open_poll, text)

    assert refusal.value.fields == {"text": [message]}
    assert not WriteIn.objects.exists()


def test_a_hundred_characters_once_spaces_collapse_is_fine(open_poll):
    assert len(suggest(open_poll, "  " + "x" * 50 + "    " + "y" * 49).text) == 100


@pytest.mark.parametrize("text", ["Pizza", "  pIZZA ", "PIZZA"])
def test_an_existing_option_is_refused_case_and_spacing_aside(open_poll, text):
    with pytest.raises(errors.OptionExists):
        suggest(open_poll, text)


def test_a_suggestion_waiting_already_is_refused(open_poll):
    suggest(open_poll, "Tacos al pastor", visitor(1))

    with pytest.raises(errors.AlreadySuggested):
        suggest(open_poll, "tacos  AL pastor", visitor(2))


def test_a_poll_without_write_ins_takes_none(owner):
    poll = PollFactory(author=owner, options=["Pizza", "Sushi"])

    with pytest.raises(errors.WriteInsOff):
        suggest(poll)


def test_a_secret_poll_takes_none_even_if_its_row_says_so(owner):
    poll = PollFactory(author=owner, options=["Pizza", "Sushi"], is_secret=True)
    Poll.objects.filter(pk=poll.pk).update(allow_write_ins=True)  # create_poll refuses it; the service refuses too
    poll.refresh_from_db()

    with pytest.raises(errors.WriteInsOff):
        suggest(poll)


def test_secret_polls_cannot_be_made_to_take_write_ins(owner):
    with pytest.raises(errors.InvalidPoll) as refusal:
        PollFactory(author=owner, options=["Pizza", "Sushi"], is_secret=True, allow_write_ins=True)

    assert "allow_write_ins" in refusal.value.fields


def test_a_closed_poll_takes_no_suggestion_and_accepts_none(open_poll, owner):
    waiting = suggest(open_poll)
    services.set_poll_active(poll=open_poll, actor=owner, active=False)

    with pytest.raises(errors.PollClosed):
        suggest(open_poll, "Ramen", visitor(2))
    with pytest.raises(errors.PollClosed):
        services.accept_write_in(write_in=waiting, actor=owner)

    # Turning one down still works: the queue can be cleared after the vote.
    assert services.reject_write_in(write_in=waiting, actor=owner).status == WriteIn.Status.REJECTED


def test_members_only_and_invite_only_polls_ask_what_a_vote_asks(owner):
    members = PollFactory(author=owner, options=["Pizza", "Sushi"], allow_write_ins=True, allow_anonymous=False)
    invited = PollFactory(author=owner, options=["Pizza", "Sushi"], allow_write_ins=True, invite_only=True)

    with pytest.raises(errors.LoginRequired):
        suggest(members)
    with pytest.raises(errors.InviteRequired):
        suggest(invited)


def test_suggestions_waiting_count_towards_the_option_limit(owner):
    poll = PollFactory(author=owner, options=[f"Option {n}" for n in range(MAX_OPTIONS - 2)], allow_write_ins=True)
    suggest(poll, "Tacos", visitor(1))
    suggest(poll, "Ramen", visitor(2))

    with pytest.raises(errors.OptionLimitReached):
        suggest(poll, "Curry", visitor(3))

    services.reject_write_in(write_in=WriteIn.objects.get(text="Ramen"), actor=owner)
    assert suggest(poll, "Curry", visitor(3)).status == WriteIn.Status.PENDING


def test_a_full_poll_takes_no_option_at_once_either(owner):
    poll = PollFactory(
        author=owner, options=[f"Option {n}" for n in range(MAX_OPTIONS)], allow_write_ins=True, write_ins_need_approval=False
    )

    with pytest.raises(errors.OptionLimitReached):
        suggest(poll)

    assert Option.objects.filter(poll=poll).count() == MAX_OPTIONS


def test_one_voter_has_at_most_three_suggestions_waiting(open_poll, other_user, owner):
    for text in ["Tacos", "Ramen", "Curry"]:
        suggest(open_poll, text, Voter(user=other_user))

    with pytest.raises(errors.SuggestionLimitReached):
        suggest(open_poll, "Falafel", Voter(user=other_user))
    # Another voter still may, and once the author decides one, so may they again.
    suggest(open_poll, "Falafel", visitor(1))
    services.accept_write_in(write_in=WriteIn.objects.get(text="Tacos"), actor=owner)
    assert suggest(open_poll, "Dumplings", Voter(user=other_user)).status == WriteIn.Status.PENDING


def test_accepting_respects_the_limit_at_that_moment(open_poll, owner):
    write_in = suggest(open_poll)
    # The author filled the poll meanwhile (an edit while it had no votes).
    services.update_poll(poll=open_poll, actor=owner, options=[f"Option {n}" for n in range(MAX_OPTIONS)])

    with pytest.raises(errors.OptionLimitReached):
        services.accept_write_in(write_in=write_in, actor=owner)

    assert Option.objects.filter(poll=open_poll).count() == MAX_OPTIONS
    assert WriteIn.objects.get(pk=write_in.pk).status == WriteIn.Status.PENDING


def test_accepting_refuses_what_the_poll_has_by_now(open_poll, owner):
    write_in = suggest(open_poll, "Tacos")
    services.update_poll(poll=open_poll, actor=owner, options=["Pizza", "Sushi", "tacos"])

    with pytest.raises(errors.OptionExists):
        services.accept_write_in(write_in=write_in, actor=owner)

    assert option_texts(open_poll) == ["Pizza", "Sushi", "tacos"]


# --- An accepted option is an option like the others -----------------------------------------------------


def accepted_option(poll, owner, text="Tacos") -> Option:
    write_in = suggest(poll, text, visitor(99))
    return services.accept_write_in(write_in=write_in, actor=owner).option


def test_single_choice_voters_pick_an_accepted_option(open_poll, owner):
    tacos = accepted_option(open_poll, owner)

    services.cast_vote(poll=open_poll, voter=visitor(1), option_ids=[tacos.pk])

    tacos.refresh_from_db()
    open_poll.refresh_from_db()
    assert (tacos.vote_count, open_poll.total_votes) == (1, 1)


def test_approval_voters_pick_an_accepted_option_with_others(owner):
    poll = PollFactory(author=owner, options=["Pizza", "Sushi"], allow_write_ins=True, method=Poll.Method.APPROVAL)
    tacos = accepted_option(poll, owner)

    services.cast_vote(poll=poll, voter=visitor(1), option_ids=[tacos.pk, *pick(poll, "Pizza")])

    assert dict(Option.objects.filter(poll=poll).values_list("text", "vote_count")) == {"Pizza": 1, "Sushi": 0, "Tacos": 1}


def test_ranked_voters_rank_an_accepted_option_and_the_count_takes_it_in(owner):
    poll = PollFactory(author=owner, options=["Pizza", "Sushi"], allow_write_ins=True, method=Poll.Method.RANKED)
    tacos = accepted_option(poll, owner)

    services.cast_vote(poll=poll, voter=visitor(1), option_ids=[tacos.pk, *pick(poll, "Sushi")])
    services.cast_vote(poll=poll, voter=visitor(2), option_ids=[tacos.pk, *pick(poll, "Pizza")])

    assert list(Vote.objects.filter(poll=poll, option=tacos).values_list("rank", flat=True)) == [1, 1]
    assert selectors.full_results(poll)["ranked"]["winner"] == str(tacos.pk)


def test_score_voters_rate_an_accepted_option(owner):
    poll = PollFactory(author=owner, options=["Pizza", "Sushi"], allow_write_ins=True, method=Poll.Method.SCORE)
    tacos = accepted_option(poll, owner)

    services.cast_vote(poll=poll, voter=visitor(1), scores={str(tacos.pk): 4})

    tacos.refresh_from_db()
    assert (tacos.vote_count, tacos.score_sum) == (1, 4)


def test_an_option_joins_a_poll_that_has_votes_already(live_poll):
    services.cast_vote(poll=live_poll, voter=visitor(1), option_ids=pick(live_poll, "Pizza"))

    write_in = suggest(live_poll, "Tacos", visitor(2))
    services.cast_vote(poll=live_poll, voter=visitor(2), option_ids=[write_in.option.pk])

    assert dict(Option.objects.filter(poll=live_poll).values_list("text", "vote_count")) == {"Pizza": 1, "Sushi": 0, "Tacos": 1}


# --- An account's suggestions ---------------------------------------------------------------------------------


def test_my_data_download_lists_the_options_i_suggested(open_poll, other_user, owner):
    services.suggest_option(poll=open_poll, voter=Voter(user=other_user), text="Tacos")
    ramen = services.suggest_option(poll=open_poll, voter=Voter(user=other_user), text="Ramen")
    services.reject_write_in(write_in=ramen, actor=owner)
    suggest(open_poll, "Curry", visitor(1))  # someone else's

    mine = export_personal_data(user=other_user)["suggested_options"]

    assert [(item["poll"]["id"], item["text"], item["status"]) for item in mine] == [
        (str(open_poll.pk), "Tacos", "pending"),
        (str(open_poll.pk), "Ramen", "rejected"),
    ]


def test_a_deleted_account_takes_its_open_suggestions_and_leaves_its_accepted_options(open_poll, other_user, owner):
    voter = Voter(user=other_user)
    accepted = services.accept_write_in(write_in=suggest(open_poll, "Tacos", voter), actor=owner)
    suggest(open_poll, "Ramen", voter)
    services.reject_write_in(write_in=suggest(open_poll, "Curry", voter), actor=owner)

    delete_account(user=other_user)

    assert list(WriteIn.objects.values_list("text", "suggested_by")) == [("Tacos", None)]
    assert option_texts(open_poll) == ["Pizza", "Sushi", "Tacos"]
    assert WriteIn.objects.get().suggester_label == "a deleted account" and accepted.option.text == "Tacos"
