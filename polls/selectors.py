"""Reads that several callers share: lists, search, results and statistics.

Anything listed to the public goes through Poll.objects.listed() (public_polls() here), so an
unlisted poll never shows up in a list, a search or a total; it opens by its id or link only.
"""

import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncHour
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, pgettext

from accounts.models import User
from polls import secret_ballots, tallies
from polls.models import Answer, Ballot, Like, Option, Poll, VoidedBallot, Vote, WriteIn
from polls.permissions import can_see_results
from polls.voters import Voter
from quickpoll.prepared import PreparedQuery

logger = logging.getLogger(__name__)

# Trending looks at the last two days; newer activity weighs more (a stepped time decay).
TRENDING_WEIGHTS = [(1, 8), (6, 4), (24, 2), (48, 1)]  # (within hours, weight)

# What every ballot and like reads first, with their SQL written once per thread (quickpoll.prepared).
_POLL_WITH_AUTHOR = PreparedQuery(lambda pk: Poll.objects.select_related("author").filter(pk=pk), Poll._meta.pk)
_OPTIONS_OF = PreparedQuery(lambda poll_id: Option.objects.filter(poll_id=poll_id), Option._meta.get_field("poll"))
_VOIDED_FOR_ACCOUNT = PreparedQuery(
    lambda poll_id, user_id: VoidedBallot.objects.filter(poll_id=poll_id, user_id=user_id).only("pk"),
    VoidedBallot._meta.get_field("poll"),
    VoidedBallot._meta.get_field("user"),
)
_VOIDED_FOR_VISITOR = PreparedQuery(
    lambda anon_id, poll_id: VoidedBallot.objects.filter(anon_id=anon_id, poll_id=poll_id, user__isnull=True).only("pk"),
    VoidedBallot._meta.get_field("anon_id"),
    VoidedBallot._meta.get_field("poll"),
)


def poll_with_author(pk) -> Poll | None:
    """A poll and its author, read fresh (None: no such poll)."""
    return _POLL_WITH_AUTHOR.first(pk)


def options_of(poll: Poll) -> list[Option]:
    """A poll's options, read fresh, in no particular order."""
    return _OPTIONS_OF.all(poll.pk)


def ballot_voided(poll: Poll, voter: Voter) -> bool:
    """Whether a moderator voided this voter's ballot on the poll (Voter.lookup's two shapes, each prepared)."""
    if voter.user is not None:
        return bool(_VOIDED_FOR_ACCOUNT.all(poll.pk, voter.user.pk))
    return bool(_VOIDED_FOR_VISITOR.all(voter.anon_id, poll.pk))


def public_polls() -> QuerySet[Poll]:
    """Listed polls; with public_total_votes, the total anyone may see (0 where results are hidden), for sorting."""
    return Poll.objects.listed().with_public_totals().select_related("author")


def recent_polls() -> QuerySet[Poll]:
    return public_polls().order_by("-created_at")


def popular_polls() -> QuerySet[Poll]:
    return public_polls().annotate(popularity=F("public_total_votes") + 2 * F("likes_count")).order_by(
        "-popularity", "-created_at"
    )


def _count_since(model, since) -> Subquery:
    rows = model.objects.filter(poll=OuterRef("pk"), created_at__gte=since).values("poll")
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")[:1], output_field=IntegerField()), Value(0))


