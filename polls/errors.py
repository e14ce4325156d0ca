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


class SecretBallotFinal(PollError):
    code = "secret_ballot_final"
    status = 409
    message = "This poll is secret: a ballot cannot be changed or taken back once cast."


class SecretBallotLocked(PollError):
    code = "secret_ballot_locked"
    status = 409
    message = "A poll can be made secret, or ordinary again, only before its first ballot."


class NotSecret(PollError):
    code = "not_found"
    status = 404
    message = "Only secret polls have receipts and a public ballot list."


class ReceiptNotFound(PollError):
    code = "not_found"
    status = 404
    message = "No ballot of this poll has that receipt. Check the code as it was shown to you."
