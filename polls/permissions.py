"""Who may do what with a poll: one function per rule, for the pages, the services, the API and the sockets.

The query forms of these rules are PollQuerySet's (Poll.objects.listed_for(viewer)); tests hold the two together.

Opening and watching a poll needs no rule of its own: anyone holding its link may open its page,
read it over the API and follow it live on /ws/poll, unlisted polls too. Unlisted only keeps a
poll out of lists, searches and totals (listed_for); what a watcher sees of the results is
can_see_results.
"""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from accounts.errors import EmailNotVerified
from accounts.models import User
from polls import errors
from polls.models import Invite, Poll
from polls.voters import Voter


def may_create_polls(user: User) -> bool:
    """REQUIRE_VERIFIED_EMAIL_TO_CREATE: only accounts whose address is confirmed create polls."""
    return user.is_verified or not settings.REQUIRE_VERIFIED_EMAIL_TO_CREATE


def require_may_create_polls(user: User) -> None:
    if not may_create_polls(user):
        raise EmailNotVerified()


def _acts_for(user: User | None, account_id) -> bool:
    """The account itself, or a moderator (staff) acting for it."""
    return user is not None and user.is_authenticated and (user.is_staff or user.pk == account_id)


def is_moderator(user: User | None) -> bool:
    """Moderators are staff accounts (the admin's moderators group, or superusers)."""
    return user is not None and user.is_authenticated and user.is_staff


def require_moderator(actor: User | None) -> None:
    if actor is None or not actor.is_authenticated:
        raise errors.LoginRequired()
    if not is_moderator(actor):
        raise errors.ModeratorsOnly()


def acts_as_moderator(user: User | None, poll: Poll) -> bool:
    """A moderator acting on someone else's poll: what the audit log records and MODERATOR_EDITABLE_FIELDS limits."""
    return is_moderator(user) and user.pk != poll.author_id


# What an author may change on their own poll (is_active through open/close, the rest through an edit).
AUTHOR_EDITABLE_FIELDS = frozenset(
    {
        "title",
        "description",
        "options",
        "method",
        "allow_multiple",
        "min_choices",
        "max_choices",
        "score_min",
        "score_max",
        "allow_write_ins",
        "write_ins_need_approval",
        "answer_max_length",
        "answers_per_voter",
        "filter_profanity",
        "is_public",
        "allow_anonymous",
        "invite_only",
        "is_secret",
        "bot_protection",
        "results_visibility",
        "expires_at",
        "is_active",
        "embed_origins",
    }
)
# Moderators fix a title, unlist or close someone else's poll; how it votes and shows results stays its author's.
MODERATOR_EDITABLE_FIELDS = frozenset({"title", "description", "is_public", "is_active"})
# On hold, the author may still fix what the moderators objected to; opening and listing wait for the lift.
HELD_EDITABLE_FIELDS = frozenset({"title", "description", "options"})


def _fields_for(user: User | None, poll: Poll) -> frozenset[str]:
    if user is None or not user.is_authenticated:
        return frozenset()
    if user.pk == poll.author_id:
        return AUTHOR_EDITABLE_FIELDS
    return MODERATOR_EDITABLE_FIELDS if is_moderator(user) else frozenset()


def editable_fields(user: User | None, poll: Poll) -> frozenset[str]:
    """The one rule for which fields of a poll this user may change: the API, the edit page and the admin ask it."""
    fields = _fields_for(user, poll)
    return fields & HELD_EDITABLE_FIELDS if poll.is_held else fields


def require_editable(poll: Poll, actor: User | None, changed) -> None:
    """Raises NotEditable or ModerationHold unless the actor may change every one of these fields now."""
    refused = sorted(set(changed) - _fields_for(actor, poll))
    if refused:
        raise errors.NotEditable(
            {field: [_("Only the poll's author can change this.")] for field in refused},
            _("You may change only %(fields)s of this poll.") % {"fields": ", ".join(sorted(_fields_for(actor, poll)))},
        )
    held = sorted(set(changed) - editable_fields(actor, poll))
    if held:
        raise errors.ModerationHold(poll, {field: [_("Locked while the poll is on hold.")] for field in held})


def can_manage(user: User | None, poll: Poll) -> bool:
    """The author and moderators may edit, close, delete and export a poll, and see who voted."""
    return _acts_for(user, poll.author_id)


def require_manager(poll: Poll, actor: User | None) -> None:
    """Raises LoginRequired or NotOwner unless the actor may manage the poll."""
    if actor is None or not actor.is_authenticated:
        raise errors.LoginRequired()
    if not can_manage(actor, poll):
        raise errors.NotOwner()


def require_deck_owner(deck, actor: User | None) -> None:
    """A deck is its author's, and moderators': the same rule as a poll's managers."""
    if actor is None or not actor.is_authenticated:
        raise errors.LoginRequired()
    if not _acts_for(actor, deck.author_id):
        raise errors.NotDeckOwner()


def require_voter_or_moderator(record, voter: Voter | None, actor: User | None) -> bool:
    """Who may take back a ballot's vote or a like: its own voter, or a moderator. Returns whether
    the actor acts as a moderator (who may do so on closed polls too); raises NotOwner for anyone else."""
    as_moderator = actor is not None and actor.is_authenticated and actor.is_staff
    if not as_moderator and (voter is None or not voter.owns(record)):
        raise errors.NotOwner(_("Only the voter or a moderator can take this back."))
    return as_moderator