def trending_polls() -> QuerySet[Poll]:
    """Open polls with the most votes and likes lately, recent hours counting most.

    Each window's counts are annotated (votes_1h, likes_1h, votes_6h, ...) for trend_summary.
    Votes count only where anyone may see the results: a poll rising on hidden votes would tell of them.
    """
    now = timezone.now()
    counts = {}
    score = Value(0)
    for hours, weight in TRENDING_WEIGHTS:
        since = now - timedelta(hours=hours)
        votes, likes = f"votes_{hours}h", f"likes_{hours}h"
        counts[votes] = Case(When(results_public=True, then=_count_since(Vote, since)), default=Value(0))
        counts[likes] = _count_since(Like, since)
        score = score + weight * (F(votes) + 2 * F(likes))
    horizon = now - timedelta(hours=TRENDING_WEIGHTS[-1][0])
    voted_lately = Q(results_public=True) & Exists(Vote.objects.filter(poll=OuterRef("pk"), created_at__gte=horizon))
    active_lately = voted_lately | Exists(Like.objects.filter(poll=OuterRef("pk"), created_at__gte=horizon))
    # A closed poll takes no more votes: it has nothing to trend towards.
    polls = public_polls().open().filter(active_lately).annotate(**counts)
    return polls.annotate(trend_score=score).order_by("-trend_score", "-created_at")


@dataclass(frozen=True)
class Trend:
    """Why a poll trends: its votes and likes in the shortest window that has any."""

    hours: int
    votes: int
    likes: int


def trend_summary(poll: Poll) -> Trend | None:
    """For a poll from trending_polls(); None for a poll without those annotations."""
    for hours, _weight in TRENDING_WEIGHTS:
        votes = getattr(poll, f"votes_{hours}h", 0)
        likes = getattr(poll, f"likes_{hours}h", 0)
        if votes or likes:
            return Trend(hours=hours, votes=votes, likes=likes)
    return None


@dataclass(frozen=True)
class PollCard:
    """What a poll's card in a list shows beyond the poll itself."""

    poll: Poll
    # The leading options (text, votes, percentage of all votes), only where anyone may see the results.
    preview: list[dict] | None = None
    trend: Trend | None = None


CARD_PREVIEW_OPTIONS = 3


def poll_cards(polls) -> list[PollCard]:
    """Cards for a page of polls, in two queries whatever the page size.

    A card previews results only where a visitor who has not voted may see them (can_see_results):
    a card never shows what the poll's page would hide.
    """
    polls = list(polls)
    shown = [poll.pk for poll in polls if can_see_results(poll=poll, user=None, has_voted=False)]
    options_by_poll: dict = {}
    for option in Option.objects.filter(poll_id__in=shown).order_by("position").only("id", "poll_id", "text", "vote_count", "score_sum"):
        options_by_poll.setdefault(option.poll_id, []).append(option)
    cards = []
    for poll in polls:
        preview = None
        if poll.pk in options_by_poll:
            ranked = sorted(option_results(poll, options_by_poll[poll.pk])["options"], key=lambda row: -row["percentage"])
            preview = ranked[:CARD_PREVIEW_OPTIONS]
        cards.append(PollCard(poll=poll, preview=preview, trend=trend_summary(poll)))
    return cards


def search_polls(query: str, *, within: QuerySet[Poll] | None = None) -> QuerySet[Poll]:
    """Title, description and option text, among `within` (public polls unless given). Ranked full-text search on PostgreSQL."""
    # PostgreSQL refuses NUL in a query (a 500) and no stored text holds one, so it can only miss.
    query = query.replace("\x00", " ").strip()
    polls = public_polls() if within is None else within
    if not query:
        return polls.none()
    if connection.vendor == "postgresql":
        text_query = SearchQuery(query, search_type="websearch", config="english")
        vector = SearchVector("title", weight="A", config="english") + SearchVector(
            "description", weight="B", config="english"
        )
        option_hit = Exists(
            Option.objects.filter(poll=OuterRef("pk"))
            .annotate(document=SearchVector("text", config="english"))
            .filter(document=text_query)
        )
        return (
            polls.annotate(document=vector, rank=SearchRank(vector, text_query), option_hit=option_hit)
            # Full-text misses word fragments ("pyth"); the title substring catches those.
            .filter(Q(document=text_query) | Q(option_hit=True) | Q(title__icontains=query))
            .order_by("-rank", "-public_total_votes", "-created_at")
        )
    option_hit = Exists(Option.objects.filter(poll=OuterRef("pk"), text__icontains=query))
    return polls.filter(Q(title__icontains=query) | Q(description__icontains=query) | option_hit).order_by(
        "-public_total_votes", "-created_at"
    )


