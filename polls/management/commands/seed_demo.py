import logging
import random
from contextlib import contextmanager
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import make_moderator
from polls import answers, decks, invites, services
from polls.models import Like, Poll, Report, Vote
from polls.voters import Voter

DEMO_PASSWORD = "quickpoll-demo"
DEMO_USERS = ["alice", "bob", "carol", "dave", "erin"]
MODERATOR = "moderator"

# (title, options, settings, share of voters who vote)
DEMO_POLLS = [
    ("Which language should our team learn next?", ["Python", "Rust", "Go", "TypeScript"], {}, 1.0),
    (
        "Which toppings belong on a pizza? (pick up to three)",
        ["Mushrooms", "Pineapple", "Olives", "Basil", "Anchovies"],
        {"method": Poll.Method.APPROVAL, "max_choices": 3},
        0.9,
    ),
    (
        "Tabs or spaces?",
        ["Tabs", "Spaces"],
        {"results_visibility": Poll.ResultsVisibility.AFTER_VOTE, "description": "Results show once you vote."},
        0.8,
    ),
    (
        "When should the team offsite happen?",
        ["March", "May", "September"],
        {"results_visibility": Poll.ResultsVisibility.AFTER_CLOSE, "expires_at_in": timedelta(days=3)},
        0.6,
    ),
    (
        "Rate this week's talk (only the speaker sees results)",
        ["Great", "Good", "Needs work"],
        {"results_visibility": Poll.ResultsVisibility.OWNER_ONLY},
        0.7,
    ),
    ("Unlisted: lunch order for Friday", ["Sushi", "Tacos", "Salad"], {"is_public": False}, 0.5),
    ("Members only: next book club pick", ["Dune", "Piranesi", "Middlemarch"], {"allow_anonymous": False}, 0.8),
    ("Closed: best editor of the year", ["Vim", "Emacs", "VS Code", "Helix"], {"expire": True}, 1.0),
    (
        "Secret ballot: who should chair next year's meetup?",
        ["Priya", "Tomás", "Mei"],
        {"is_secret": True, "description": "The meetup group elects its chair for next year."},
        0.7,
    ),
    (
        "Where should the spring meetup go? Rank the cities",
        ["Lisbon", "Berlin", "Kraków", "Valencia", "Tallinn"],
        {
            "method": Poll.Method.RANKED,
            "allow_write_ins": True,
            "description": "Rank as many as you like. Counted by instant runoff: the city with the fewest votes "
            "drops out and its ballots move to their next choice, round by round.",
        },
        1.0,
    ),
    (
        "In one word: what should our next meetup be about?",
        [],
        {
            "method": Poll.Method.TEXT,
            "answers_per_voter": 2,
            "answer_max_length": 30,
            "description": "A few words each; the same answers grow together in the cloud.",
        },
        0.9,
    ),
    (
        "Rate the conference talks",
        ["Opening keynote", "Scaling Postgres", "Accessible forms", "Live coding"],
        {"method": Poll.Method.SCORE, "description": "Zero to five stars; skip a talk you missed."},
        0.9,
    ),
    (
        "Invite-only: which venue for the board dinner?",
        ["The harbour", "The old mill", "Rooftop"],
        {"invite_only": True, "allow_anonymous": False},
        0.8,
    ),
]


# What a room answers to the open-text demo poll: some answers often, in different spellings.
DEMO_ANSWERS = [
    "Postgres", "postgres", "PostgreSQL", "Accessibility", "accessibility", "Testing", "testing!", "Rust",
    "WebSockets", "Security", "security", "Django", "Performance", "Design systems", "Open source", "Café chat",
    "cafe chat", "Type hints", "Observability", "Pair programming", "Postgres", "Testing", "Accessibility",
]


