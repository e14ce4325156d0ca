"""Every write to polls, votes, likes and reports goes through these functions.

The REST API, the HTML pages, the admin and the management commands call them and
only translate the domain errors of polls.errors into their own answer.
"""

import uuid
from collections import Counter
from datetime import datetime
from typing import Iterable

import structlog
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.text import slugify

from accounts.models import User
from polls import announce, ballot_box, bot_defence, errors, public_bodies
from polls.ballot_box import CastBallot
from polls.counters import move_counters, move_vote_counts
from polls.models import MAX_OPTIONS, MIN_OPTIONS, Ballot, Like, Option, Poll, Report, Vote
from polls.permissions import require_can_take_part, require_manager, require_voter_or_moderator
from polls.voters import Voter

logger = structlog.get_logger(__name__)


# --- Polls ----------------------------------------------------------------------------


def _clean_options(texts: Iterable[str]) -> tuple[list[str], list[str]]:
    cleaned = [" ".join(str(text).split()) for text in texts]
    problems = []
    if any(not text for text in cleaned):
        problems.append("Options cannot be blank.")
    if any(len(text) > 100 for text in cleaned):
        problems.append("Options are at most 100 characters.")
    if len({text.casefold() for text in cleaned}) != len(cleaned):
        problems.append("Options must be different from each other.")
    if not MIN_OPTIONS <= len(cleaned) <= MAX_OPTIONS:
        problems.append(f"A poll has between {MIN_OPTIONS} and {MAX_OPTIONS} options.")
    return cleaned, problems


def _check_poll(poll: Poll, option_count: int, *, expiry_changed: bool) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if not poll.title.strip():
        problems["title"] = ["A poll needs a title."]
    elif len(poll.title) > 200:
        problems["title"] = ["Titles are at most 200 characters."]
    if poll.max_choices is not None:
        if not poll.allow_multiple and poll.max_choices != 1:
            problems["max_choices"] = ["Only multiple-choice polls can let voters pick several options."]
        elif not 1 <= poll.max_choices <= option_count:
            problems["max_choices"] = [f"Pick a number between 1 and the number of options ({option_count})."]
    if expiry_changed and poll.expires_at is not None and poll.expires_at <= timezone.now():
        problems["expires_at"] = ["The closing time must be in the future."]
    return problems


def _unique_slug(title: str) -> str:
    base = slugify(title)[:200].strip("-") or "poll"
    # A random suffix keeps slugs unique without a read-then-write race.
    return f"{base}-{get_random_string(6, 'abcdefghijkmnpqrstuvwxyz23456789')}"


def create_poll(
    *,
    author: User,
    title: str,
    options: Iterable[str],
    description: str = "",
    allow_multiple: bool = False,
    max_choices: int | None = None,
    is_public: bool = True,
    allow_anonymous: bool = True,
    results_visibility: str = Poll.ResultsVisibility.ALWAYS,
    bot_protection: str = Poll.BotProtection.ADAPTIVE,
    expires_at: datetime | None = None,
) -> Poll:
    texts, option_problems = _clean_options(options)
    poll = Poll(
        author=author,
        title=title.strip(),
        description=description.strip(),
        allow_multiple=allow_multiple,
        max_choices=max_choices,
        is_public=is_public,
        allow_anonymous=allow_anonymous,
        results_visibility=results_visibility,
        bot_protection=bot_protection,
        expires_at=expires_at,
    )
    problems = _check_poll(poll, len(texts), expiry_changed=True)
    if option_problems:
        problems["options"] = option_problems
    if problems:
        raise errors.InvalidPoll(problems)
    poll.slug = _unique_slug(poll.title)
    with transaction.atomic():
        poll.save()
        Option.objects.bulk_create(Option(poll=poll, text=text, position=index) for index, text in enumerate(texts))
        announce.poll_created(poll)
    return poll


_EDITABLE_FIELDS = {
    "title",
    "description",
    "allow_multiple",
    "max_choices",
    "is_public",
    "allow_anonymous",
    "results_visibility",
    "bot_protection",
    "expires_at",
}