def platform_stats() -> dict:
    """Totals of listed polls; votes only where anyone may see the results (a sum moving would tell of hidden ones)."""
    polls = Poll.objects.listed()
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    totals = polls.with_public_totals().aggregate(
        votes=Coalesce(Sum("public_total_votes"), 0), likes=Coalesce(Sum("likes_count"), 0)
    )
    return {
        "total_polls": polls.count(),
        "open_polls": polls.open().count(),
        "total_votes": totals["votes"],
        "total_likes": totals["likes"],
        "total_users": User.objects.filter(is_active=True).count(),
        "today": {
            "polls_created": polls.filter(created_at__gte=today).count(),
            "votes": Vote.objects.filter(poll__in=polls.results_public(), created_at__gte=today).count(),
            "likes": Like.objects.filter(poll__in=polls, created_at__gte=today).count(),
        },
    }


# --- One poll -------------------------------------------------------------------------------


@dataclass(frozen=True)
class VoterState:
    """What one voter has done on one poll."""

    ballot_id: str | None = None
    my_votes: list[str] = field(default_factory=list)  # a ranked ballot's in its order
    my_scores: dict[str, int] = field(default_factory=dict)  # a score ballot's
    liked: bool = False
    my_answers: list[Answer] = field(default_factory=list)  # an open-text poll's, oldest first

    @property
    def has_voted(self) -> bool:
        """A ballot cast, or on an open-text poll an answer given."""
        return self.ballot_id is not None or bool(self.my_answers)


def voter_states(*, polls, voter: Voter | None) -> dict:
    """VoterState per poll id for a page of polls, in three queries whatever the page size (four with open-text polls)."""
    poll_ids = [poll.pk for poll in polls]
    if voter is None or not poll_ids:
        return {}
    in_order = Prefetch("votes", queryset=Vote.objects.order_by("rank", "created_at"))
    ballots = Ballot.objects.filter(poll_id__in=poll_ids, **voter.lookup()).prefetch_related(in_order)
    liked = set(Like.objects.filter(poll_id__in=poll_ids, **voter.lookup()).values_list("poll_id", flat=True))
    states = {poll_id: VoterState(liked=True) for poll_id in liked}
    for ballot in ballots:
        votes = ballot.votes.all()
        states[ballot.poll_id] = VoterState(
            ballot_id=str(ballot.pk),
            my_votes=[str(vote.option_id) for vote in votes],
            my_scores={str(vote.option_id): vote.score for vote in votes if vote.score is not None},
            liked=ballot.poll_id in liked,
        )
    text_poll_ids = [poll.pk for poll in polls if poll.takes_answers]
    if text_poll_ids:  # a fourth query, only for a page holding open-text polls
        given = defaultdict(list)
        for answer in Answer.objects.filter(poll_id__in=text_poll_ids, **voter.lookup()).order_by("created_at"):
            given[answer.poll_id].append(answer)
        for poll_id, answers in given.items():
            states[poll_id] = VoterState(liked=poll_id in liked, my_answers=answers)
    return states


def results_hidden_reason(poll: Poll) -> str:
    """Tells a voter when hidden results will show."""
    rule = poll.results_visibility
    if poll.is_presenting and poll.audience_results == Poll.AudienceResults.HIDDEN and not (poll.is_secret and poll.is_open):
        return gettext("The presenter is keeping the results hidden for now.")
    if poll.is_secret and poll.is_open:
        if rule == Poll.ResultsVisibility.OWNER_ONLY:
            return gettext("This is a secret ballot: results show, to its author, once the poll closes.")
        return gettext("This is a secret ballot: results show, to everyone alike, once the poll closes.")
    if rule == Poll.ResultsVisibility.AFTER_VOTE:
        return gettext("Results show once you have voted.")
    if rule == Poll.ResultsVisibility.AFTER_CLOSE:
        if poll.expires_at:
            # Words for people: clients wanting the instant read the poll's expires_at.
            when = date_format(timezone.localtime(poll.expires_at), pgettext("closing time", "j F Y, H:i T"))
            return gettext("Results show when the poll closes, at %(when)s.") % {"when": when}
        return gettext("Results show when the author closes the poll.")
    return gettext("Only the poll's author sees the results.")


