"""Every write to polls, votes, likes and reports goes through these functions.

The REST API, the HTML pages, the admin and the management commands call them and
only translate the domain errors of polls.errors into their own answer.
"""

import ipaddress
import uuid
from collections import Counter, defaultdict
from datetime import datetime
from itertools import groupby
from typing import Iterable

import structlog
from django.db import IntegrityError, transaction
from django.db.models import F, Max, QuerySet
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.text import slugify
from django.utils.translation import gettext, gettext_lazy, ngettext

from accounts import audit
from accounts.models import User
from polls import (
    announce,
    anonymous_cap,
    answers,
    ballot_box,
    bot_defence,
    embeds,
    errors,
    join_codes,
    public_bodies,
    secret_ballots,
    selectors,
)
from polls.ballot_box import CastBallot
from polls.counters import move_counters, move_vote_counts, ranking_of
from polls.models import (
    MAX_OPTIONS,
    MIN_OPTIONS,
    Answer,
    Ballot,
    Invite,
    Like,
    Option,
    Poll,
    Report,
    VoidedBallot,
    Vote,
    WriteIn,
)
from polls.permissions import (
    AUTHOR_EDITABLE_FIELDS,
    acts_as_moderator,
    require_can_report,
    require_can_take_part,
    require_editable,
    require_manager,
    require_may_create_polls,
    require_moderator,
    require_voter_or_moderator,
)
from polls.voters import Voter, voter_key
from quickpoll import metrics
from quickpoll.errors import DomainError

logger = structlog.get_logger(__name__)


# --- Polls ----------------------------------------------------------------------------


def _option_text(text: str) -> str:
    return " ".join(str(text).split())


def option_key(text: str) -> str:
    """What makes two options the same option: case and spacing aside."""
    return _option_text(text).casefold()


def repeated_options(texts: Iterable[str]) -> list[str]:
    """The options given more than once, each named once as first written (blank ones are another error)."""
    texts = [_option_text(text) for text in texts if _option_text(text)]
    counts = Counter(map(option_key, texts))
    first = {}
    for text in texts:
        first.setdefault(option_key(text), text)
    return [text for key, text in first.items() if counts[key] > 1]


OPTION_TEXT_LENGTH = 100


def _clean_options(texts: Iterable[str], *, takes_answers: bool = False) -> tuple[list[str], list[str]]:
    cleaned = [_option_text(text) for text in texts]
    if takes_answers:
        return [], ([gettext("An open-text poll has no options: its voters write their own answers.")] if cleaned else [])
    problems = []
    if any(not text for text in cleaned):
        problems.append(gettext("Options cannot be blank."))
    if any(len(text) > OPTION_TEXT_LENGTH for text in cleaned):
        problems.append(gettext("Options are at most %(characters)d characters.") % {"characters": OPTION_TEXT_LENGTH})
    repeated = repeated_options(cleaned)
    if repeated:
        names = ", ".join(f"“{text}”" for text in repeated)
        problems.append(
            ngettext(
                "Options must be different from each other: %(names)s is given more than once.",
                "Options must be different from each other: %(names)s are given more than once.",
                len(repeated),
            )
            % {"names": names}
        )
    if not MIN_OPTIONS <= len(cleaned) <= MAX_OPTIONS:
        problems.append(f"A poll has between {MIN_OPTIONS} and {MAX_OPTIONS} options.")
    return cleaned, problems


def option_problems(texts: Iterable[str]) -> list[str]:
    """What is wrong with these options, in the words create_poll and update_poll would refuse them with."""
    return _clean_options(texts)[1]


def _check_poll(poll: Poll, option_count: int, *, expiry_changed: bool) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    poll.embed_origins, origin_problems = embeds.clean_origins(poll.embed_origins)
    if origin_problems:
        problems["embed_origins"] = origin_problems
    if not poll.title.strip():
        problems["title"] = [gettext("A poll needs a title.")]
    elif len(poll.title) > 200:
        problems["title"] = [gettext("Titles are at most 200 characters.")]
    if poll.method not in Poll.Method.values:
        problems["method"] = [gettext("Choose one of: %(choices)s.") % {"choices": ", ".join(Poll.Method.values)}]
    if poll.takes_answers:
        poll.min_choices, poll.max_choices, poll.allow_write_ins = 1, None, False
        if not 1 <= poll.answer_max_length <= ANSWER_LENGTH_LIMIT:
            problems["answer_max_length"] = [
                gettext("Answers may be between 1 and %(most)d characters long.") % {"most": ANSWER_LENGTH_LIMIT}
            ]
        if not 1 <= poll.answers_per_voter <= ANSWERS_PER_VOTER_LIMIT:
            problems["answers_per_voter"] = [
                gettext("A voter may give between 1 and %(most)d answers.") % {"most": ANSWERS_PER_VOTER_LIMIT}
            ]
    elif poll.method == Poll.Method.SINGLE:
        poll.min_choices = 1
    elif not 1 <= poll.min_choices <= option_count:
        problems["min_choices"] = [
            gettext("Pick a number between 1 and the number of options (%(count)d).") % {"count": option_count}
        ]
    if poll.max_choices is not None:
        if poll.method == Poll.Method.SINGLE and poll.max_choices != 1:
            problems["max_choices"] = [gettext("Only approval, ranked and score polls can let voters choose several options.")]
        elif not 1 <= poll.max_choices <= option_count:
            problems["max_choices"] = [
                gettext("Pick a number between 1 and the number of options (%(count)d).") % {"count": option_count}
            ]
        elif poll.max_choices < poll.min_choices:
            problems["max_choices"] = [gettext("The most options a ballot may hold cannot be fewer than the least.")]
    if poll.method == Poll.Method.SCORE:
        if poll.score_min not in (0, 1):
            problems["score_min"] = [gettext("Scores start at 0 or 1.")]
        if not max(poll.score_min + 1, 2) <= poll.score_max <= 10:
            problems["score_max"] = [gettext("The top score is between 2 and 10.")]
    else:
        poll.score_min, poll.score_max = 0, 5
    if poll.is_secret and (poll.counts_ballots or poll.takes_answers):
        problems["is_secret"] = [gettext("Secret ballots take single choice or approval voting.")]
    if poll.takes_answers and poll.invite_only:
        problems["invite_only"] = [gettext("Invites admit one ballot each; an open-text poll takes answers from anyone it lets vote.")]
    if poll.is_secret and poll.allow_write_ins:
        problems["allow_write_ins"] = [gettext("A secret poll's options are fixed: nothing a voter adds may tell who they are.")]
    if expiry_changed and poll.expires_at is not None and poll.expires_at <= timezone.now():
        problems["expires_at"] = [gettext("The closing time must be in the future.")]
    if poll.is_secret and poll.results_visibility in _SHOWN_WHILE_OPEN:
        # Results moving while a secret poll is open would tell each voter's choice to whoever saw them move.
        poll.results_visibility = Poll.ResultsVisibility.AFTER_CLOSE
    return problems


