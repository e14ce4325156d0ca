"""Domain errors raised by polls.services."""

from quickpoll.errors import DomainError


class PollError(DomainError):
    pass


class InvalidPoll(PollError):
    """A poll's content breaks a rule; `fields` says which field and why."""

    message = "The poll is not valid."

    def __init__(self, fields: dict[str, list[str]]):
        super().__init__()
        self.fields = fields


class AlreadyVoted(PollError):
    code = "already_voted"
    status = 409
    message = "You have already voted on this poll."


class AlreadyLiked(PollError):
    code = "already_liked"
    status = 409
    message = "You already like this poll."


class AlreadyReported(PollError):
    code = "already_reported"
    status = 409
    message = "You have already reported this poll; moderators will look at it."


class NotVoted(PollError):
    code = "not_found"
    status = 404
    message = "You have not voted on this poll."


class NotLiked(PollError):
    code = "not_found"
    status = 404
    message = "You do not like this poll."


class PollClosed(PollError):
    code = "poll_closed"
    status = 403
    message = "This poll is closed."


class InvalidOption(PollError):
    code = "invalid_option"
    status = 400
    message = "Pick options of this poll."


class TooManyOptions(PollError):
    code = "too_many_options"
    status = 400
    message = "Too many options picked."


class LoginRequired(PollError):
    code = "login_required"
    status = 401
    message = "Log in to do this."


class NotOwner(PollError):
    code = "not_owner"
    status = 403
    message = "Only the poll's author or a moderator can do this."


class OptionsLocked(PollError):
    code = "options_locked"
    status = 409
    message = "Options cannot change once the poll has votes."


class AnonymousLimitReached(PollError):
    code = "anonymous_limit"
    status = 429
    message = "Too many anonymous ballots from this network on this poll."


class InvalidAnonId(PollError):
    code = "invalid_anon_id"
    status = 400
    message = "X-Anon-Id must be 16 to 64 letters, digits, '-' or '_'."


class ResultsHidden(PollError):
    code = "results_hidden"
    status = 403
    message = "This poll's results are not visible to you yet."


class InviteRequired(PollError):
    code = "invite_required"
    status = 403
    message = "This poll is invite-only: open the link from your invite to vote."


class InviteInvalid(PollError):
    code = "invite_invalid"
    status = 403
    message = "This invite is not one of this poll's. Check the link you were sent."


class InviteRevoked(PollError):
    code = "invite_revoked"
    status = 403
    message = "This invite was revoked by the poll's author."


class InviteUsed(PollError):
    code = "invite_used"
    status = 409
    message = "This invite has already been used to vote."


class InvalidInvites(InvalidPoll):
    """A request for invites breaks a rule; `fields` says which field and why."""

    message = "The invites cannot be made."