def can_report(user: User | None, poll: Poll) -> bool:
    """Any account may report a poll to the moderators, except its author, who may edit, close or delete it."""
    return user is not None and user.is_authenticated and user.pk != poll.author_id


def require_can_report(poll: Poll, reporter: User | None) -> None:
    """Raises LoginRequired or OwnPollReport unless the reporter may report this poll (can_report)."""
    if reporter is None or not reporter.is_authenticated:
        raise errors.LoginRequired()
    if not can_report(reporter, poll):
        raise errors.OwnPollReport()


def can_see_private_lists(viewer: User | None, person: User) -> bool:
    """A user's votes, likes and unlisted polls are theirs and the moderators' to see."""
    return _acts_for(viewer, person.pk)


def _why_not_take_part(poll: Poll, *, signed_in: bool) -> errors.PollError | None:
    """Why a visitor may not vote, take a vote back or like this poll now; None if they may."""
    if not poll.is_open:
        return errors.PollClosed()
    if not signed_in and not poll.allow_anonymous:
        return errors.LoginRequired(_("Log in to take part in this poll."))
    return None


def _why_invite_refused(poll: Poll, token: str, voter: Voter | None) -> tuple[Invite | None, errors.PollError | None]:
    """On an invite-only poll: the invite this token names and why it does not admit the voter (None if it does).

    An invite admits a ballot while no other voter's ballot holds it; its own voter keeps it, so they may
    take their ballot back, vote again or like with it, even after it is revoked.
    """
    if not poll.invite_only:
        return None, None
    if not token:
        return None, errors.InviteRequired()
    invite = Invite.objects.filter(poll=poll, token=token).select_related("ballot").first()
    if invite is None:
        return None, errors.InviteInvalid()
    ballot = getattr(invite, "ballot", None)
    if ballot is not None:
        return invite, None if voter is not None and voter.owns(ballot) else errors.InviteUsed()
    if invite.is_revoked:
        return invite, errors.InviteRevoked()
    return invite, None


def require_can_take_part(poll: Poll, voter: Voter) -> Invite | None:
    """Raises PollClosed, LoginRequired or an invite's refusal unless the voter may take part in the poll now
    (the services ask). Returns the invite that admits them on an invite-only poll (voter.invite names it)."""
    refusal = _why_not_take_part(poll, signed_in=not voter.is_anonymous)
    if refusal is not None:
        raise refusal
    invite, refusal = _why_invite_refused(poll, voter.invite, voter)
    if refusal is not None:
        raise refusal
    return invite


def can_vote(user: User | None, poll: Poll, *, has_voted: bool, invite: str = "") -> bool:
    """Whether to offer this visitor a ballot now (the page and the API say so); the services refuse the rest.

    `invite` is the token the visitor holds for an invite-only poll (the page knows it; the API's poll
    reader does not ask for one, so there an invite-only poll is offered to no one).
    """
    signed_in = user is not None and user.is_authenticated
    if has_voted or _why_not_take_part(poll, signed_in=signed_in) is not None:
        return False
    return invite_refusal(poll, invite) is None


def can_change_vote(user: User | None, poll: Poll, *, has_voted: bool) -> bool:
    """Whether to offer a voter to change their ballot now: a secret ballot is final; the services refuse the rest."""
    signed_in = user is not None and user.is_authenticated
    return has_voted and not poll.is_secret and _why_not_take_part(poll, signed_in=signed_in) is None


def can_suggest_option(user: User | None, poll: Poll, *, voter: Voter | None, invite: str = "") -> bool:
    """Whether to offer this visitor the "suggest an option" form: the poll takes write-ins (never a secret one)
    and they may take part now, voted or not. polls.services.suggest_option refuses the rest."""
    signed_in = user is not None and user.is_authenticated
    if not poll.allow_write_ins or poll.is_secret or _why_not_take_part(poll, signed_in=signed_in) is not None:
        return False
    return _why_invite_refused(poll, invite, voter)[1] is None


def invite_refusal(poll: Poll, invite: str) -> errors.PollError | None:
    """Why the invite token a visitor holds would not admit a new ballot on this poll now (None: it would)."""
    return _why_invite_refused(poll, invite, None)[1]


def can_see_which_invites_were_used(user: User | None, poll: Poll) -> bool:
    """Whether an invite's list shows, per invite, whether it was used: it names who took part.

    The poll's managers see who voted on it (can_manage), so they see this too, except on a secret
    poll; the totals of used and unused invites are theirs on every poll.
    """
    return can_manage(user, poll) and not poll.is_secret


def can_see_results(*, poll: Poll, user: User | None, has_voted: bool) -> bool:
    """The poll's results_visibility rule, or a presenter's reveal or hide while presenting; its managers
    always see the results, except a secret poll's while it is open (counts moving after each ballot would
    tell its author who chose what, so no presenter reveals those either)."""
    if poll.is_secret and poll.is_open:
        return False
    if can_manage(user, poll):
        return True
    if poll.is_presenting and poll.audience_results != Poll.AudienceResults.RULE:
        # A presenter's reveal or hide holds for everyone in the room until presenting ends.
        return poll.audience_results == Poll.AudienceResults.SHOWN
    rule = poll.results_visibility
    if rule == Poll.ResultsVisibility.ALWAYS:
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
