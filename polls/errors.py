"""Domain errors raised by polls.services."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from quickpoll.errors import DomainError


class PollError(DomainError):
    pass


class FieldsError(PollError):
    """A refusal about some fields; `fields` says which and why."""

    def __init__(self, fields: dict[str, list[str]] | None, message: str | None = None):
        super().__init__(message)
        self.fields = fields


class InvalidPoll(FieldsError):
    """A poll's content breaks a rule."""

    message = _("The poll is not valid.")


class AlreadyVoted(PollError):
    code = "already_voted"
    status = 409
    message = _("You have already voted on this poll.")


class AlreadyLiked(PollError):
    code = "already_liked"
    status = 409
    message = _("You already like this poll.")


class AlreadyReported(PollError):
    code = "already_reported"
    status = 409
    message = _("You have already reported this poll; moderators will look at it.")


class NotVoted(PollError):
    code = "not_found"
    status = 404
    message = _("You have not voted on this poll.")


class NotLiked(PollError):
    code = "not_found"
    status = 404
    message = _("You do not like this poll.")


class PollClosed(PollError):
    code = "poll_closed"
    status = 403
    message = _("This poll is closed.")


class InvalidOption(PollError):
    code = "invalid_option"
    status = 400
    message = _("Pick options of this poll.")


class TooManyOptions(PollError):
    code = "too_many_options"
    status = 400
    message = _("Too many options picked.")


class TooFewOptions(PollError):
    code = "too_few_options"
    status = 400
    message = _("Too few options picked.")


class DuplicateOption(PollError):
    code = "duplicate_option"
    status = 400
    message = _("An option appears twice in your ranking: rank each option once.")


class ScoreOutOfRange(PollError):
    code = "score_out_of_range"
    status = 400
    message = _("A score is outside this poll's range.")


class WrongBallotShape(PollError):
    code = "wrong_ballot_shape"
    status = 400
    message = _("This poll takes another kind of ballot.")


class LoginRequired(PollError):
    code = "login_required"
    status = 401
    message = _("Log in to do this.")


class NotOwner(PollError):
    code = "not_owner"
    status = 403
    message = _("Only the poll's author or a moderator can do this.")


class OwnPollReport(PollError):
    code = "own_poll"
    status = 403
    message = _("You cannot report your own poll: edit it, close it or delete it instead.")


class OptionsLocked(PollError):
    code = "options_locked"
    status = 409
    message = _("Options cannot change once the poll has votes.")


class AnonymousLimitReached(PollError):
    code = "anonymous_limit"
    status = 429
    message = _("Too many anonymous ballots from this network on this poll.")


class InvalidAnonId(PollError):
    code = "invalid_anon_id"
    status = 400
    message = _("X-Anon-Id must be 16 to 64 letters, digits, '-' or '_'.")


class ResultsHidden(PollError):
    code = "results_hidden"
    status = 403
    message = _("This poll's results are not visible to you yet.")


class InviteRequired(PollError):
    code = "invite_required"
    status = 403
    message = _("This poll is invite-only: open the link from your invite to vote.")


class InviteInvalid(PollError):
    code = "invite_invalid"
    status = 403
    message = _("This invite is not one of this poll's. Check the link you were sent.")


class InviteRevoked(PollError):
    code = "invite_revoked"
    status = 403
    message = _("This invite was revoked by the poll's author.")


class InviteUsed(PollError):
    code = "invite_used"
    status = 409
    message = _("This invite has already been used to vote.")


class InvalidInvites(InvalidPoll):
    """A request for invites breaks a rule; `fields` says which field and why."""

    message = _("The invites cannot be made.")


class NotEditable(FieldsError):
    """Fields the actor may not change on this poll (polls.permissions.editable_fields)."""

    code = "not_editable"
    status = 403
    message = _("You may not change these fields of this poll.")


class ModerationHold(FieldsError):
    code = "moderation_hold"
    status = 409
    message = _("Moderators have put this poll on hold; only they can lift it.")

    def __init__(self, poll=None, fields: dict[str, list[str]] | None = None):
        reason = gettext(" Reason: %(reason)s") % {"reason": poll.hold_reason} if poll is not None and poll.hold_reason else ""
        super().__init__(fields, f"{self.message}{reason}")


class NotHeld(PollError):
    code = "not_held"
    status = 409
    message = _("This poll is not on hold.")


class AlreadyHeld(PollError):
    code = "already_held"
    status = 409
    message = _("This poll is already on hold.")


