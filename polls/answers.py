"""Open-text polls: voters write short answers; answers that read the same are one group.

A group's key folds case, accents, spacing and punctuation at the ends, so "Café", "cafe " and
"CAFE!" count together. The poll's managers hide a group from every screen at once; an answer
that joins a hidden group later stays hidden too. total_votes counts the visible answers.
"""

import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext

from accounts import audit
from accounts.models import User
from polls import announce, anonymous_cap, bot_defence, errors, public_bodies
from polls.models import Answer, Poll
from polls.permissions import (
    acts_as_moderator,
    require_can_take_part,
    require_manager,
    require_voter_or_moderator,
)
from polls.voters import Voter

logger = structlog.get_logger(__name__)


def _spaced(text) -> str:
    return " ".join(str(text).split())


def normalise(text) -> str:
    """The group an answer belongs to: case and accents folded, spacing collapsed, end punctuation dropped."""
    decomposed = unicodedata.normalize("NFKD", _spaced(text).casefold())
    folded = [char for char in decomposed if not unicodedata.combining(char)]
    edge = [unicodedata.category(char)[0] in "PZ" for char in folded]  # punctuation or a space
    start = edge.index(False) if False in edge else len(folded)
    end = len(folded) - edge[::-1].index(False) if False in edge else start
    return "".join(folded[start:end])


@lru_cache(maxsize=4)
def _words_in(path: str) -> frozenset[str]:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return frozenset(normalise(line) for line in lines if line.strip() and not line.lstrip().startswith("#"))


def _words(key: str) -> list[str]:
    return "".join(char if char.isalnum() else " " for char in key).split()


def is_profane(key: str) -> bool:
    """Whether a normalised answer holds a word from the operator's list (PROFANITY_WORDS_FILE)."""
    banned = _words_in(settings.PROFANITY_WORDS_FILE)
    return any(word in banned for word in _words(key))


def _clean(poll: Poll, text) -> tuple[str, str]:
    text = _spaced(text) if isinstance(text, str) else ""
    key = normalise(text)
    if not key:
        raise errors.AnswerEmpty()
    if len(text) > poll.answer_max_length:
        raise errors.AnswerTooLong(
            gettext("Answers to this poll are at most %(characters)d characters.") % {"characters": poll.answer_max_length}
        )
    if poll.filter_profanity and is_profane(key):
        raise errors.AnswerNotAllowed()
    return text, key


def submit_answer(*, poll: Poll, voter: Voter, text, challenge: str = "") -> Answer:
    """Record one answer of a voter, up to the poll's answers_per_voter; anonymous voters meet the bot
    defence and ANONYMOUS_BALLOTS_PER_IP (distinct anonymous voters per address) as ballots do."""
    if not poll.takes_answers:
        raise errors.NotTextPoll()
    require_can_take_part(poll, voter)
    text, key = _clean(poll, text)
    bot_defence.check_ballot(poll=poll, voter=voter, solution=challenge)
    with transaction.atomic():
        # The poll's row lock orders this voter's answers, and the poll closing, against each other.
        _lock(poll.pk)
        locked = Poll.objects.get(pk=poll.pk)
        if not locked.is_open:
            raise errors.PollClosed()
        given = Answer.objects.filter(poll=poll, **voter.lookup()).count()
        if given >= locked.answers_per_voter:
            raise errors.TooManyAnswers(
                gettext("You have given the one answer this poll takes.")
                if locked.answers_per_voter == 1
                else gettext("You have given the %(answers)d answers this poll takes.") % {"answers": locked.answers_per_voter}
            )
        address = anonymous_cap.capped_address(voter)
        if address is not None and not given:
            anonymous_cap.lock_addresses(Answer, {poll.pk: {address}})
            voters_there = (
                Answer.objects.filter(poll=poll, user__isnull=True, ip_address=address)
                .values("anon_id").distinct().count()
            )
            if voters_there >= settings.ANONYMOUS_BALLOTS_PER_IP:
                raise errors.AnonymousLimitReached()
        hidden = Answer.objects.filter(poll=poll, key=key, hidden=True).exists()
        answer = Answer.objects.create(poll=poll, text=text, key=key, hidden=hidden, **voter.identity())
        if not hidden:
            Poll.objects.filter(pk=poll.pk).update(
                total_votes=F("total_votes") + 1, results_version=F("results_version") + 1
            )
            public_bodies.forget_on_commit(poll.pk)
        # Told as a ballot is: the author hears of it, and the voter's pages look again at what they may see.
        announce.ballots_cast({locked: [voter]}, [])
        if not hidden:
            announce.answer_submitted(locked, kind="answer", text=text)
    logger.info("answer_submitted", poll_id=str(poll.pk), answer_id=str(answer.pk), hidden=hidden,
                voter="account" if voter.user else "anonymous")
    return answer


