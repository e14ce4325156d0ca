import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from polls import errors, services
from polls.models import MAX_OPTIONS, Ballot, Like, Option, Poll, Report, Vote
from polls.tests.factories import PollFactory, like_counts, pick, visitor, vote_counts
from polls.voters import Voter

pytestmark = pytest.mark.django_db


@pytest.fixture
def poll(owner):
    """Single choice: Red, Green, Blue."""
    return PollFactory(author=owner)


@pytest.fixture
def multi_poll(owner):
    """Multiple choice, at most two of Red, Green, Blue."""
    return PollFactory(author=owner, allow_multiple=True, max_choices=2)


@pytest.fixture(params=["account", "anonymous"])
def voter(request, other_user):
    if request.param == "account":
        return Voter(user=other_user, ip_address="203.0.113.1")
    return visitor(1)


def close(poll: Poll, how: str) -> None:
    if how == "inactive":
        Poll.objects.filter(pk=poll.pk).update(is_active=False)
    else:
        # create_poll refuses a past closing time, so move it into the past afterwards.
        Poll.objects.filter(pk=poll.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    poll.refresh_from_db()


# --- create_poll -----------------------------------------------------------------------------


def test_create_poll_saves_the_poll_and_its_options_in_order(owner):
    poll = services.create_poll(
        author=owner, title="  Best pet?  ", description=" Pick one. ", options=["  Cat ", "Big   dog", "Fish"]
    )

    poll.refresh_from_db()
    assert (poll.title, poll.description, poll.author) == ("Best pet?", "Pick one.", owner)
    assert poll.slug.startswith("best-pet-")
    assert list(poll.options.values_list("position", "text")) == [(0, "Cat"), (1, "Big dog"), (2, "Fish")]
    assert vote_counts(poll) == (0, 0, 0)


def test_create_poll_gives_equal_titles_different_slugs(owner):
    first = PollFactory(author=owner, title="Same")
    second = PollFactory(author=owner, title="Same")

    assert first.slug != second.slug


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"options": ["Only one"]}, "options"),
        ({"options": [f"Option {n}" for n in range(MAX_OPTIONS + 1)]}, "options"),
        ({"options": ["Red", "red"]}, "options"),
        ({"options": ["Red", "RED ", "Blue"]}, "options"),
        ({"options": ["Red", "   "]}, "options"),
        ({"options": ["Red", "x" * 101]}, "options"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"allow_multiple": True, "max_choices": 4}, "max_choices"),
        ({"allow_multiple": True, "max_choices": 0}, "max_choices"),
        ({"allow_multiple": False, "max_choices": 2}, "max_choices"),
        ({"expires_at": timezone.now() - timedelta(seconds=1)}, "expires_at"),
    ],
)
def test_create_poll_refuses_invalid_polls_naming_the_field(owner, changes, field):
    with pytest.raises(errors.InvalidPoll) as caught:
        PollFactory(author=owner, **changes)

    assert list(caught.value.fields) == [field]
    assert caught.value.fields[field]
    assert not Poll.objects.exists()


def test_create_poll_reports_every_problem_at_once(owner):
    with pytest.raises(errors.InvalidPoll) as caught:
        PollFactory(author=owner, title="", options=["Red"], allow_multiple=False, max_choices=3)

    assert set(caught.value.fields) == {"title", "options", "max_choices"}


@pytest.mark.parametrize("count", [2, MAX_OPTIONS])
def test_create_poll_accepts_the_smallest_and_largest_polls(owner, count):
    poll = PollFactory(author=owner, options=[f"Option {n}" for n in range(count)])

    assert poll.options.count() == count


# --- cast_vote ---------------------------------------------------------------------------------


def test_cast_vote_records_a_ballot_and_moves_the_counters(poll, voter):
    ballot = services.cast_vote(poll=poll, voter=voter, option_ids=pick(poll, "Green")).ballot

    assert list(ballot.votes.values_list("option__text", flat=True)) == ["Green"]
    assert (ballot.user, ballot.anon_id) == (voter.user, voter.anon_id)
    assert ballot.ip_address == voter.ip_address
    assert vote_counts(poll) == (1, 1, 1)
    assert poll.options.get(text="Green").vote_count == 1