# The database's poll_answer_limits constraint holds the same bounds.
ANSWER_LENGTH_LIMIT = 200
ANSWERS_PER_VOTER_LIMIT = 10

_SHOWN_WHILE_OPEN = {Poll.ResultsVisibility.ALWAYS, Poll.ResultsVisibility.AFTER_VOTE}


SLUG_TITLE_LENGTH = 60


def _unique_slug(title: str) -> str:
    base = slugify(title)
    if len(base) > SLUG_TITLE_LENGTH:
        # Cut at the last word that fits; one long word is cut where it must be.
        cut = base[: SLUG_TITLE_LENGTH + 1].rsplit("-", 1)[0]
        base = cut if len(cut) <= SLUG_TITLE_LENGTH else base[:SLUG_TITLE_LENGTH]
    base = base.strip("-") or "poll"
    # A random suffix keeps slugs unique without a read-then-write race.
    return f"{base}-{get_random_string(6, 'abcdefghijkmnpqrstuvwxyz23456789')}"


def create_poll(
    *,
    author: User,
    title: str,
    options: Iterable[str] = (),
    description: str = "",
    method: str | None = None,
    allow_multiple: bool = False,
    min_choices: int = 1,
    max_choices: int | None = None,
    score_min: int = 0,
    score_max: int = 5,
    allow_write_ins: bool = False,
    write_ins_need_approval: bool = True,
    answer_max_length: int = 60,
    answers_per_voter: int = 1,
    filter_profanity: bool = True,
    is_public: bool = True,
    allow_anonymous: bool = True,
    invite_only: bool = False,
    results_visibility: str = Poll.ResultsVisibility.ALWAYS,
    bot_protection: str = Poll.BotProtection.ADAPTIVE,
    expires_at: datetime | None = None,
    is_secret: bool = False,
    embed_origins: Iterable[str] = (),
) -> Poll:
    require_may_create_polls(author)
    poll = Poll(
        author=author,
        title=title.strip(),
        description=description.strip(),
        # allow_multiple is how the first API asked for approval voting; `method` says it for every method.
        method=method or (Poll.Method.APPROVAL if allow_multiple else Poll.Method.SINGLE),
        min_choices=min_choices,
        max_choices=max_choices,
        score_min=score_min,
        score_max=score_max,
        allow_write_ins=allow_write_ins,
        write_ins_need_approval=write_ins_need_approval,
        answer_max_length=answer_max_length,
        answers_per_voter=answers_per_voter,
        filter_profanity=filter_profanity,
        is_public=is_public,
        allow_anonymous=allow_anonymous,
        invite_only=invite_only,
        results_visibility=results_visibility,
        bot_protection=bot_protection,
        expires_at=expires_at,
        is_secret=is_secret,
        embed_origins=list(embed_origins),
    )
    texts, option_problems = _clean_options(options, takes_answers=poll.takes_answers)
    problems = _check_poll(poll, len(texts), expiry_changed=True)
    if method and allow_multiple and method != Poll.Method.APPROVAL:
        problems["allow_multiple"] = [
            gettext("Only approval polls take several choices; leave allow_multiple out.")
        ]
    if option_problems:
        problems["options"] = option_problems
    if problems:
        raise errors.InvalidPoll(problems)
    poll.slug = _unique_slug(poll.title)
    with transaction.atomic():
        join_codes.save_with_code(poll)
        Option.objects.bulk_create(Option(poll=poll, text=text, position=index) for index, text in enumerate(texts))
        announce.poll_created(poll)
    return poll


# What update_poll takes as keyword changes: options come apart, opening and closing through set_poll_active.
_EDITABLE_FIELDS = AUTHOR_EDITABLE_FIELDS - {"options", "is_active"}