def _lock(poll_id) -> None:
    """Hold the poll's row lock to the commit: answers, hides and take-backs of one poll go one at a time."""
    list(Poll.objects.select_for_update(no_key=True).filter(pk=poll_id).values_list("pk", flat=True))


def _move_visible(poll_id, by: int) -> None:
    Poll.objects.filter(pk=poll_id).update(
        total_votes=F("total_votes") + by, results_version=F("results_version") + 1
    )
    public_bodies.forget_on_commit(poll_id)


def remove_answers(answers, *, moderator: User | None = None) -> int:
    """Delete answers (a queryset) and move the totals of the polls they were on; returns how many went.
    Two removals racing on one answer remove it once."""
    with transaction.atomic():
        poll_ids = sorted(set(answers.values_list("poll_id", flat=True)))
        for poll_id in poll_ids:  # in order: two removals never wait on each other's polls
            _lock(poll_id)
        rows = list(answers.filter(poll_id__in=poll_ids).values_list("pk", "poll_id", "hidden", "text"))
        Answer.objects.filter(pk__in=[pk for pk, *_ in rows]).delete()
        visible = Counter(poll_id for _, poll_id, hidden, _ in rows if not hidden)
        for poll_id, count in visible.items():
            _move_visible(poll_id, -count)
        announce.results_changed({poll_id for _, poll_id, _, _ in rows})
        if moderator is not None:
            for poll in Poll.objects.filter(pk__in={poll_id for _, poll_id, _, _ in rows}):
                texts = [text for _, poll_id, _, text in rows if poll_id == poll.pk]
                audit.record(actor=moderator, action=audit.Action.ANSWERS_REMOVED, target=poll, details={"texts": texts})
    return len(rows)


def take_back(*, answer: Answer, voter: Voter | None, actor: User | None) -> None:
    """Remove an answer: its voter while the poll is open, or a moderator at any time."""
    as_moderator = require_voter_or_moderator(answer, voter, actor)
    if not as_moderator:
        require_can_take_part(answer.poll, voter)
    moderator = actor if as_moderator and actor.pk != answer.user_id else None
    if not remove_answers(Answer.objects.filter(pk=answer.pk), moderator=moderator):
        raise errors.AnswerNotFound()


def hide(*, poll: Poll, actor: User, key: str, hidden: bool = True) -> int:
    """Hide (or show again) every answer of a group, now and later ones. Returns how many answers changed."""
    require_manager(poll, actor)
    key = normalise(key) if isinstance(key, str) else ""
    with transaction.atomic():
        _lock(poll.pk)
        group = Answer.objects.filter(poll=poll, key=key)
        if not key or not group.exists():
            raise errors.AnswerNotFound(gettext("No answer of this poll reads that way."))
        changed = group.filter(hidden=not hidden).update(hidden=hidden)
        if changed:
            _move_visible(poll.pk, -changed if hidden else changed)
            announce.results_changed([poll.pk])
            if acts_as_moderator(actor, poll):
                audit.record(
                    actor=actor, action=audit.Action.ANSWERS_HIDDEN, target=poll, details={"key": key, "hidden": hidden}
                )
    logger.info("answers_hidden" if hidden else "answers_shown", poll_id=str(poll.pk), answers=changed)
    return changed
