"""polls.permissions: who manages a poll, who may vote, watch it and see its results, and the API's IsPollManager."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from rest_framework.test import APIRequestFactory

from polls import errors
from polls.models import Poll
from polls.permissions import (
    IsPollManager,
    can_manage,
    can_see_private_lists,
    can_see_results,
    can_vote,
    require_manager,
)
from polls.tests.factories import PollFactory

pytestmark = pytest.mark.django_db

VIEWERS = ["nobody", "anonymous", "other user", "author", "staff"]
MANAGERS = {"author", "staff"}


@pytest.fixture
def people(owner, other_user, staff_user):
    return {"nobody": None, "anonymous": AnonymousUser(), "other user": other_user, "author": owner, "staff": staff_user}


def set_state(poll: Poll, *, active: bool = True, expires_in: timedelta | None = None) -> Poll:
    Poll.objects.filter(pk=poll.pk).update(
        is_active=active, expires_at=None if expires_in is None else timezone.now() + expires_in
    )
    return Poll.objects.get(pk=poll.pk)


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("listed", [True, False])
def test_the_author_and_staff_manage_a_poll_listed_or_not(owner, people, viewer, listed):
    poll = PollFactory(author=owner, is_public=listed)

    assert can_manage(people[viewer], poll) is (viewer in MANAGERS)


@pytest.mark.parametrize(
    "viewer, refusal", [("nobody", errors.LoginRequired), ("anonymous", errors.LoginRequired), ("other user", errors.NotOwner)]
)
def test_require_manager_refuses_others_with_the_domain_error(poll, people, viewer, refusal):
    with pytest.raises(refusal):
        require_manager(poll, people[viewer])


@pytest.mark.parametrize("viewer", sorted(MANAGERS))
def test_require_manager_lets_managers_through(poll, people, viewer):
    assert require_manager(poll, people[viewer]) is None


@pytest.mark.parametrize("viewer", VIEWERS)
def test_a_users_private_lists_are_theirs_and_staffs(owner, people, viewer):
    assert can_see_private_lists(people[viewer], owner) is (viewer in MANAGERS)


@pytest.mark.parametrize(
    "state, viewer, has_voted, anonymous_allowed, expected",
    [
        ("open", "anonymous", False, True, True),
        ("open", "nobody", False, True, True),
        ("open", "anonymous", False, False, False),
        ("open", "other user", False, False, True),
        ("open", "other user", True, True, False),
        ("closes later", "other user", False, True, True),
        ("closed", "other user", False, True, False),
        ("expired", "anonymous", False, True, False),
        ("expired", "author", False, True, False),
    ],
)
def test_can_vote_offers_a_ballot_only_while_the_poll_is_open_to_this_visitor(
    owner, people, state, viewer, has_voted, anonymous_allowed, expected
):
    poll = set_state(
        PollFactory(author=owner, allow_anonymous=anonymous_allowed),
        active=state != "closed",
        expires_in={"closes later": timedelta(hours=1), "expired": -timedelta(minutes=1)}.get(state),
    )

    assert can_vote(people[viewer], poll, has_voted=has_voted) is expected


ALWAYS, AFTER_VOTE, AFTER_CLOSE, OWNER_ONLY = Poll.ResultsVisibility


@pytest.mark.parametrize(
    "rule, is_open, has_voted, outsider_sees",
    [
        (ALWAYS, True, False, True),
        (AFTER_VOTE, True, False, False),
        (AFTER_VOTE, True, True, True),
        (AFTER_VOTE, False, False, True),
        (AFTER_CLOSE, True, True, False),
        (AFTER_CLOSE, False, False, True),
        (OWNER_ONLY, True, True, False),
        (OWNER_ONLY, False, True, False),
    ],
)
@pytest.mark.parametrize("viewer", VIEWERS)
def test_results_follow_the_polls_rule_and_its_managers_always_see_them(
    owner, people, rule, is_open, has_voted, outsider_sees, viewer
):
    poll = set_state(PollFactory(author=owner, results_visibility=rule), active=is_open)

    expected = True if viewer in MANAGERS else outsider_sees
    assert can_see_results(poll=poll, user=people[viewer], has_voted=has_voted) is expected


# --- IsPollManager ------------------------------------------------------------------------------


def checked(poll, user):
    request = APIRequestFactory().get("/")
    request.user = user
    return IsPollManager().has_object_permission(request, None, poll)


@pytest.mark.parametrize(
    "viewer, outcome",
    [
        ("anonymous", errors.LoginRequired),
        ("other user", errors.NotOwner),
        ("author", True),
        ("staff", True),
    ],
)
def test_is_poll_manager_is_can_manage_with_the_domain_errors(poll, people, viewer, outcome):
    if outcome is True:
        assert checked(poll, people[viewer]) is True
    else:
        with pytest.raises(outcome):
            checked(poll, people[viewer])


@pytest.mark.parametrize(
    "viewer, status, code",
    [("anonymous", 401, "login_required"), ("other user", 403, "not_owner"), ("author", 200, None), ("staff", 200, None)],
)
def test_the_export_action_answers_as_is_poll_manager_says(client_for, poll, people, viewer, status, code):
    user = people[viewer]
    response = client_for(None if viewer == "anonymous" else user).get(f"/api/polls/{poll.pk}/export")

    assert response.status_code == status
    if code:
        assert response.json()["code"] == code