class ModeratorsOnly(PollError):
    code = "forbidden"
    status = 403
    message = _("Only moderators can do this.")


class BallotVoided(PollError):
    code = "ballot_voided"
    status = 403
    message = _("Moderators voided your ballot on this poll; you cannot vote on it again.")


class SecretBallotFinal(PollError):
    code = "secret_ballot_final"
    status = 409
    message = _("This poll is secret: a ballot cannot be changed or taken back once cast.")


class SecretPollFinal(PollError):
    code = "secret_poll_closed"
    status = 409
    message = _("This secret poll closed with ballots in it: it cannot be reopened, or its results would tell who chose what.")


class SecretBallotLocked(PollError):
    code = "secret_ballot_locked"
    status = 409
    message = _("A poll can be made secret, or ordinary again, only before its first ballot.")


class NotSecret(PollError):
    code = "not_found"
    status = 404
    message = _("Only secret polls have receipts and a public ballot list.")


class ReceiptNotFound(PollError):
    code = "not_found"
    status = 404
    message = _("No ballot of this poll has that receipt. Check the code as it was shown to you.")


class ChallengeRequired(PollError):
    """This anonymous ballot needs a solved proof-of-work challenge (polls.bot_defence); where to get one."""

    code = "challenge_required"
    status = 428
    message = _("This poll asks anonymous voters to solve a small proof-of-work challenge first.")

    def __init__(self, challenge_url: str):
        super().__init__(
            gettext("%(message)s Get one from %(url)s and send its solution in X-Altcha.")
            % {"message": self.message, "url": challenge_url}
        )
        self.challenge_url = challenge_url

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Altcha-Challenge": self.challenge_url}


class ChallengeInvalid(PollError):
    code = "challenge_invalid"
    status = 400
    message = _("The proof-of-work solution is not valid: malformed, expired, for another poll, or wrong.")


class ChallengeUsed(PollError):
    code = "challenge_used"
    status = 409
    message = _("This proof-of-work challenge has already been used; solve a new one.")


class InvalidWriteIn(FieldsError):
    """A suggested option's text breaks a rule (blank, too long); `fields` says how."""

    message = _("The suggested option is not valid.")


class WriteInsOff(PollError):
    code = "write_ins_off"
    status = 403
    message = _("This poll does not take suggested options.")


class OptionExists(PollError):
    code = "option_exists"
    status = 409
    message = _("This poll already has that option.")


class AlreadySuggested(PollError):
    code = "already_suggested"
    status = 409
    message = _("That option has already been suggested and waits for the poll's author.")


class SuggestionRejected(PollError):
    code = "suggestion_rejected"
    status = 409
    message = _("The poll's author has already turned that option down.")


class OptionLimitReached(PollError):
    code = "option_limit_reached"
    status = 409
    message = _("This poll has as many options as it can take, suggestions waiting for approval included.")


class SuggestionLimitReached(PollError):
    code = "suggestion_limit"
    status = 429
    message = _("You have as many suggestions waiting on this poll as one voter may; wait for the author to handle them.")


class WriteInHandled(PollError):
    code = "write_in_handled"
    status = 409
    message = _("This suggestion has already been accepted or rejected.")


class InvalidPresentation(FieldsError):
    message = _("That is not a presentation state.")


class InvalidDeck(FieldsError):
    """A deck's title or polls break a rule; `fields` says how."""

    message = _("The deck is not valid.")


class NotDeckOwner(NotOwner):
    message = _("Only the deck's author or a moderator can do this.")


class NotTextPoll(PollError):
    code = "wrong_ballot_shape"
    status = 400
    message = _("This poll takes ballots, not written answers.")


class AnswerEmpty(PollError):
    code = "answer_empty"
    status = 400
    message = _("Write an answer first.")


class AnswerTooLong(PollError):
    code = "answer_too_long"
    status = 400


class AnswerNotAllowed(PollError):
    code = "answer_not_allowed"
    status = 400
    message = _("This answer holds a word this poll does not allow.")


class TooManyAnswers(PollError):
    code = "too_many_answers"
    status = 409


class AnswerNotFound(PollError):
    code = "not_found"
    status = 404
    message = _("No such answer on this poll.")


class EmbedNotFound(PollError):
    code = "not_found"
    status = 404
    message = _("That URL names no poll on this site.")


class EmbedFormatNotSupported(PollError):
    """oEmbed's answer to a format this provider does not speak (the spec says 501)."""

    code = "format_not_supported"
    status = 501
    message = _("Only format=json is offered.")