def test_cast_vote_on_a_multiple_choice_poll(multi_poll, voter):
    ballot = services.cast_vote(poll=multi_poll, voter=voter, option_ids=pick(multi_poll, "Red", "Blue")).ballot

    assert ballot.votes.count() == 2
    assert vote_counts(multi_poll) == (2, 2, 2)
    assert dict(multi_poll.options.values_list("text", "vote_count")) == {"Red": 1, "Green": 0, "Blue": 1}


def test_counters_add_up_over_many_ballots(multi_poll, owner, other_user):
    services.cast_vote(poll=multi_poll, voter=Voter(user=owner), option_ids=pick(multi_poll, "Red"))
    services.cast_vote(poll=multi_poll, voter=Voter(user=other_user), option_ids=pick(multi_poll, "Red", "Green"))
    for number in range(1, 4):
        services.cast_vote(poll=multi_poll, voter=visitor(number), option_ids=pick(multi_poll, "Blue"))

    assert vote_counts(multi_poll) == (6, 6, 6)
    assert Ballot.objects.filter(poll=multi_poll).count() == 5
    assert dict(multi_poll.options.values_list("text", "vote_count")) == {"Red": 2, "Green": 1, "Blue": 3}


def test_a_multiple_choice_poll_without_a_maximum_takes_every_option(owner, voter):
    poll = PollFactory(author=owner, allow_multiple=True)

    services.cast_vote(poll=poll, voter=voter, option_ids=pick(poll, "Red", "Green", "Blue"))

    assert vote_counts(poll) == (3, 3, 3)


def test_the_same_option_twice_in_one_request_counts_once(multi_poll, voter):
    red = pick(multi_poll, "Red")[0]

    services.cast_vote(poll=multi_poll, voter=voter, option_ids=[red, str(red)])

    assert vote_counts(multi_poll) == (1, 1, 1)


@pytest.mark.parametrize("kind", ["poll", "multi_poll"])
def test_a_second_ballot_is_refused_and_changes_nothing(request, voter, kind):
    target = request.getfixturevalue(kind)
    services.cast_vote(poll=target, voter=voter, option_ids=pick(target, "Red"))

    with pytest.raises(errors.AlreadyVoted):
        services.cast_vote(poll=target, voter=voter, option_ids=pick(target, "Blue"))

    assert vote_counts(target) == (1, 1, 1)
    assert Ballot.objects.filter(poll=target).count() == 1


def test_an_anonymous_visitor_and_an_account_are_different_voters(poll, other_user):
    services.cast_vote(poll=poll, voter=visitor(1), option_ids=pick(poll, "Red"))
    services.cast_vote(poll=poll, voter=Voter(user=other_user), option_ids=pick(poll, "Red"))
    services.cast_vote(poll=poll, voter=visitor(2), option_ids=pick(poll, "Red"))

    assert vote_counts(poll) == (3, 3, 3)


def test_an_option_of_another_poll_is_refused(poll, multi_poll, voter):
    with pytest.raises(errors.InvalidOption):
        services.cast_vote(poll=poll, voter=voter, option_ids=pick(multi_poll, "Red"))

    with pytest.raises(errors.InvalidOption):
        services.cast_vote(poll=multi_poll, voter=voter, option_ids=pick(multi_poll, "Red") + pick(poll, "Blue"))

    assert not Ballot.objects.exists()
    assert vote_counts(poll) == vote_counts(multi_poll) == (0, 0, 0)


@pytest.mark.parametrize(
    "option_ids", [[], [uuid.uuid4()], [str(uuid.uuid4())]], ids=["none", "unknown", "unknown-str"]
)
def test_missing_or_unknown_options_are_refused(poll, voter, option_ids):
    with pytest.raises(errors.InvalidOption):
        services.cast_vote(poll=poll, voter=voter, option_ids=option_ids)

    assert not Ballot.objects.exists()


def test_a_single_choice_poll_takes_one_option(poll, voter):
    with pytest.raises(errors.TooManyOptions, match="takes one option"):
        services.cast_vote(poll=poll, voter=voter, option_ids=pick(poll, "Red", "Green"))

    assert vote_counts(poll) == (0, 0, 0)