def update_poll(*, poll: Poll, actor: User, options: Iterable[str] | None = None, **changes) -> Poll:
    """Change a poll's fields and, while it has no votes, its options.

    Only what really changes is checked against polls.permissions.editable_fields, so a form
    or a PUT that sends a field back unchanged is no attempt to change it.
    """
    require_manager(poll, actor)
    unknown = set(changes) - _EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        # Locking the poll row orders this edit against votes arriving at the same moment.
        locked = Poll.objects.select_for_update().get(pk=poll.pk)
        changes = {
            field: value.strip() if field in {"title", "description"} else value for field, value in changes.items()
        }
        changes = {field: value for field, value in changes.items() if getattr(locked, field) != value}
        was_secret, was_open = locked.is_secret, locked.is_open
        was_method, was_range = locked.method, (locked.score_min, locked.score_max)
        texts = None
        current = list(locked.options.values_list("text", flat=True))
        problems: dict[str, list[str]] = {}
        before = {field: getattr(locked, field) for field in changes}
        for field, value in changes.items():
            setattr(locked, field, value)
        if options is not None:
            texts, option_problems = _clean_options(options, takes_answers=locked.takes_answers)
            if option_problems:
                problems["options"] = option_problems
        elif locked.takes_answers and current:
            texts = []  # becoming an open-text poll: its options go (while it has no votes)
        options_changed = texts is not None and texts != current
        require_editable(locked, actor, [*changes, *(["options"] if options_changed else [])])
        if options_changed and locked.total_votes > 0:
            raise errors.OptionsLocked()
        if locked.method == Poll.Method.SINGLE:
            locked.max_choices = None
        option_count = len(texts) if texts is not None else len(current)
        problems |= _check_poll(locked, option_count, expiry_changed="expires_at" in changes)
        if "method" in changes and "allow_multiple" in changes:
            problems["allow_multiple"] = [gettext("Say how voters vote with method alone.")]
        if locked.total_votes > 0 and locked.method != was_method:
            problems["method"] = [gettext("A poll with votes keeps its voting method: its ballots were cast for it.")]
        if locked.total_votes > 0 and (locked.score_min, locked.score_max) != was_range:
            problems["score_max"] = [gettext("A poll with votes keeps its range of scores.")]
        if locked.is_secret != was_secret and _has_ballots(locked):
            raise errors.SecretBallotLocked()
        if locked.is_open and not was_open:  # a later closing time reopens an expired poll
            _require_secret_poll_may_reopen(locked)
        if problems:
            raise errors.InvalidPoll(problems)
        locked.save()
        if options_changed:
            locked.options.all().delete()
            Option.objects.bulk_create(
                Option(poll=locked, text=text, position=index) for index, text in enumerate(texts)
            )
        move_counters(locked.pk)
        announce.poll_updated(locked)
        if acts_as_moderator(actor, locked) and (changes or options_changed):
            audit.record(
                actor=actor,
                action=audit.Action.POLL_EDITED,
                target=locked,
                details={field: [str(before[field]), str(value)] for field, value in changes.items()}
                | ({"options": [current, texts]} if options_changed else {}),
            )
    return locked


def _require_secret_poll_may_reopen(poll: Poll) -> None:
    """A secret poll closed with ballots stays closed: its results showed when it closed, and reading
    them again after each new ballot would tell each voter's choice (the poll row is locked)."""
    if poll.is_secret and _has_ballots(poll):
        raise errors.SecretPollFinal()


def _has_ballots(poll: Poll) -> bool:
    """Whether anyone has voted: a participation row, or a sealed ballot whose voter's account is gone.

    Under the poll's row lock this sees every ballot: a batch writing some locks the poll row before it
    decides how to write them (polls.ballot_box) and holds it to its commit."""
    return Ballot.objects.filter(poll=poll).exists() or poll.sealed_ballots.exists()


def _switch(poll: Poll, *, active: bool, actor: User | None) -> bool:
    """Open or close a poll, once: switching to the state it is already in changes and tells nothing."""
    now = timezone.now()
    changed = Poll.objects.filter(pk=poll.pk, is_active=not active).update(
        is_active=active,
        updated_at=now,
        results_version=F("results_version") + 1,
        **({} if active else {"closed_at": now}),
    )
    poll.refresh_from_db()
    if changed:
        public_bodies.forget_on_commit(poll.pk)
        if active:
            announce.poll_updated(poll)
        else:
            announce.poll_closed(poll, actor)
    return bool(changed)


def set_poll_active(*, poll: Poll, actor: User, active: bool) -> Poll:
    """Reopen or close a poll (its author or a moderator); a poll on hold opens only once a moderator lifts the hold."""
    require_manager(poll, actor)
    with transaction.atomic():
        # The lock orders this against a hold being placed at the same moment.
        locked = Poll.objects.select_for_update().get(pk=poll.pk)
        if active:
            require_editable(locked, actor, ["is_active"])
            if not locked.is_active:
                _require_secret_poll_may_reopen(locked)
        if _switch(poll, active=active, actor=actor) and acts_as_moderator(actor, poll):
            action = audit.Action.POLL_REOPENED if active else audit.Action.POLL_CLOSED
            audit.record(actor=actor, action=action, target=poll)
    return poll


def close_expired_polls() -> int:
    """Close the polls whose time is up: authors hear of it, subscribers get the final results."""
    closed = 0
    for poll in Poll.objects.overdue().select_related("author"):
        with transaction.atomic():
            closed += _switch(poll, active=False, actor=None)
    return closed


def delete_poll(*, poll: Poll, actor: User, reason: str = "") -> None:
    require_manager(poll, actor)
    poll_id = poll.pk
    with transaction.atomic():
        if acts_as_moderator(actor, poll):
            details = {"author": str(poll.author), "total_votes": poll.total_votes}
            audit.record(actor=actor, action=audit.Action.POLL_DELETED, target=poll, reason=reason, details=details)
        poll.delete()
        public_bodies.forget_on_commit(poll_id)
        announce.poll_deleted(poll_id)


# --- Moderation holds -------------------------------------------------------------------------


