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


class ChallengeRequired(PollError):
    """This anonymous ballot needs a solved proof-of-work challenge (polls.bot_defence); where to get one."""

    code = "challenge_required"
    status = 428
    message = "This poll asks anonymous voters to solve a small proof-of-work challenge first."

    def __init__(self, challenge_url: str):
        super().__init__(f"{self.message} Get one from {challenge_url} and send its solution in X-Altcha.")
        self.challenge_url = challenge_url

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Altcha-Challenge": self.challenge_url}


class ChallengeInvalid(PollError):
    code = "challenge_invalid"
    status = 400
    message = "The proof-of-work solution is not valid: malformed, expired, for another poll, or wrong."


class ChallengeUsed(PollError):
    code = "challenge_used"
    status = 409
    message = "This proof-of-work challenge has already been used; solve a new one."