def test_a_multiple_choice_poll_takes_at_most_max_choices(multi_poll, voter):
    with pytest.raises(errors.TooManyOptions, match="at most 2"):
        services.cast_vote(poll=multi_poll, voter=voter, option_ids=pick(multi_poll, "Red", "Green", "Blue"))

    assert vote_counts(multi_poll) == (0, 0, 0)


@pytest.mark.parametrize("how", ["inactive", "expired"])
def test_a_closed_poll_takes_no_votes(owner, voter, how):
    poll = PollFactory(author=owner, expires_at=timezone.now() + timedelta(hours=1))
    close(poll, how)

    with pytest.raises(errors.PollClosed):
        services.cast_vote(poll=poll, voter=voter, option_ids=pick(poll, "Red"))

    assert vote_counts(poll) == (0, 0, 0)


@pytest.mark.parametrize("how", ["inactive", "expired"])
def test_a_poll_closed_while_a_ballot_is_on_its_way_takes_it_not(owner, voter, how):
    """The request found the poll open; it closed before the ballot was written. The ballot box reads the poll
    again under its lock, so the ballot is refused, whatever copy of the poll the request held."""
    poll = PollFactory(author=owner, expires_at=timezone.now() + timedelta(hours=1))
    as_the_request_read_it = Poll.objects.get(pk=poll.pk)
    close(poll, how)

    with pytest.raises(errors.PollClosed):
        services.cast_vote(poll=as_the_request_read_it, voter=voter, option_ids=pick(poll, "Red"))

    assert vote_counts(poll) == (0, 0, 0)
    assert not Ballot.objects.filter(poll=poll).exists()


def test_a_poll_with_a_future_closing_time_is_open(owner, voter):
    poll = PollFactory(author=owner, expires_at=timezone.now() + timedelta(hours=1))

    services.cast_vote(poll=poll, voter=voter, option_ids=pick(poll, "Red"))

    assert vote_counts(poll) == (1, 1, 1)


def test_members_only_polls_refuse_anonymous_votes(owner, other_user):
    poll = PollFactory(author=owner, allow_anonymous=False)

    with pytest.raises(errors.LoginRequired):
        services.cast_vote(poll=poll, voter=visitor(1), option_ids=pick(poll, "Red"))
    services.cast_vote(poll=poll, voter=Voter(user=other_user), option_ids=pick(poll, "Red"))

    assert vote_counts(poll) == (1, 1, 1)


def test_anonymous_ballots_per_address_are_limited(poll, owner, other_user, settings):
    settings.ANONYMOUS_BALLOTS_PER_IP = 2
    services.cast_vote(poll=poll, voter=visitor(1, ip_address="198.51.100.7"), option_ids=pick(poll, "Red"))
    services.cast_vote(poll=poll, voter=visitor(2, ip_address="198.51.100.7"), option_ids=pick(poll, "Red"))

    with pytest.raises(errors.AnonymousLimitReached):
        services.cast_vote(poll=poll, voter=visitor(3, ip_address="198.51.100.7"), option_ids=pick(poll, "Red"))

    # Other addresses, accounts on the same address and other polls are not affected.
    services.cast_vote(poll=poll, voter=visitor(4, ip_address="198.51.100.8"), option_ids=pick(poll, "Red"))
    services.cast_vote(poll=poll, voter=Voter(user=other_user, ip_address="198.51.100.7"), option_ids=pick(poll, "Red"))
    other_poll = PollFactory(author=owner)
    services.cast_vote(poll=other_poll, voter=visitor(3, ip_address="198.51.100.7"), option_ids=pick(other_poll, "Red"))

    assert vote_counts(poll) == (4, 4, 4)


# --- retracting votes ----------------------------------------------------------------------------


def test_retract_ballot_restores_the_counters_and_allows_a_new_vote(multi_poll, voter):
    services.cast_vote(poll=multi_poll, voter=voter, option_ids=pick(multi_poll, "Red", "Green"))

    assert services.retract_ballot(poll=multi_poll, voter=voter) == 2

    assert vote_counts(multi_poll) == (0, 0, 0)
    assert not Ballot.objects.exists()
    services.cast_vote(poll=multi_poll, voter=voter, option_ids=pick(multi_poll, "Blue"))
    assert vote_counts(multi_poll) == (1, 1, 1)