def hold_poll(*, poll: Poll, moderator: User, reason: str) -> Poll:
    """Put a poll on hold: closed and unlisted for everyone until a moderator lifts the hold; its author hears why."""
    require_moderator(moderator)
    reason = reason.strip()
    if not reason:
        raise errors.InvalidPoll({"reason": [gettext("Say why the poll is held; its author reads it.")]})
    if len(reason) > 1000:
        raise errors.InvalidPoll({"reason": [gettext("Keep the reason under 1000 characters.")]})
    with transaction.atomic():
        # Locked, so an author's edit or reopening racing the hold lands before it (and is undone) or after (and refused).
        locked = Poll.objects.select_for_update().get(pk=poll.pk)
        if locked.is_held:
            raise errors.AlreadyHeld()
        before = {"is_active": locked.is_active, "is_public": locked.is_public}
        Poll.objects.filter(pk=locked.pk).update(
            held_at=timezone.now(),
            held_by=moderator,
            hold_reason=reason,
            is_active=False,
            is_public=False,
            updated_at=timezone.now(),
            results_version=F("results_version") + 1,
        )
        poll.refresh_from_db()
        public_bodies.forget_on_commit(poll.pk)
        audit.record(actor=moderator, action=audit.Action.POLL_HELD, target=poll, reason=reason, details=before)
        announce.poll_held(poll, moderator)
    return poll


def lift_hold(*, poll: Poll, moderator: User, reason: str = "") -> Poll:
    """Lift a hold. The poll stays closed and unlisted: its author (or a moderator) reopens and lists it again."""
    require_moderator(moderator)
    with transaction.atomic():
        locked = Poll.objects.select_for_update().get(pk=poll.pk)
        if not locked.is_held:
            raise errors.NotHeld()
        details = {
            "held_by": str(locked.held_by) if locked.held_by_id else None,
            "held_at": locked.held_at.isoformat(),
            "hold_reason": locked.hold_reason,
        }
        Poll.objects.filter(pk=locked.pk).update(held_at=None, held_by=None, hold_reason="", updated_at=timezone.now())
        poll.refresh_from_db()
        public_bodies.forget_on_commit(poll.pk)
        audit.record(actor=moderator, action=audit.Action.HOLD_LIFTED, target=poll, reason=reason, details=details)
        announce.hold_lifted(poll, moderator)
    return poll


def _record_removals(moderator: User | None, action: str, per_poll: Counter, reason: str = "") -> None:
    """A moderator removed votes, likes or options: one audit entry per poll touched."""
    if moderator is None:
        return
    for poll in Poll.objects.filter(pk__in=per_poll):
        audit.record(actor=moderator, action=action, target=poll, reason=reason, details={"count": per_poll[poll.pk]})


def remove_options(*, options: QuerySet[Option], moderator: User | None = None) -> int:
    """Remove options (an offensive one, say) and the votes on them, counters following."""
    with transaction.atomic():
        rows = list(options.values_list("pk", "poll_id"))
        option_ids = [pk for pk, _ in rows]
        retract_votes(votes=Vote.objects.filter(option_id__in=option_ids))
        # Secret ballots hold option ids, not rows that cascade: their picks leave the totals here.
        for poll_id, picks in sorted(secret_ballots.drop_options(option_ids).items()):
            move_counters(poll_id, total_votes=-picks)
        deleted, _ = Option.objects.filter(pk__in=option_ids).delete()
        poll_ids = {poll_id for _, poll_id in rows}
        for poll_id in poll_ids:
            move_counters(poll_id)  # the option list changed even where no one had picked it
        announce.results_changed(poll_ids)
        _record_removals(moderator, audit.Action.OPTIONS_REMOVED, Counter(poll_id for _, poll_id in rows))
    return deleted


# --- Votes ------------------------------------------------------------------------------


_CHOICE_COUNT_WORDS = {
    Poll.Method.SINGLE: (
        gettext_lazy("Pick at least one option."),
        gettext_lazy("Pick at most %(count)d options."),
        gettext_lazy("Pick at least %(count)d options."),
    ),
    Poll.Method.RANKED: (
        gettext_lazy("Rank at least one option."),
        gettext_lazy("Rank at most %(count)d options."),
        gettext_lazy("Rank at least %(count)d options."),
    ),
    Poll.Method.SCORE: (
        gettext_lazy("Rate at least one option."),
        gettext_lazy("Rate at most %(count)d options."),
        gettext_lazy("Rate at least %(count)d options."),
    ),
}


def _ballot_choices(poll: Poll, option_ids: Iterable, scores: dict | None) -> tuple[list[Option], list[int] | None]:
    """The options a ballot holds (in the voter's order: a ranking's first preference first) and, on a
    score poll, the score of each; raises the domain error naming what is wrong with the ballot."""
    if poll.takes_answers:
        raise errors.WrongBallotShape(
            gettext("This poll takes written answers: POST %(path)s.") % {"path": f"/api/polls/{poll.pk}/answers"}
        )
    ranked = poll.method == Poll.Method.RANKED
    # Whole sentences per method, so each language words them its own way.
    at_least_one, at_most, at_least = _CHOICE_COUNT_WORDS.get(poll.method, _CHOICE_COUNT_WORDS[Poll.Method.SINGLE])
    if poll.method == Poll.Method.SCORE:
        if option_ids or scores is None:
            raise errors.WrongBallotShape(gettext("This poll takes scores: {option id: score}."))
        try:
            wanted = {uuid.UUID(str(option_id)): score for option_id, score in scores.items()}
        except (AttributeError, ValueError):
            raise errors.InvalidOption() from None
        if any(isinstance(score, bool) or not isinstance(score, int) for score in wanted.values()):
            raise errors.ScoreOutOfRange(
                gettext("Scores are whole numbers from %(low)d to %(high)d.") % {"low": poll.score_min, "high": poll.score_max}
            )
        if any(not poll.score_min <= score <= poll.score_max for score in wanted.values()):
            raise errors.ScoreOutOfRange(
                gettext("Scores go from %(low)d to %(high)d.") % {"low": poll.score_min, "high": poll.score_max}
            )
        order = list(wanted)
    else:
        if scores is not None:
            raise errors.WrongBallotShape(gettext("This poll takes option_ids, not scores."))
        try:
            order = [uuid.UUID(str(option_id)) for option_id in option_ids]
        except ValueError:
            raise errors.InvalidOption() from None
        if len(set(order)) != len(order):
            if ranked:
                raise errors.DuplicateOption()
            order = list(dict.fromkeys(order))  # ticking one box twice is still one pick
    if not order:
        raise errors.InvalidOption(str(at_least_one))
    if len(order) > poll.choice_limit:
        raise errors.TooManyOptions(
            gettext("This poll takes one option.") if poll.choice_limit == 1 else at_most % {"count": poll.choice_limit}
        )
    if len(order) < poll.choice_minimum:
        raise errors.TooFewOptions(at_least % {"count": poll.choice_minimum})
    found = {option.pk: option for option in selectors.options_of(poll) if option.pk in order}
    if len(found) != len(order):
        raise errors.InvalidOption()
    return [found[pk] for pk in order], ([wanted[pk] for pk in order] if scores is not None else None)