def update_poll(*, poll: Poll, actor: User, options: Iterable[str] | None = None, **changes) -> Poll:
    """Change a poll's fields and, while it has no votes, its options."""
    require_manager(poll, actor)
    unknown = set(changes) - _EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        # Locking the poll row orders this edit against votes arriving at the same moment.
        locked = Poll.objects.select_for_update().get(pk=poll.pk)
        texts = None
        problems: dict[str, list[str]] = {}
        if options is not None:
            texts, option_problems = _clean_options(options)
            current = list(locked.options.values_list("text", flat=True))
            if texts != current and locked.total_votes > 0:
                raise errors.OptionsLocked()
            if option_problems:
                problems["options"] = option_problems
        for field, value in changes.items():
            if field in {"title", "description"}:
                value = value.strip()
            setattr(locked, field, value)
        if not locked.allow_multiple:
            locked.max_choices = None
        option_count = len(texts) if texts is not None else locked.options.count()
        problems |= _check_poll(locked, option_count, expiry_changed="expires_at" in changes)
        if locked.total_votes > 0 and "allow_multiple" in changes and changes["allow_multiple"] != poll.allow_multiple:
            problems["allow_multiple"] = ["A poll with votes cannot switch between single and multiple choice."]
        if problems:
            raise errors.InvalidPoll(problems)
        locked.save()
        if texts is not None and texts != list(locked.options.values_list("text", flat=True)):
            locked.options.all().delete()
            Option.objects.bulk_create(
                Option(poll=locked, text=text, position=index) for index, text in enumerate(texts)
            )
        move_counters(locked.pk)
        announce.poll_updated(locked)
    return locked