def option_results(poll: Poll, options) -> dict:
    """Counts and percentages for a poll's options (Option rows, in display order), from the counters.

    total_votes is what the poll counts (Poll.counts_ballots): options picked, or ballots. A ranked poll's
    votes are first preferences; a score poll's are ratings, with the mean score and, as percentage, the
    mean as a share of the top score (the length of its bar).
    """
    options = list(options)
    picked = sum(option.vote_count for option in options)
    score = poll.method == Poll.Method.SCORE
    # Every ranked ballot has one first preference, so their sum is the ballots; a score ballot rates several,
    # and an open-text poll has no options: its total_votes counts its visible answers.
    total = poll.total_votes if score or poll.takes_answers else picked
    rows = [
        tallies.score_row(
            poll,
            pk=option.pk,
            text=option.text,
            ratings=option.vote_count,
            mean=option.score_sum / option.vote_count if option.vote_count else None,
        )
        if score
        else {
            "id": str(option.pk),
            "text": option.text,
            "votes": option.vote_count,
            "percentage": round(100 * option.vote_count / picked, 1) if picked else 0.0,
        }
        for option in options
    ]
    return {"method": poll.method, "total_votes": total, "options": rows}


def poll_results(poll: Poll) -> dict:
    """Results read fresh from the counters (not from a prefetched, possibly older copy)."""
    if poll.method == Poll.Method.SCORE or poll.takes_answers:
        poll.total_votes = Poll.objects.values_list("total_votes", flat=True).get(pk=poll.pk)
    options = Option.objects.filter(poll=poll).order_by("position").only("id", "text", "vote_count", "score_sum")
    return option_results(poll, options)


# Counted results live as long as their version is the newest; an hour bounds what a forgotten poll keeps.
FULL_RESULTS_SECONDS = 3600


def full_results(poll: Poll) -> dict:
    """poll_results plus the method's own count: a ranked poll's instant-runoff rounds, pairwise matrix and
    Condorcet winner, a score poll's distributions, an open-text poll's answer groups. Counted once per results version (the cache key holds
    it), whoever asks first; every reader of that version gets the same answer."""
    if not poll.counts_ballots and not poll.takes_answers:
        return poll_results(poll)
    key = f"poll-full-results:{poll.pk}:{poll.results_version}"
    try:
        cached = cache.get(key)
    except Exception:
        logger.warning("counted results of poll %s unreadable", poll.pk, exc_info=True)
        cached = None
    if cached is None:
        cached = _count_once(poll, key)
    return cached


# How long readers wait for the reader counting a version before counting it themselves.
COUNTING_WAIT_SECONDS = 5.0


def _count_once(poll: Poll, key: str) -> dict:
    """Count a version nobody has cached yet. Readers arriving together (a hot poll's page after each vote)
    leave it to the first: the others wait for its answer in the cache instead of each counting again."""
    try:
        counting = cache.add(f"{key}:counting", True, int(COUNTING_WAIT_SECONDS) + 1)
    except Exception:
        counting = True  # no cache to share a count through: count
    if not counting:
        deadline = time.monotonic() + COUNTING_WAIT_SECONDS
        while time.monotonic() < deadline:
            time.sleep(0.02)
            try:
                cached = cache.get(key)
            except Exception:
                break
            if cached is not None:
                return cached
    counted = tallies.count(poll)
    try:
        cache.set(key, counted, FULL_RESULTS_SECONDS)
    except Exception:
        logger.warning("counted results of poll %s not cached", poll.pk, exc_info=True)
    return counted