def cast_vote(
    *, poll: Poll, voter: Voter, option_ids: Iterable = (), scores: dict | None = None, challenge: str = ""
) -> CastBallot:
    """Record a voter's ballot on an open poll, in the poll's method's shape: `option_ids` (single and
    approval: the options picked; ranked: most preferred first) or `scores` (score: option id → score).

    `challenge` is a solved proof-of-work challenge (ALTCHA payload), which polls.bot_defence
    requires of some anonymous ballots.

    What simultaneous requests could race (one ballot per voter, ANONYMOUS_BALLOTS_PER_IP
    anonymous ballots per address) is refereed where the ballot is written: polls.ballot_box.
    Returns the ballot, its votes, and the poll's results as committed with it.
    """
    try:
        invite = require_can_take_part(poll, voter)
        if selectors.ballot_voided(poll, voter):
            raise errors.BallotVoided()
        options, given_scores = _ballot_choices(poll, option_ids, scores)
        if invite is None:  # an invite is the proof a bot lacks: the room behind one address is let in
            bot_defence.check_ballot(poll=poll, voter=voter, solution=challenge)
        cast = ballot_box.cast(poll=poll, voter=voter, options=options, scores=given_scores, invite=invite)
    except DomainError as refusal:
        metrics.votes_refused.labels(code=refusal.code).inc()
        raise
    metrics.votes_accepted.labels(method=poll.method, voter="account" if voter.user else "anonymous").inc()
    logger.info(
        "vote_cast",
        poll_id=str(poll.pk),
        ballot_id=str(cast.ballot.pk),
        voter="account" if voter.user else "anonymous",
        user_id=str(voter.user.pk) if voter.user else None,
        # Even how many options a secret ballot picked stays out of a line that names its voter.
        options=None if cast.receipt else len(options),
    )
    return cast


def retract_votes(*, votes: QuerySet[Vote], moderator: User | None = None) -> int:
    """Delete votes and move every counter they touched; empty ballots go too.

    A ranked ballot that loses an option closes up its ranking, so its next option becomes its first
    preference where the first went. Returns how many votes were removed. Two retractions racing on
    the same vote remove it once: the second finds it gone after waiting for the row lock.
    """
    with transaction.atomic():
        rows = list(votes.select_for_update().values_list("pk", "poll_id", "option_id", "ballot_id", "rank", "score"))
        if not rows:
            return 0
        Vote.objects.filter(pk__in=[pk for pk, *_ in rows]).delete()
        counts_ballots = set(
            Poll.objects.filter(pk__in={row[1] for row in rows}, method__in=[Poll.Method.RANKED, Poll.Method.SCORE])
            .values_list("pk", flat=True)
        )
        per_poll, per_option, per_option_score = Counter(), Counter(), Counter()
        for _, poll_id, option_id, _, rank, score in rows:
            if poll_id not in counts_ballots:
                per_poll[poll_id] -= 1
            if rank in (None, 1):  # a ranked ballot counts for its first preference only
                per_option[option_id] -= 1
            if score is not None:
                per_option_score[option_id] -= score
        per_option.update(_close_up_rankings({ballot_id for _, _, _, ballot_id, rank, _ in rows if rank is not None}))
        ballots = Ballot.objects.filter(pk__in={row[3] for row in rows})
        emptied = ballots.filter(votes__isnull=True)
        per_poll.subtract(poll_id for poll_id in emptied.values_list("poll_id", flat=True) if poll_id in counts_ballots)
        move_vote_counts(per_poll=per_poll, per_option=per_option, per_option_score=per_option_score)
        changed_voters = defaultdict(set)  # whose ballot changed: their open pages look again at what they may see
        for poll_id, user_id, anon_id in ballots.values_list("poll_id", "user_id", "anon_id"):
            changed_voters[poll_id].add(voter_key(user_id=user_id, anon_id=anon_id))
        emptied.delete()
        announce.ballots_retracted(changed_voters)
        _record_removals(moderator, audit.Action.VOTES_REMOVED, Counter(row[1] for row in rows))
    logger.info("votes_retracted", votes=len(rows), polls=sorted(str(poll_id) for poll_id in changed_voters))
    return len(rows)


def _close_up_rankings(ballot_ids) -> Counter:
    """Renumber what is left of these ranked ballots 1, 2, … (their Ballot.ranking too); returns the options
    that became a first preference."""
    promoted = Counter()
    remaining = Vote.objects.filter(ballot_id__in=ballot_ids).order_by("ballot_id", "rank").select_related("option")
    # In rank order, so each row moves to a place already free: the (ballot, rank) constraint holds throughout.
    for ballot_id, votes in groupby(remaining.only("pk", "ballot_id", "rank", "option__position"), key=lambda vote: vote.ballot_id):
        votes = list(votes)
        for place, vote in enumerate(votes, start=1):
            if vote.rank != place:
                Vote.objects.filter(pk=vote.pk).update(rank=place)
                if place == 1:
                    promoted[vote.option_id] += 1
        Ballot.objects.filter(pk=ballot_id).update(ranking=ranking_of(vote.option for vote in votes))
    return promoted