def _switch(poll: Poll, *, active: bool, actor: User | None) -> bool:
    """Open or close a poll, once: switching to the state it is already in changes and tells nothing."""
    changed = Poll.objects.filter(pk=poll.pk, is_active=not active).update(
        is_active=active, updated_at=timezone.now(), results_version=F("results_version") + 1
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
    require_manager(poll, actor)
    with transaction.atomic():
        _switch(poll, active=active, actor=actor)
    return poll


def close_expired_polls() -> int:
    """Close the polls whose time is up: authors hear of it, subscribers get the final results."""
    closed = 0
    for poll in Poll.objects.overdue().select_related("author"):
        with transaction.atomic():
            closed += _switch(poll, active=False, actor=None)
    return closed


def delete_poll(*, poll: Poll, actor: User) -> None:
    require_manager(poll, actor)
    poll_id = poll.pk
    with transaction.atomic():
        poll.delete()
        public_bodies.forget_on_commit(poll_id)
        announce.poll_deleted(poll_id)


def remove_options(*, options: QuerySet[Option]) -> int:
    """Remove options (an offensive one, say) and the votes on them, counters following."""
    with transaction.atomic():
        rows = list(options.values_list("pk", "poll_id"))
        option_ids = [pk for pk, _ in rows]
        retract_votes(votes=Vote.objects.filter(option_id__in=option_ids))
        deleted, _ = Option.objects.filter(pk__in=option_ids).delete()
        poll_ids = {poll_id for _, poll_id in rows}
        for poll_id in poll_ids:
            move_counters(poll_id)  # the option list changed even where no one had picked it
        announce.results_changed(poll_ids)
    return deleted


# --- Votes ------------------------------------------------------------------------------


def cast_vote(*, poll: Poll, voter: Voter, option_ids: Iterable, challenge: str = "") -> CastBallot:
    """Record a voter's ballot on an open poll: some of its options, at most its choice limit.

    `challenge` is a solved proof-of-work challenge (ALTCHA payload), which polls.bot_defence
    requires of some anonymous ballots.

    What simultaneous requests could race (one ballot per voter, ANONYMOUS_BALLOTS_PER_IP
    anonymous ballots per address) is refereed where the ballot is written: polls.ballot_box.
    Returns the ballot, its votes, and the poll's results as committed with it.
    """
    require_can_take_part(poll, voter)
    try:
        wanted = {uuid.UUID(str(option_id)) for option_id in option_ids}
    except ValueError:
        raise errors.InvalidOption() from None
    if not wanted:
        raise errors.InvalidOption("Pick at least one option.")
    options = list(Option.objects.filter(poll=poll, pk__in=wanted))
    if len(options) != len(wanted):
        raise errors.InvalidOption()
    if len(options) > poll.choice_limit:
        raise errors.TooManyOptions(
            "This poll takes one option." if poll.choice_limit == 1 else f"Pick at most {poll.choice_limit} options."
        )
    bot_defence.check_ballot(poll=poll, voter=voter, solution=challenge)
    cast = ballot_box.cast(poll=poll, voter=voter, options=options)
    logger.info(
        "vote_cast",
        poll_id=str(poll.pk),
        ballot_id=str(cast.ballot.pk),
        voter="account" if voter.user else "anonymous",
        user_id=str(voter.user.pk) if voter.user else None,
        options=len(options),
    )
    return cast


def retract_votes(*, votes: QuerySet[Vote]) -> int:
    """Delete votes and move every counter they touched; empty ballots go too.

    Returns how many votes were removed. Two retractions racing on the same vote
    remove it once: the second finds it gone after waiting for the row lock.
    """
    with transaction.atomic():
        rows = list(votes.select_for_update().values_list("pk", "poll_id", "option_id", "ballot_id"))
        if not rows:
            return 0
        Vote.objects.filter(pk__in=[pk for pk, *_ in rows]).delete()
        per_poll = Counter(poll_id for _, poll_id, _, _ in rows)
        per_option = Counter(option_id for _, _, option_id, _ in rows)
        move_vote_counts(
            per_poll={poll_id: -count for poll_id, count in per_poll.items()},
            per_option={option_id: -count for option_id, count in per_option.items()},
        )
        Ballot.objects.filter(pk__in={ballot_id for *_, ballot_id in rows}, votes__isnull=True).delete()
        announce.results_changed(per_poll)
    logger.info("votes_retracted", votes=len(rows), polls=sorted(str(poll_id) for poll_id in per_poll))
    return len(rows)


def withdraw_vote(*, vote: Vote, voter: Voter | None, actor: User | None) -> None:
    """Take back one vote: its voter while the poll is open, or a moderator at any time."""
    if not require_voter_or_moderator(vote.ballot, voter, actor):
        require_can_take_part(vote.poll, voter)
    retract_votes(votes=Vote.objects.filter(pk=vote.pk))


def retract_ballot(*, poll: Poll, voter: Voter | None) -> int:
    """Take back a voter's whole ballot on a poll, so they can vote again.

    `voter` is None for a visitor we have never seen: they have nothing to take back.
    """
    if voter is None:
        raise errors.NotVoted()
    require_can_take_part(poll, voter)
    removed = retract_votes(votes=Vote.objects.filter(ballot__in=Ballot.objects.filter(poll=poll, **voter.lookup())))
    if not removed:
        raise errors.NotVoted()
    return removed


# --- Likes --------------------------------------------------------------------------------


def like_poll(*, poll: Poll, voter: Voter) -> Like:
    require_can_take_part(poll, voter)
    try:
        with transaction.atomic():
            like = Like.objects.create(poll=poll, **voter.identity())
            move_counters(poll.pk, likes_count=1)
            announce.liked(poll, like)
    except IntegrityError:
        if Like.objects.filter(poll=poll, **voter.lookup()).exists():
            raise errors.AlreadyLiked() from None
        raise
    return like


def remove_likes(*, likes: QuerySet[Like]) -> int:
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
    return len(rows)


def withdraw_like(*, like: Like, voter: Voter | None, actor: User | None) -> None:
    require_voter_or_moderator(like, voter, actor)
    if not remove_likes(likes=Like.objects.filter(pk=like.pk)):
        raise errors.NotLiked()


def unlike_poll(*, poll: Poll, voter: Voter | None) -> None:
    """`voter` is None for a visitor we have never seen: they like nothing."""
    if voter is None or not remove_likes(likes=Like.objects.filter(poll=poll, **voter.lookup())):
        raise errors.NotLiked()


def take_back_account(user: User) -> None:
    """An account is about to be deleted: its votes and likes leave the counts of the polls they were on."""
    retract_votes(votes=Vote.objects.filter(ballot__user=user))
    remove_likes(likes=Like.objects.filter(user=user))


# --- Reports ------------------------------------------------------------------------------


def report_poll(*, poll: Poll, reporter: User, reason: str, note: str = "") -> Report:
    if reason not in Report.Reason.values:
        raise errors.PollError(f"Choose a reason: {', '.join(Report.Reason.values)}.")
    try:
        with transaction.atomic():
            report = Report.objects.create(poll=poll, reporter=reporter, reason=reason, note=note.strip())
            announce.reported(poll, reporter)
    except IntegrityError:
        raise errors.AlreadyReported() from None
    return report


def handle_reports(*, reports: QuerySet[Report], moderator: User, status: str) -> int:
    """Resolve or dismiss open reports; reports already handled keep their outcome."""
    if status not in {Report.Status.RESOLVED, Report.Status.DISMISSED}:
        raise ValueError(f"Reports are resolved or dismissed, not {status!r}")
    return reports.filter(status=Report.Status.OPEN).update(
        status=status, handled_by=moderator, handled_at=timezone.now()
    )
