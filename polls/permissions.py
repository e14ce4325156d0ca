"""Who may do what with a poll: one function per rule, for the pages, the services, the API and the sockets.

The query forms of these rules are PollQuerySet's (Poll.objects.listed_for(viewer)); tests hold the two together.

Opening and watching a poll needs no rule of its own: anyone holding its link may open its page,
read it over the API and follow it live on /ws/poll, unlisted polls too. Unlisted only keeps a
poll out of lists, searches and totals (listed_for); what a watcher sees of the results is
can_see_results.
"""

from rest_framework.permissions import BasePermission

from accounts.models import User
from polls import errors
from polls.models import Poll
from polls.voters import Voter


def _acts_for(user: User | None, account_id) -> bool:
    """The account itself, or a moderator (staff) acting for it."""
    return user is not None and user.is_authenticated and (user.is_staff or user.pk == account_id)


def can_manage(user: User | None, poll: Poll) -> bool:
    """The author and moderators may edit, close, delete and export a poll, and see who voted."""
    return _acts_for(user, poll.author_id)


def require_manager(poll: Poll, actor: User | None) -> None:
    """Raises LoginRequired or NotOwner unless the actor may manage the poll."""
    if actor is None or not actor.is_authenticated:
        raise errors.LoginRequired()
    if not can_manage(actor, poll):
        raise errors.NotOwner()


def require_voter_or_moderator(record, voter: Voter | None, actor: User | None) -> bool:
    """Who may take back a ballot's vote or a like: its own voter, or a moderator. Returns whether
    the actor acts as a moderator (who may do so on closed polls too); raises NotOwner for anyone else."""
    as_moderator = actor is not None and actor.is_authenticated and actor.is_staff
    if not as_moderator and (voter is None or not voter.owns(record)):
        raise errors.NotOwner("Only the voter or a moderator can take this back.")
    return as_moderator


def can_see_private_lists(viewer: User | None, person: User) -> bool:
    """A user's votes, likes and unlisted polls are theirs and the moderators' to see."""
    return _acts_for(viewer, person.pk)


def _why_not_take_part(poll: Poll, *, signed_in: bool) -> errors.PollError | None:
    """Why a visitor may not vote, take a vote back or like this poll now; None if they may."""
    if not poll.is_open:
        return errors.PollClosed()
    if not signed_in and not poll.allow_anonymous:
        return errors.LoginRequired("Log in to take part in this poll.")
    return None


def require_can_take_part(poll: Poll, voter: Voter) -> None:
    """Raises PollClosed or LoginRequired unless the voter may take part in the poll now (the services ask)."""
    refusal = _why_not_take_part(poll, signed_in=not voter.is_anonymous)
    if refusal is not None:
        raise refusal


def can_vote(user: User | None, poll: Poll, *, has_voted: bool) -> bool:
    """Whether to offer this visitor a ballot now (the page and the API say so); the services refuse the rest."""
    signed_in = user is not None and user.is_authenticated
    return not has_voted and _why_not_take_part(poll, signed_in=signed_in) is None


def can_see_results(*, poll: Poll, user: User | None, has_voted: bool) -> bool:
    """The poll's results_visibility rule; its managers always see the results, except a secret poll's
    while it is open (counts moving after each ballot would tell its author who chose what)."""
    if poll.is_secret and poll.is_open:
        return False
    rule = poll.results_visibility
    if can_manage(user, poll) or rule == Poll.ResultsVisibility.ALWAYS:
        return True
    if rule == Poll.ResultsVisibility.AFTER_VOTE:
        return has_voted or not poll.is_open
    if rule == Poll.ResultsVisibility.AFTER_CLOSE:
        return not poll.is_open
    return False


class IsPollManager(BasePermission):
    """API actions on a poll that only its author and moderators may take (can_manage).

    Refusals raise the domain errors, so the API answers login_required (401) or not_owner (403)
    as the services do for the same rule.
    """

    def has_object_permission(self, request, view, obj: Poll) -> bool:
        require_manager(obj, request.user)
        return True