def test_retract_ballot_leaves_other_voters_alone(poll, voter, owner):
    services.cast_vote(poll=poll, voter=voter, option_ids=pick(poll, "Red"))
    services.cast_vote(poll=poll, voter=Voter(user=owner), option_ids=pick(poll, "Red"))

    services.retract_ballot(poll=poll, voter=voter)

    assert vote_counts(poll) == (1, 1, 1)
    assert Ballot.objects.get(poll=poll).user == owner


def test_retracting_without_a_ballot_is_refused(poll, voter):
    with pytest.raises(errors.NotVoted):
        services.retract_ballot(poll=poll, voter=voter)


def test_a_closed_poll_keeps_its_ballots(poll, voter):
    services.cast_vote(poll=poll, voter=voter, option_ids=pick(poll, "Red"))
    close(poll, "inactive")

    with pytest.raises(errors.PollClosed):
        services.retract_ballot(poll=poll, voter=voter)

    assert vote_counts(poll) == (1, 1, 1)


def test_retracting_the_same_vote_twice_counts_once(poll, voter):
    services.cast_vote(poll=poll, voter=voter, option_ids=pick(poll, "Red"))
    votes = Vote.objects.filter(poll=poll)

    assert services.retract_votes(votes=votes) == 1
    assert services.retract_votes(votes=votes) == 0

    assert vote_counts(poll) == (0, 0, 0)


def test_retract_votes_keeps_a_ballot_until_its_last_vote_goes(multi_poll, voter):
    ballot = services.cast_vote(poll=multi_poll, voter=voter, option_ids=pick(multi_poll, "Red", "Green")).ballot

    services.retract_votes(votes=Vote.objects.filter(option__text="Red"))
    assert Ballot.objects.filter(pk=ballot.pk).exists()
    assert vote_counts(multi_poll) == (1, 1, 1)

    services.retract_votes(votes=Vote.objects.filter(option__text="Green"))
    assert not Ballot.objects.filter(pk=ballot.pk).exists()
    assert vote_counts(multi_poll) == (0, 0, 0)


def test_retract_votes_across_polls_moves_each_polls_counters(poll, multi_poll, owner, other_user):
    services.cast_vote(poll=poll, voter=Voter(user=owner), option_ids=pick(poll, "Red"))
    services.cast_vote(poll=poll, voter=Voter(user=other_user), option_ids=pick(poll, "Red"))
    services.cast_vote(poll=multi_poll, voter=Voter(user=other_user), option_ids=pick(multi_poll, "Red", "Blue"))

    assert services.retract_votes(votes=Vote.objects.filter(ballot__user=other_user)) == 3

    assert vote_counts(poll) == (1, 1, 1)
    assert vote_counts(multi_poll) == (0, 0, 0)


# --- likes ----------------------------------------------------------------------------------------


def test_like_and_unlike_move_the_count(poll, voter):
    like = services.like_poll(poll=poll, voter=voter)

    assert (like.user, like.anon_id) == (voter.user, voter.anon_id)
    assert like_counts(poll) == (1, 1)

    services.unlike_poll(poll=poll, voter=voter)

    assert like_counts(poll) == (0, 0)


def test_a_second_like_is_refused(poll, voter):
    services.like_poll(poll=poll, voter=voter)

    with pytest.raises(errors.AlreadyLiked):
        services.like_poll(poll=poll, voter=voter)

    assert like_counts(poll) == (1, 1)


def test_unliking_without_a_like_is_refused(poll, voter, owner):
    services.like_poll(poll=poll, voter=Voter(user=owner))

    with pytest.raises(errors.NotLiked):
        services.unlike_poll(poll=poll, voter=voter)

    assert like_counts(poll) == (1, 1)