def withdraw_vote(*, vote: Vote, voter: Voter | None, actor: User | None) -> None:
    """Take back one vote: its voter while the poll is open, or a moderator at any time."""
    as_moderator = require_voter_or_moderator(vote.ballot, voter, actor)
    if not as_moderator:
        require_can_take_part(vote.poll, voter)
    moderator = actor if as_moderator and actor.pk != vote.ballot.user_id else None
    retract_votes(votes=Vote.objects.filter(pk=vote.pk), moderator=moderator)


def retract_ballot(*, poll: Poll, voter: Voter | None) -> int:
    """Take back a voter's whole ballot on a poll, so they can vote again.

    `voter` is None for a visitor we have never seen: they have nothing to take back.
    """
    if voter is None:
        raise errors.NotVoted()
    require_can_take_part(poll, voter)
    if poll.is_secret:
        raise errors.SecretBallotFinal()
    removed = retract_votes(votes=Vote.objects.filter(ballot__in=Ballot.objects.filter(poll=poll, **voter.lookup())))
    if not removed:
        raise errors.NotVoted()
    return removed


def change_vote(
    *, poll: Poll, voter: Voter | None, option_ids: Iterable = (), scores: dict | None = None, challenge: str = ""
) -> CastBallot:
    """Replace a voter's ballot with new picks in one transaction: the old ballot goes only if the new one
    is written, so a refused pick (too many options, say) leaves the voter's vote as it was.

    A secret ballot is final (SecretBallotFinal); a voter with no ballot gets NotVoted.
    """
    if voter is None:
        raise errors.NotVoted()
    require_can_take_part(poll, voter)
    if poll.is_secret:
        raise errors.SecretBallotFinal()
    with transaction.atomic():
        # Inside this transaction the ballot box writes the new ballot itself, not in a shared batch.
        if not retract_votes(votes=Vote.objects.filter(ballot__in=Ballot.objects.filter(poll=poll, **voter.lookup()))):
            raise errors.NotVoted()
        return cast_vote(poll=poll, voter=voter, option_ids=option_ids, scores=scores, challenge=challenge)


# --- Likes --------------------------------------------------------------------------------


def like_poll(*, poll: Poll, voter: Voter) -> Like:
    """Like a poll; anonymous likes from one address on one poll stop at ANONYMOUS_BALLOTS_PER_IP, as ballots do."""
    require_can_take_part(poll, voter)
    try:
        with transaction.atomic():
            if not anonymous_cap.has_place(Like, poll_id=poll.pk, voter=voter):
                logger.info("like_refused", poll_id=str(poll.pk), reason="anonymous_limit")
                raise errors.AnonymousLimitReached(gettext("Too many anonymous likes from this network on this poll."))
            like = Like.objects.create(poll=poll, **voter.identity())
            move_counters(poll.pk, likes_count=1)
            announce.liked(poll, like)
    except IntegrityError:
        if Like.objects.filter(poll=poll, **voter.lookup()).exists():
            raise errors.AlreadyLiked() from None
        raise
    return like


def remove_likes(*, likes: QuerySet[Like], moderator: User | None = None) -> int:
    """Delete likes and lower each poll's count by what was really deleted."""
    with transaction.atomic():
        rows = list(likes.select_for_update().values_list("pk", "poll_id"))
        if not rows:
            return 0
        Like.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
        per_poll = Counter(poll_id for _, poll_id in rows)
        for poll_id, count in sorted(per_poll.items()):
            move_counters(poll_id, likes_count=-count)
        announce.results_changed(per_poll)
        _record_removals(moderator, audit.Action.LIKES_REMOVED, per_poll)
    return len(rows)


def withdraw_like(*, like: Like, voter: Voter | None, actor: User | None) -> None:
    as_moderator = require_voter_or_moderator(like, voter, actor)
    moderator = actor if as_moderator and actor.pk != like.user_id else None
    if not remove_likes(likes=Like.objects.filter(pk=like.pk), moderator=moderator):
        raise errors.NotLiked()


def unlike_poll(*, poll: Poll, voter: Voter | None) -> None:
    """`voter` is None for a visitor we have never seen: they like nothing."""
    if voter is None or not remove_likes(likes=Like.objects.filter(poll=poll, **voter.lookup())):
        raise errors.NotLiked()


def take_back_account(user: User) -> None:
    """An account is about to be deleted: its votes, likes and answers leave the counts of the polls they were on,
    its suggested options still waiting or turned down go, and its polls go as if their author had deleted
    them (live pages told).

    Its secret ballots stay counted: nothing says which sealed ballot was theirs. Their participation
    rows go with the account."""
    retract_votes(votes=Vote.objects.filter(ballot__user=user))
    remove_likes(likes=Like.objects.filter(user=user))
    answers.remove_answers(Answer.objects.filter(user=user))
    # Suggestions that became options stay with their polls (unsigned); the rest go with the account.
    WriteIn.objects.filter(suggested_by=user).exclude(status=WriteIn.Status.ACCEPTED).delete()
    for poll in Poll.objects.filter(author=user):
        delete_poll(poll=poll, actor=user)


# --- Reports ------------------------------------------------------------------------------


def report_poll(*, poll: Poll, reporter: User, reason: str, note: str = "") -> Report:
    require_can_report(poll, reporter)
    if reason not in Report.Reason.values:
        raise errors.PollError(gettext("Choose a reason: %(choices)s.") % {"choices": ", ".join(Report.Reason.values)})
    try:
        with transaction.atomic():
            report = Report.objects.create(poll=poll, reporter=reporter, reason=reason, note=note.strip())
            announce.reported(poll, reporter, reason)
    except IntegrityError:
        raise errors.AlreadyReported() from None
    return report