def vote_stats(poll: Poll) -> dict:
    ballots = Ballot.objects.filter(poll=poll)
    votes = Vote.objects.filter(poll=poll)
    # What total_votes counts, hour by hour: options picked, or a ranked or score poll's ballots.
    counted = ballots.filter(Exists(votes.filter(ballot=OuterRef("pk")))) if poll.counts_ballots else votes
    per_hour = (
        counted.annotate(hour=TruncHour("created_at")).values("hour").annotate(votes=Count("pk")).order_by("hour")
    )
    return {
        **poll_results(poll),
        "unique_voters": ballots.count(),
        "account_voters": ballots.filter(user__isnull=False).count(),
        "anonymous_voters": ballots.filter(user__isnull=True).count(),
        "account_votes": votes.filter(ballot__user__isnull=False).count(),
        "anonymous_votes": votes.filter(ballot__user__isnull=True).count(),
        "votes_per_hour": [{"hour": row["hour"].isoformat(), "votes": row["votes"]} for row in per_hour],
    }


def user_stats(user: User, *, viewer: User | None) -> dict:
    """A user's numbers; their unlisted polls count only for themselves and moderators."""
    polls = Poll.objects.filter(author=user).listed_for(viewer)
    return {
        "polls_created": polls.count(),
        "votes_cast": Vote.objects.filter(ballot__user=user).count(),
        "likes_given": Like.objects.filter(user=user).count(),
        "likes_received": polls.aggregate(n=Coalesce(Sum("likes_count"), 0))["n"],
    }


def export_rows(poll: Poll):
    """Every ballot, anonymised: a running number, account or anonymous, when, and the options picked, in
    the poll's method's shape so that anyone can recount it: a ranked ballot's `ranking` (first preference
    first), a score ballot's `scores` (option → score); with option ids beside the texts.

    A secret poll's are its sealed ballots in receipt order: the receipt and the options, nothing of who or when.
    """
    if poll.is_secret:
        texts = secret_ballots.option_texts(poll)
        for sealed in secret_ballots.ballots_of(poll).iterator(chunk_size=500):
            row = secret_ballots.listed_ballot(sealed, texts)
            yield {"receipt": row["receipt"], "options": [option["text"] for option in row["options"]]}
        return
    ballots = Ballot.objects.filter(poll=poll).order_by("created_at", "pk").prefetch_related("votes__option")
    for number, ballot in enumerate(ballots.iterator(chunk_size=500), start=1):
        # A ranking in rank order, other ballots in the poll's order.
        votes = sorted(ballot.votes.all(), key=lambda vote: (vote.rank or 0, vote.option.position))
        row = {
            "ballot": number,
            "voter_kind": "account" if ballot.user_id else "anonymous",
            "cast_at": ballot.created_at.isoformat(),
            "options": [vote.option.text for vote in votes],
            "option_ids": [str(vote.option_id) for vote in votes],
        }
        if poll.method == Poll.Method.RANKED:
            row["ranking"] = row["options"]
        elif poll.method == Poll.Method.SCORE:
            row["scores"] = {vote.option.text: vote.score for vote in votes}
        yield row


def export_answers(poll: Poll):
    """Every answer of an open-text poll, hidden ones included and marked, oldest first: a running number,
    account or anonymous (as ballots are exported: nobody named), when, the text and the group it counts in."""
    answers = Answer.objects.filter(poll=poll).order_by("created_at", "pk")
    for number, answer in enumerate(answers.iterator(chunk_size=500), start=1):
        yield {
            "answer": number,
            "voter_kind": "account" if answer.user_id else "anonymous",
            "created_at": answer.created_at.isoformat(),
            "text": answer.text,
            "key": answer.key,
            "hidden": answer.hidden,
        }


def write_ins_of(poll: Poll, *, status: str | None = None) -> QuerySet[WriteIn]:
    """A poll's suggested options, oldest first: its author's queue (status pending) on the page and in the API."""
    write_ins = WriteIn.objects.filter(poll=poll).select_related("suggested_by", "option")
    return write_ins.filter(status=status) if status else write_ins