def test_removing_the_same_like_twice_counts_once(poll, voter):
    services.like_poll(poll=poll, voter=voter)
    likes = Like.objects.filter(poll=poll)

    assert services.remove_likes(likes=likes) == 1
    assert services.remove_likes(likes=likes) == 0

    assert like_counts(poll) == (0, 0)


def test_closed_and_members_only_polls_refuse_likes(poll, owner, voter):
    members_only = PollFactory(author=owner, allow_anonymous=False)
    close(poll, "expired")

    with pytest.raises(errors.PollClosed):
        services.like_poll(poll=poll, voter=voter)
    with pytest.raises(errors.LoginRequired):
        services.like_poll(poll=members_only, voter=visitor(1))

    assert not Like.objects.exists()


# --- update_poll, set_poll_active, delete_poll ----------------------------------------------------


def test_the_owner_updates_a_poll(poll, owner):
    updated = services.update_poll(poll=poll, actor=owner, title="  New title ", is_public=False)

    poll.refresh_from_db()
    assert updated == poll
    assert (poll.title, poll.is_public) == ("New title", False)


def test_staff_may_update_any_poll(poll, staff_user):
    services.update_poll(poll=poll, actor=staff_user, title="Retitled by staff")

    poll.refresh_from_db()
    assert poll.title == "Retitled by staff"


@pytest.mark.parametrize(
    ("actor", "error"),
    [("other_user", errors.NotOwner), (None, errors.LoginRequired), (AnonymousUser(), errors.LoginRequired)],
)
def test_only_the_owner_or_staff_may_manage_a_poll(poll, request, actor, error):
    if isinstance(actor, str):
        actor = request.getfixturevalue(actor)

    with pytest.raises(error):
        services.update_poll(poll=poll, actor=actor, title="Hijacked")
    with pytest.raises(error):
        services.set_poll_active(poll=poll, actor=actor, active=False)
    with pytest.raises(error):
        services.delete_poll(poll=poll, actor=actor)

    poll.refresh_from_db()
    assert poll.title != "Hijacked"
    assert poll.is_active


def test_options_change_while_there_are_no_votes(poll, owner):
    services.update_poll(poll=poll, actor=owner, options=["Cyan", "Magenta"])

    assert list(poll.options.values_list("text", flat=True)) == ["Cyan", "Magenta"]


def test_options_are_locked_once_there_are_votes(poll, owner, voter):
    services.cast_vote(poll=poll, voter=voter, option_ids=pick(poll, "Red"))

    with pytest.raises(errors.OptionsLocked):
        services.update_poll(poll=poll, actor=owner, options=["Red", "Green", "Purple"])
    # Sending the same options back with another change is fine.
    services.update_poll(poll=poll, actor=owner, options=["Red", "Green", "Blue"], title="Still colours")

    poll.refresh_from_db()
    assert list(poll.options.values_list("text", flat=True)) == ["Red", "Green", "Blue"]
    assert poll.title == "Still colours"
    assert vote_counts(poll) == (1, 1, 1)


@pytest.mark.parametrize("change", [{"allow_multiple": True}, {"method": "ranked"}, {"method": "score"}])
def test_a_poll_with_votes_keeps_its_voting_method(poll, owner, voter, change):
    services.cast_vote(poll=poll, voter=voter, option_ids=pick(poll, "Red"))

    with pytest.raises(errors.InvalidPoll) as caught:
        services.update_poll(poll=poll, actor=owner, **change)

    assert list(caught.value.fields) == ["method"]
    poll.refresh_from_db()
    assert poll.allow_multiple is False


def test_switching_to_single_choice_drops_max_choices(multi_poll, owner):
    services.update_poll(poll=multi_poll, actor=owner, allow_multiple=False)

    multi_poll.refresh_from_db()
    assert (multi_poll.allow_multiple, multi_poll.max_choices, multi_poll.choice_limit) == (False, None, 1)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"options": ["Only one"]}, "options"),
        ({"title": " "}, "title"),
        ({"max_choices": 4}, "max_choices"),
        ({"expires_at": timezone.now() - timedelta(seconds=1)}, "expires_at"),
    ],
)
def test_update_poll_refuses_invalid_changes(multi_poll, owner, changes, field):
    with pytest.raises(errors.InvalidPoll) as caught:
        services.update_poll(poll=multi_poll, actor=owner, **changes)

    assert field in caught.value.fields
    multi_poll.refresh_from_db()
    assert multi_poll.options.count() == 3
    assert multi_poll.max_choices == 2


