"""The benchmark's data, made and checked through QuickPoll's own models and services.

Call `setup()` first (with the server's environment); every other function runs outside any
event loop, because the Django ORM is synchronous.
"""

import itertools
import os
import uuid
from collections import Counter

BENCH_PASSWORD = "bench-voter-password"


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()


def make_author():
    from accounts.models import User

    return User.objects.create_user(username="bench-author", email="bench-author@example.invalid", password=BENCH_PASSWORD)


def make_voter_tokens(count: int, *, batch: int = 5000) -> list[str]:
    """`count` fresh accounts and an access token for each; one password hash serves them all."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import User

    password = make_password(BENCH_PASSWORD)
    tokens = []
    for start in range(0, count, batch):
        users = [
            User(username=f"bench-voter-{n}", email=f"bench-voter-{n}@example.invalid", password=password)
            for n in range(start, min(count, start + batch))
        ]
        User.objects.bulk_create(users, batch_size=batch)
        tokens.extend(access_token(user) for user in users)
    return tokens


def access_token(user) -> str:
    from rest_framework_simplejwt.tokens import AccessToken

    return str(AccessToken.for_user(user))


def make_poll(*, author, title: str, method: str = "single", options: list[str] | None = None) -> dict:
    """A fresh open poll, anonymous voters allowed: four options, single choice unless `method` says otherwise."""
    from polls.services import create_poll

    options = options or ["Red", "Green", "Blue", "Yellow"]
    poll = create_poll(author=author, title=title, options=options, method=method, allow_anonymous=True)
    return {
        "id": str(poll.pk),
        "slug": poll.slug,
        "method": poll.method,
        "option_ids": [str(pk) for pk in poll.options.order_by("position").values_list("pk", flat=True)],
    }


def poll_counts(poll_id: str) -> dict:
    """The poll's three views of its votes: its counter, its options' counters, its Vote rows."""
    from django.db.models import Sum

    from polls.models import Ballot, Option, Poll, Vote

    first_preferences = Counter(Vote.objects.filter(poll_id=poll_id, rank=1).values_list("option_id", flat=True))
    return {
        "total_votes": Poll.objects.values_list("total_votes", flat=True).get(pk=poll_id),
        "option_sum": Option.objects.filter(poll_id=poll_id).aggregate(total=Sum("vote_count"))["total"] or 0,
        "vote_rows": Vote.objects.filter(poll_id=poll_id).count(),
        "ballot_rows": Ballot.objects.filter(poll_id=poll_id).count(),
        # A ranked poll's: each ballot's first preference, and whether every option's vote_count equals its own.
        "rank_one_rows": sum(first_preferences.values()),
        "first_preferences_exact": all(
            count == first_preferences[pk] for pk, count in Option.objects.filter(poll_id=poll_id).values_list("pk", "vote_count")
        ),
    }


def counted_exactly(counts: dict, *, method: str, accepted: int) -> bool:
    """Every 201 counted once: single choice, one Vote row each; ranked, one ballot and one first preference each."""
    if method == "ranked":
        same = {counts["total_votes"], counts["ballot_rows"], counts["rank_one_rows"], counts["option_sum"], accepted}
        return len(same) == 1 and counts["first_preferences_exact"]
    return counts["total_votes"] == counts["option_sum"] == counts["vote_rows"] == accepted


def anon_id() -> str:
    return str(uuid.uuid4())


_visitors = itertools.count()


def anonymous_voter_headers() -> dict:
    """A new anonymous visitor: a fresh X-Anon-Id, from an address of its own (X-Forwarded-For,
    which nginx passes on), so ANONYMOUS_BALLOTS_PER_IP applies as it does in real life."""
    number = next(_visitors)
    return {
        "X-Anon-Id": anon_id(),
        "X-Forwarded-For": f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}",
        "Content-Type": "application/json",
    }
