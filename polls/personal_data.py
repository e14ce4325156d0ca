"""What polls keeps about one user, for their data export (accounts.personal_data).

Registered from PollsConfig.ready(). Only the user's own rows: their polls with their counts,
their ballots (with the address and browser kept with them, see polls.retention), their likes,
the reports they filed and the options they suggested; never another voter's ballot or identity.
"""

from django.db.models import Prefetch

from accounts.models import User
from polls.models import Answer, Ballot, Like, Option, Poll, Report, Vote, WriteIn
from polls.permissions import can_see_results


def _poll_ref(poll: Poll) -> dict:
    return {"id": poll.pk, "title": poll.title, "slug": poll.slug}


def polls_authored(user: User) -> list[dict]:
    polls = Poll.objects.filter(author=user).order_by("created_at").prefetch_related(
        Prefetch("options", queryset=Option.objects.order_by("position"))
    )
    return [_poll_authored(poll, user) for poll in polls]


def _poll_authored(poll: Poll, user: User) -> dict:
    # An open secret poll's counts are hidden from its author too; a download must not show them either.
    shown = can_see_results(poll=poll, user=user, has_voted=False)
    return {
        **_poll_ref(poll),
        "description": poll.description,
        "is_active": poll.is_active,
        "is_public": poll.is_public,
        "allow_anonymous": poll.allow_anonymous,
        "method": poll.method,
        "min_choices": poll.min_choices,
        "max_choices": poll.max_choices,
        "results_visibility": poll.results_visibility,
        "expires_at": poll.expires_at,
        "closed_at": poll.closed_at,
        "created_at": poll.created_at,
        "total_votes": poll.total_votes if shown else None,
        "likes_count": poll.likes_count,
        "views_count": poll.views_count,
        "options": [
            {"text": option.text, "vote_count": option.vote_count if shown else None} for option in poll.options.all()
        ],
    }


def ballots_cast(user: User) -> list[dict]:
    ballots = (
        Ballot.objects.filter(user=user)
        .order_by("created_at")
        .select_related("poll")
        .prefetch_related(Prefetch("votes", queryset=Vote.objects.select_related("option").order_by("option__position")))
    )
    return [
        {
            "poll": _poll_ref(ballot.poll),
            # A secret ballot's choices are sealed apart from it: only that they took part is theirs to see.
            "secret": ballot.poll.is_secret,
            "options": [vote.option.text for vote in ballot.votes.all()],
            "cast_at": ballot.created_at,
            "ip_address": ballot.ip_address,
            "user_agent": ballot.user_agent,
        }
        for ballot in ballots
    ]


def likes_given(user: User) -> list[dict]:
    likes = Like.objects.filter(user=user).order_by("created_at").select_related("poll")
    return [{"poll": _poll_ref(like.poll), "liked_at": like.created_at, "ip_address": like.ip_address} for like in likes]


def reports_filed(user: User) -> list[dict]:
    reports = Report.objects.filter(reporter=user).order_by("created_at").select_related("poll")
    return [
        {
            "poll": _poll_ref(report.poll),
            "reason": report.reason,
            "note": report.note,
            "status": report.status,
            "created_at": report.created_at,
            "handled_at": report.handled_at,
        }
        for report in reports
    ]


def options_suggested(user: User) -> list[dict]:
    write_ins = WriteIn.objects.filter(suggested_by=user).order_by("created_at").select_related("poll")
    return [
        {
            "poll": _poll_ref(write_in.poll),
            "text": write_in.text,
            "status": write_in.status,
            "created_at": write_in.created_at,
            "handled_at": write_in.handled_at,
        }
        for write_in in write_ins
    ]


def answers_given(user: User) -> list[dict]:
    given = Answer.objects.filter(user=user).order_by("created_at").select_related("poll")
    return [
        {"poll": _poll_ref(answer.poll), "text": answer.text, "hidden": answer.hidden, "created_at": answer.created_at}
        for answer in given
    ]


SECTIONS = {
    "polls": polls_authored,
    "ballots": ballots_cast,
    "likes": likes_given,
    "reports": reports_filed,
    "suggested_options": options_suggested,
    "answers": answers_given,
}