def test_an_expired_poll_can_still_be_retitled(poll, owner):
    close(poll, "expired")

    services.update_poll(poll=poll, actor=owner, title="Closed poll")

    poll.refresh_from_db()
    assert poll.title == "Closed poll"


def test_update_poll_refuses_fields_that_are_not_editable(poll, owner):
    with pytest.raises(ValueError, match="total_votes"):
        services.update_poll(poll=poll, actor=owner, total_votes=100)


def test_set_poll_active_closes_and_reopens_a_poll(poll, owner, staff_user, voter):
    assert services.set_poll_active(poll=poll, actor=owner, active=False).is_active is False
    with pytest.raises(errors.PollClosed):
        services.cast_vote(poll=poll, voter=voter, option_ids=pick(poll, "Red"))

    assert services.set_poll_active(poll=poll, actor=staff_user, active=True).is_active is True
    services.cast_vote(poll=poll, voter=voter, option_ids=pick(poll, "Red"))
    assert vote_counts(poll) == (1, 1, 1)


def test_the_owner_deletes_a_poll_with_everything_on_it(poll, owner, voter):
    services.cast_vote(poll=poll, voter=voter, option_ids=pick(poll, "Red"))
    services.like_poll(poll=poll, voter=voter)

    services.delete_poll(poll=poll, actor=owner)

    assert not Poll.objects.exists()
    assert not Option.objects.exists() and not Ballot.objects.exists() and not Like.objects.exists()


# --- reports --------------------------------------------------------------------------------------


def test_report_poll_opens_a_report(poll, other_user):
    report = services.report_poll(poll=poll, reporter=other_user, reason=Report.Reason.SPAM, note="  Ads.  ")

    assert (report.status, report.note, report.handled_by) == (Report.Status.OPEN, "Ads.", None)


def test_a_second_open_report_is_refused(poll, other_user, moderator):
    services.report_poll(poll=poll, reporter=other_user, reason=Report.Reason.SPAM)

    with pytest.raises(errors.AlreadyReported):
        services.report_poll(poll=poll, reporter=other_user, reason=Report.Reason.ABUSE)

    services.handle_reports(reports=Report.objects.all(), moderator=moderator, status=Report.Status.DISMISSED)
    services.report_poll(poll=poll, reporter=other_user, reason=Report.Reason.ABUSE)
    assert Report.objects.filter(poll=poll, reporter=other_user).count() == 2


def test_a_report_needs_a_known_reason(poll, other_user):
    with pytest.raises(errors.PollError, match="Choose a reason"):
        services.report_poll(poll=poll, reporter=other_user, reason="boring")

    assert not Report.objects.exists()


def test_handle_reports_only_touches_open_reports(poll, owner, other_user, staff_user, moderator):
    dismissed = services.report_poll(poll=poll, reporter=staff_user, reason=Report.Reason.SPAM)
    services.handle_reports(reports=Report.objects.all(), moderator=staff_user, status=Report.Status.DISMISSED)
    still_open = services.report_poll(poll=poll, reporter=other_user, reason=Report.Reason.ABUSE)

    handled = services.handle_reports(reports=Report.objects.all(), moderator=moderator, status=Report.Status.RESOLVED)

    assert handled == 1
    dismissed.refresh_from_db()
    still_open.refresh_from_db()
    assert (dismissed.status, dismissed.handled_by) == (Report.Status.DISMISSED, staff_user)
    assert (still_open.status, still_open.handled_by) == (Report.Status.RESOLVED, moderator)
    assert still_open.handled_at is not None


def test_handle_reports_only_resolves_or_dismisses(poll, other_user, moderator):
    services.report_poll(poll=poll, reporter=other_user, reason=Report.Reason.SPAM)

    with pytest.raises(ValueError):
        services.handle_reports(reports=Report.objects.all(), moderator=moderator, status=Report.Status.OPEN)

    assert Report.objects.get().status == Report.Status.OPEN