class Command(BaseCommand):
    help = "Load demo users, polls of every kind, votes and likes (once; later runs change nothing)."

    def handle(self, *args, **options):
        if User.objects.filter(username=MODERATOR).exists():
            self.stdout.write("Demo data is already loaded.")
            return
        rng = random.Random(2026)
        with _quiet_logs(), transaction.atomic():
            # Confirmed addresses: example.com receives no mail, and the demo should not nag about it.
            users = [
                User.objects.create_user(username=name, email=f"{name}@example.com", password=DEMO_PASSWORD, is_verified=True)
                for name in DEMO_USERS
            ]
            moderator = User.objects.create_user(
                username=MODERATOR, email="moderator@example.com", password=DEMO_PASSWORD, is_verified=True
            )
            make_moderator(user=moderator)
            for index, (title, option_texts, settings, turnout) in enumerate(DEMO_POLLS):
                self._create_poll(rng, index, users, title, option_texts, dict(settings), turnout)
            first_poll = Poll.objects.order_by("created_at").first()
            # A talk's deck: its speaker steps through their public polls, the room follows at the deck's code.
            talk = Poll.objects.filter(author=users[0], is_public=True).order_by("created_at")
            decks.create_deck(author=users[0], title="Friday team talk", poll_ids=[poll.pk for poll in talk])
            services.report_poll(poll=first_poll, reporter=users[-1], reason=Report.Reason.OTHER, note="Just a demo report.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {len(DEMO_POLLS)} demo polls ({Vote.objects.count()} votes, {Like.objects.count()} likes); "
                f"log in as {', '.join(DEMO_USERS)} or {MODERATOR}, password {DEMO_PASSWORD}."
            )
        )

    def _create_poll(self, rng, number, users, title, option_texts, settings, turnout):
        author = users[number % len(users)]
        expire = settings.pop("expire", False)
        expires_in = settings.pop("expires_at_in", None)
        if expires_in or expire:
            settings["expires_at"] = timezone.now() + (expires_in or timedelta(hours=1))
        poll = services.create_poll(author=author, title=title, options=option_texts, **settings)
        option_ids = list(poll.options.values_list("id", flat=True))
        voters = [Voter(user=user) for user in users if user != author]
        if poll.invite_only:
            # Each member votes through an invite of their own, as if they had followed its link.
            made = invites.create_invites(poll=poll, actor=author, count=len(voters) + 3, label="Board")
            voters = [invites.presenting(voter, invite.token) for voter, invite in zip(voters, made)]
        if poll.allow_anonymous:
            voters += [
                # Each poll's visitors from a network of their own (198.18.0.0/15, kept for tests like this one), so
                # no address takes part in more polls than the bot defence lets one address do without a challenge.
                Voter(anon_id=f"demo-visitor-{n}", ip_address=f"198.18.{number}.{n}", user_agent="demo")
                for n in range(1, 40)
            ]
        for voter in voters:
            if rng.random() > turnout:
                continue
            if poll.takes_answers:
                # Members give one or two answers; each visitor one, as a room's worth stays under the bot defence's threshold.
                for _ in range(rng.randint(1, poll.answers_per_voter) if voter.user else 1):
                    answers.submit_answer(poll=poll, voter=voter, text=rng.choice(DEMO_ANSWERS))
                continue
            services.cast_vote(poll=poll, voter=voter, **_demo_ballot(rng, poll, option_ids))
            if rng.random() < 0.3:
                services.like_poll(poll=poll, voter=voter)
        if expire:
            # Backdate the closing time so visitors see a finished poll with final results.
            Poll.objects.filter(pk=poll.pk).update(expires_at=timezone.now() - timedelta(days=2))


def _demo_ballot(rng, poll: Poll, option_ids: list) -> dict:
    """A plausible ballot: earlier options a little more popular, so rankings and scores tell a story."""
    weights = [len(option_ids) - index + rng.random() * 3 for index in range(len(option_ids))]
    by_taste = [pk for _, pk in sorted(zip((w * rng.random() for w in weights), option_ids), reverse=True)]
    if poll.method == Poll.Method.RANKED:
        return {"option_ids": by_taste[: rng.randint(1, len(option_ids))]}
    if poll.method == Poll.Method.SCORE:
        rated = rng.sample(option_ids, rng.randint(1, len(option_ids)))
        return {"scores": {str(pk): min(5, max(0, round(weights[option_ids.index(pk)] / 1.4 + rng.gauss(0, 1)))) for pk in rated}}
    return {"option_ids": by_taste[: rng.randint(1, poll.choice_limit)]}


@contextmanager
def _quiet_logs():
    """Each demo vote and like logs a line like a real one would; hundreds of them buried the server's start."""
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)
