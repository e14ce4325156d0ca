"""What the notification mails about polls say: final results, a handled report, the weekly digest.

accounts.mail sends them (opt-in per kind, unsubscribe link); this module only gathers what they tell.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from accounts.mail import absolute_url, send_notification_mail, wants
from accounts.models import User
from polls.models import Ballot, Like, Poll, Report
from polls.selectors import poll_results

DIGEST_DAYS = 7


def poll_url(poll: Poll) -> str:
    return absolute_url(reverse("poll-detail", args=[poll.slug]))


def mail_final_results(poll: Poll) -> None:
    """A poll closed: its author, if they asked, gets the final results (a secret poll's are counted after it
    closes, and an open-text poll's are answers: their mail links to the page instead)."""
    if not wants(poll.author, "poll_closed"):
        return
    results = None if poll.is_secret or poll.takes_answers else poll_results(poll)
    context = {"poll": poll, "poll_url": poll_url(poll), "results": results}
    send_notification_mail(user=poll.author, kind="poll_closed", context=context)


def mail_reports_handled(poll: Poll, *, status: str, count: int) -> None:
    """Moderators resolved or dismissed reports on a poll; its author hears the outcome, never who reported."""
    context = {"poll": poll, "poll_url": poll_url(poll), "resolved": status == Report.Status.RESOLVED, "count": count}
    send_notification_mail(user=poll.author, kind="report_handled", context=context)


def _activity(user: User, since) -> list[dict]:
    """Per poll of the user's with anything new since `since`: ballots, likes, whether it closed."""
    polls = Poll.objects.filter(author=user)
    # A secret poll's ballots carry the poll's own creation time, not when they were cast: not counted here.
    ballots = dict(
        Ballot.objects.filter(poll__in=polls.filter(is_secret=False), created_at__gte=since)
        .values("poll").annotate(n=Count("pk")).values_list("poll", "n")
    )
    likes = dict(Like.objects.filter(poll__in=polls, created_at__gte=since).values("poll").annotate(n=Count("pk")).values_list("poll", "n"))
    closed = set(polls.filter(closed_at__gte=since).values_list("pk", flat=True))
    active_ids = set(ballots) | set(likes) | closed
    return [
        {
            "poll": poll,
            "poll_url": poll_url(poll),
            "ballots": ballots.get(poll.pk, 0),
            "likes": likes.get(poll.pk, 0),
            "closed": poll.pk in closed,
        }
        for poll in polls.filter(pk__in=active_ids).order_by("-created_at")
    ]


def send_weekly_digests(*, now=None) -> int:
    """The clock's weekly digest: each account that opted in and had none for a week gets one, if its polls
    saw any activity. Returns how many were sent."""
    now = now or timezone.now()
    since = now - timedelta(days=DIGEST_DAYS)
    due = User.objects.filter(is_active=True, email_weekly_digest=True).exclude(digest_sent_at__gt=since)
    sent = 0
    for user in due.iterator():
        last = max(user.digest_sent_at or since, since)
        activity = _activity(user, last)
        with transaction.atomic():
            # Marked even when there is nothing to tell: the account is looked at again in a week, not every round.
            User.objects.filter(pk=user.pk).update(digest_sent_at=now)
            if activity:
                context = {
                    "polls": activity,
                    "ballots": sum(row["ballots"] for row in activity),
                    "likes": sum(row["likes"] for row in activity),
                    "since": last,
                }
                sent += send_notification_mail(user=user, kind="weekly_digest", context=context)
    return sent