def handle_reports(*, reports: QuerySet[Report], moderator: User, status: str) -> int:
    """Resolve or dismiss open reports; reports already handled keep their outcome."""
    if status not in {Report.Status.RESOLVED, Report.Status.DISMISSED}:
        raise ValueError(f"Reports are resolved or dismissed, not {status!r}")
    with transaction.atomic():
        handled = list(reports.filter(status=Report.Status.OPEN).select_for_update().values_list("pk", "poll_id"))
        count = Report.objects.filter(pk__in=[pk for pk, _ in handled]).update(
            status=status, handled_by=moderator, handled_at=timezone.now()
        )
        for poll in Poll.objects.filter(pk__in={poll_id for _, poll_id in handled}):
            ids = [str(pk) for pk, poll_id in handled if poll_id == poll.pk]
            details = {"status": status, "reports": ids}
            audit.record(actor=moderator, action=audit.Action.REPORTS_HANDLED, target=poll, details=details)
            announce.reports_handled(poll, status=status, count=len(ids))
    return count


# --- Write-ins ----------------------------------------------------------------------------

# Suggestions one voter may have waiting on one poll, so that no one voter fills its author's queue.
PENDING_WRITE_INS_PER_VOTER = 3


def _write_in_text(text: str) -> str:
    """A suggestion's text cleaned as options are (spacing collapsed); InvalidWriteIn if blank or too long."""
    cleaned = _option_text(text)
    problem = None
    if not cleaned:
        problem = gettext("Write the option you suggest.")
    elif len(cleaned) > OPTION_TEXT_LENGTH:
        problem = gettext("Options are at most %(characters)d characters.") % {"characters": OPTION_TEXT_LENGTH}
    if problem:
        raise errors.InvalidWriteIn({"text": [problem]}, problem)
    return cleaned


def _require_not_an_option(poll: Poll, text: str) -> None:
    """OptionExists if the poll has an option of this text, case and spacing aside."""
    key = option_key(text)
    if any(option_key(existing) == key for existing in poll.options.values_list("text", flat=True)):
        raise errors.OptionExists()


def _require_new_option(poll: Poll, text: str) -> None:
    """Raises unless `text` is new to the poll, case and spacing aside: not one of its options, not waiting,
    not turned down already (the caller holds the poll's row lock)."""
    _require_not_an_option(poll, text)
    key = option_key(text)
    for existing, status in WriteIn.objects.filter(poll=poll).exclude(status=WriteIn.Status.ACCEPTED).values_list(
        "text", "status"
    ):
        if option_key(existing) == key:
            raise errors.AlreadySuggested() if status == WriteIn.Status.PENDING else errors.SuggestionRejected()


def _add_option(poll: Poll, text: str) -> Option:
    """Append an option to a poll whose row lock the caller holds, and tell its live pages."""
    last = poll.options.aggregate(last=Max("position"))["last"]
    option = Option.objects.create(poll=poll, text=text, position=0 if last is None else last + 1)
    move_counters(poll.pk)  # a new results version: no cached results or API body without the new option
    announce.poll_updated(poll)  # open pages load the ballot again, with the new option to pick
    return option


def suggest_option(*, poll: Poll, voter: Voter, text: str) -> WriteIn:
    """A voter suggests an option on a poll that takes write-ins. It waits for the author or a moderator
    (Poll.write_ins_need_approval) or becomes an option at once; waiting, it holds one of the poll's
    MAX_OPTIONS places already."""
    require_can_take_part(poll, voter)
    text = _write_in_text(text)
    with transaction.atomic():
        # The poll's row lock orders every suggestion and decision on it: two suggestions racing for its last
        # place, or with one text, are decided one after the other, and positions never collide.
        locked = Poll.objects.select_for_update().get(pk=poll.pk)
        if not locked.is_open:
            raise errors.PollClosed()
        if not locked.allow_write_ins or locked.is_secret:
            raise errors.WriteInsOff()
        _require_new_option(locked, text)
        pending = WriteIn.objects.filter(poll=locked).pending()
        if pending.suggested_by_voter(voter).count() >= PENDING_WRITE_INS_PER_VOTER:
            raise errors.SuggestionLimitReached()
        if locked.options.count() + pending.count() >= MAX_OPTIONS:
            raise errors.OptionLimitReached(
                gettext("This poll has its %(count)d options, suggestions waiting included.") % {"count": MAX_OPTIONS}
            )
        write_in = WriteIn(poll=locked, text=text, suggested_by=voter.user, anon_id=voter.anon_id)
        # The author's own suggestion needs no one's approval.
        by_author = voter.user is not None and voter.user.pk == locked.author_id
        if not locked.write_ins_need_approval or by_author:
            write_in.option = _add_option(locked, text)
            write_in.status = WriteIn.Status.ACCEPTED
            write_in.handled_at = timezone.now()
            write_in.handled_by = voter.user if by_author else None
        write_in.save()
        announce.answer_submitted(locked, kind="write_in", text=text)
        if write_in.status == WriteIn.Status.PENDING:
            announce.option_suggested(locked, voter.user, text)
    logger.info(
        "write_in_suggested",
        poll_id=str(poll.pk),
        write_in_id=str(write_in.pk),
        status=write_in.status,
        voter="account" if voter.user else "anonymous",
    )
    return write_in


def _decide_write_in(write_in: WriteIn, actor: User, status: str, reason: str) -> tuple[WriteIn, Poll]:
    """Lock the suggestion's poll, check it still waits, and record the decision; the caller adds what follows."""
    require_manager(write_in.poll, actor)
    locked = Poll.objects.select_for_update().get(pk=write_in.poll_id)
    # Under the poll's lock its status is settled (gone: its account was deleted meanwhile).
    current = WriteIn.objects.select_related("poll").filter(pk=write_in.pk).first()
    if current is None or current.status != WriteIn.Status.PENDING:
        raise errors.WriteInHandled()
    current.status, current.handled_at, current.handled_by = status, timezone.now(), actor
    if acts_as_moderator(actor, locked):
        action = audit.Action.WRITE_IN_ACCEPTED if status == WriteIn.Status.ACCEPTED else audit.Action.WRITE_IN_REJECTED
        details = {"write_in": str(current.pk), "text": current.text, "suggested_by": current.suggester_label}
        audit.record(actor=actor, action=action, target=locked, reason=reason, details=details)
    return current, locked


def accept_write_in(*, write_in: WriteIn, actor: User, reason: str = "") -> WriteIn:
    """The poll's author or a moderator accepts a waiting suggestion: it becomes the poll's last option,
    if the poll is open and has a place for it and no option of that text by now."""
    with transaction.atomic():
        current, locked = _decide_write_in(write_in, actor, WriteIn.Status.ACCEPTED, reason)
        if not locked.is_open:
            raise errors.PollClosed(gettext("This poll is closed: reopen it to add options."))
        if locked.is_secret:
            raise errors.WriteInsOff()
        if locked.options.count() >= MAX_OPTIONS:
            raise errors.OptionLimitReached(gettext("This poll has %(count)d options already.") % {"count": MAX_OPTIONS})
        _require_not_an_option(locked, current.text)
        current.option = _add_option(locked, current.text)
        current.save()
    logger.info("write_in_accepted", poll_id=str(locked.pk), write_in_id=str(current.pk), actor=str(actor.pk))
    return current


def reject_write_in(*, write_in: WriteIn, actor: User, reason: str = "") -> WriteIn:
    """The poll's author or a moderator turns a waiting suggestion down: its place is free again, and the same
    text cannot be suggested again."""
    with transaction.atomic():
        current, locked = _decide_write_in(write_in, actor, WriteIn.Status.REJECTED, reason)
        current.save()
    logger.info("write_in_rejected", poll_id=str(locked.pk), write_in_id=str(current.pk), actor=str(actor.pk))
    return current


# --- Voided ballots ------------------------------------------------------------------------


def _suspicious_ballots(*, poll: Poll, network: str | None, since: datetime | None, until: datetime | None) -> list:
    """Ids of the poll's ballots cast from the network (CIDR) within the time window."""
    if poll.is_secret:
        # Nothing links a sealed choice to the ballot row of its voter: there is no vote to take out.
        raise errors.SecretBallotFinal(
            gettext("This poll is secret: its ballots cannot be voided, as nothing links a choice to its voter.")
        )
    if not (network or since or until):
        raise errors.InvalidPoll({"network": [gettext("Give an address range, a time window, or both.")]})
    if since and until and since >= until:
        raise errors.InvalidPoll({"until": [gettext("The window must end after it starts.")]})
    ballots = Ballot.objects.filter(poll=poll)
    if since:
        ballots = ballots.filter(created_at__gte=since)
    if until:
        ballots = ballots.filter(created_at__lt=until)
    if not network:
        return list(ballots.values_list("pk", flat=True))
    try:
        cidr = ipaddress.ip_network(network.strip(), strict=False)
    except ValueError:
        raise errors.InvalidPoll({"network": [gettext("Give an address or a range such as 203.0.113.0/24.")]}) from None
    # Matched here rather than in SQL: SQLite has no inet type, and one poll's ballots are few enough.
    return [
        pk
        for pk, address in ballots.filter(ip_address__isnull=False).values_list("pk", "ip_address")
        if ipaddress.ip_address(address) in cidr
    ]


def count_suspicious_ballots(
    *, poll: Poll, moderator: User, network: str | None = None, since: datetime | None = None, until: datetime | None = None
) -> int:
    """The preview of void_ballots: how many ballots it would void now."""
    require_moderator(moderator)
    return len(_suspicious_ballots(poll=poll, network=network, since=since, until=until))


def void_ballots(
    *,
    poll: Poll,
    moderator: User,
    reason: str,
    network: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Void the poll's ballots from a suspicious cluster: their votes leave every count, their voters may not
    vote on the poll again (VoidedBallot), subscribers get the new results, the audit log the count. Returns it."""
    require_moderator(moderator)
    reason = reason.strip()
    if not reason:
        raise errors.InvalidPoll({"reason": [gettext("Say why these ballots are voided.")]})
    ballot_ids = _suspicious_ballots(poll=poll, network=network, since=since, until=until)
    with transaction.atomic():
        # Votes first, as retract_votes locks them: a voter retracting at the same moment waits, then finds nothing.
        counted = set(Vote.objects.filter(ballot_id__in=ballot_ids).select_for_update().values_list("ballot_id", flat=True))
        ballots = list(Ballot.objects.filter(pk__in=counted))
        VoidedBallot.objects.bulk_create(
            [
                VoidedBallot(
                    poll_id=ballot.poll_id,
                    user_id=ballot.user_id,
                    anon_id=ballot.anon_id,
                    ip_address=ballot.ip_address,
                    cast_at=ballot.created_at,
                    voided_by=moderator,
                )
                for ballot in ballots
            ],
            ignore_conflicts=True,  # a voter voided before, voting again through a race, is recorded once
        )
        # A voided ballot's invite is spent: freed by the ballot's deletion, it would admit a fresh anon id.
        Invite.objects.filter(ballot__in=ballots, revoked_at__isnull=True).update(revoked_at=timezone.now())
        retract_votes(votes=Vote.objects.filter(ballot_id__in=counted))  # also deletes the ballots it empties
        criteria = {
            "network": network or None,
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
        }
        audit.record(
            actor=moderator,
            action=audit.Action.BALLOTS_VOIDED,
            target=poll,
            reason=reason,
            details={"count": len(ballots), **criteria},
        )
    logger.info("ballots_voided", poll_id=str(poll.pk), ballots=len(ballots), moderator=str(moderator.pk))
    return len(ballots)
