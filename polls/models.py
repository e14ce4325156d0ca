import re
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from polls import join_codes

MIN_OPTIONS = 2
MAX_OPTIONS = 20


# A poll's id as its links write it; a slug never has this shape.
CANONICAL_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class PollQuerySet(models.QuerySet):
    def by_ref(self, ref: str) -> "PollQuerySet":
        """The poll a shareable link names, by its slug or its id: both make links."""
        return self.filter(pk=ref) if CANONICAL_UUID.match(ref.lower()) else self.filter(slug=ref)

    """The names every list, filter, count and job uses for a poll's state and who sees it.

    open() and closed() split polls exactly as Poll.is_open does for one row.
    """

    def _expired(self) -> Q:
        # As Poll.is_expired: a poll without a closing time never expires.
        return Q(expires_at__isnull=False, expires_at__lte=timezone.now())

    def expired(self) -> "PollQuerySet":
        """Past their closing time, whether or not they have been closed since."""
        return self.filter(self._expired())

    def unexpired(self) -> "PollQuerySet":
        return self.exclude(self._expired())

    def open(self) -> "PollQuerySet":
        """Taking votes now: active and not past their closing time."""
        return self.filter(is_active=True).unexpired()

    def closed(self) -> "PollQuerySet":
        """Closed by hand or by the clock."""
        return self.filter(Q(is_active=False) | self._expired())

    def overdue(self) -> "PollQuerySet":
        """Still marked active though their closing time has passed: what close_expired_polls closes."""
        return self.filter(is_active=True).expired()

    def held(self) -> "PollQuerySet":
        """On a moderation hold: closed and unlisted until a moderator lifts it (as Poll.is_held)."""
        return self.filter(held_at__isnull=False)

    def _results_public(self) -> Q:
        # As polls.permissions.can_see_results for a visitor who has not voted.
        rule = Poll.ResultsVisibility
        by_rule = Q(results_visibility=rule.ALWAYS) | (
            Q(results_visibility__in=[rule.AFTER_VOTE, rule.AFTER_CLOSE]) & (Q(is_active=False) | self._expired())
        )
        # While presenting, the presenter's reveal or hide stands in for the rule; no reveal opens an open secret poll.
        overridden = Q(presenting_since__isnull=False) & ~Q(audience_results=Poll.AudienceResults.RULE)
        open_secret = Q(is_secret=True, is_active=True) & ~self._expired()
        revealed = overridden & Q(audience_results=Poll.AudienceResults.SHOWN) & ~open_secret
        return revealed | (~overridden & by_rule)

    def results_public(self) -> "PollQuerySet":
        """Polls whose results (their total too) anyone may see, voter or not."""
        return self.filter(self._results_public())

    def with_public_totals(self) -> "PollQuerySet":
        """Annotates results_public and public_total_votes: total_votes where anyone may see the results, 0 where
        they are hidden. What sorting and summing by votes use, so no order or sum reveals a hidden total."""
        return self.annotate(
            results_public=models.Case(
                models.When(self._results_public(), then=models.Value(True)),
                default=models.Value(False),
                output_field=models.BooleanField(),
            ),
            public_total_votes=models.Case(
                models.When(self._results_public(), then=models.F("total_votes")),
                default=models.Value(0),
                output_field=models.PositiveIntegerField(),
            ),
        )

    def listed(self) -> "PollQuerySet":
        """What lists, searches and totals show to everyone: unlisted polls open by their link only."""
        return self.filter(is_public=True)

    def listed_for(self, viewer) -> "PollQuerySet":
        """Listed polls, plus the viewer's own unlisted ones; every poll for staff (moderators).

        The query form of polls.permissions.can_manage: a poll is here if it is listed or the viewer manages it.
        """
        if viewer is None or not viewer.is_authenticated:
            return self.listed()
        if viewer.is_staff:
            return self.all()
        return self.filter(Q(is_public=True) | Q(author=viewer))


class Poll(models.Model):
    class ResultsVisibility(models.TextChoices):
        ALWAYS = "always", _("Always")
        AFTER_VOTE = "after_vote", _("After voting")
        AFTER_CLOSE = "after_close", _("After the poll closes")
        OWNER_ONLY = "owner_only", _("Only to the author")

    class Method(models.TextChoices):
        SINGLE = "single", _("Single choice")
        APPROVAL = "approval", _("Approval")
        RANKED = "ranked", _("Ranked choice")
        SCORE = "score", _("Score")
        TEXT = "text", _("Open text")

    class AudienceResults(models.TextChoices):
        RULE = "rule", _("Follow the poll's rule")
        SHOWN = "shown", _("Shown to the audience")
        HIDDEN = "hidden", _("Hidden from the audience")

    class BotProtection(models.TextChoices):
        OFF = "off", _("Off")
        ADAPTIVE = "adaptive", _("When anonymous traffic is unusual")
        ALWAYS = "always", _("For every anonymous ballot")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=2000)
    slug = models.SlugField(max_length=220, unique=True)
    # What an audience types to reach the poll (polls.join_codes): unique among polls and decks alike.
    join_code = models.CharField(max_length=8, unique=True, editable=False, default=join_codes.poll_code)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="polls")
    is_active = models.BooleanField(default=True)
    method = models.CharField(max_length=10, choices=Method.choices, default=Method.SINGLE)
    min_choices = models.PositiveSmallIntegerField(
        default=1, help_text=_("How many options a ballot must pick (approval), rank (ranked) or rate (score).")
    )
    max_choices = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text=_("How many options a ballot may pick, rank or rate (empty: any).")
    )
    score_min = models.PositiveSmallIntegerField(default=0, help_text=_("Score polls: the lowest score."))
    score_max = models.PositiveSmallIntegerField(default=5, help_text=_("Score polls: the highest score."))
    allow_write_ins = models.BooleanField(default=False, help_text=_("Voters may suggest options of their own."))
    answer_max_length = models.PositiveSmallIntegerField(default=60, help_text="Open-text polls: the longest answer.")
    answers_per_voter = models.PositiveSmallIntegerField(default=1, help_text="Open-text polls: answers one voter may give.")
    filter_profanity = models.BooleanField(
        default=True, help_text="Open-text polls: refuse answers with a word from the operator's list (PROFANITY_WORDS_FILE)."
    )
    write_ins_need_approval = models.BooleanField(
        default=True, help_text=_("Suggested options wait for the author (or a moderator) before voters see them.")
    )
    is_public = models.BooleanField(default=True, help_text=_("Unlisted polls open by link but never appear in lists."))
    allow_anonymous = models.BooleanField(default=True, help_text=_("Visitors without an account may vote and like."))
    invite_only = models.BooleanField(
        default=False, help_text=_("Only holders of an invite link may vote, accounts and anonymous visitors alike.")
    )
    results_visibility = models.CharField(
        max_length=20, choices=ResultsVisibility.choices, default=ResultsVisibility.ALWAYS
    )
    bot_protection = models.CharField(
        max_length=10,
        choices=BotProtection.choices,
        default=BotProtection.ADAPTIVE,
        help_text="When anonymous voters must solve a proof-of-work challenge (polls.bot_defence).",
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    # Sites whose pages may frame /embed/<slug> (polls.embeds); empty: any site.
    embed_origins = models.JSONField(
        default=list,
        blank=True,
        help_text="Sites that may show this poll in a frame, e.g. https://blog.example.org; empty: any site.",
    )
    is_secret = models.BooleanField(
        default=False,
        help_text="Secret ballot: who took part and what was chosen are kept apart (polls.secret_ballots).",
    )
    # Denormalised counters: moved only with F() expressions by polls.services.
    total_votes = models.PositiveIntegerField(default=0)
    likes_count = models.PositiveIntegerField(default=0)
    views_count = models.PositiveIntegerField(default=0)
    # Grows with every change to the counts: live clients keep the newest snapshot they saw.
    results_version = models.PositiveBigIntegerField(default=0)
    # While a presenter shows the poll to a room (polls.presenting), the results may be shown or hidden
    # whatever results_visibility says; the poll's own rule applies again when presenting ends.
    presenting_since = models.DateTimeField(null=True, blank=True, editable=False)
    audience_results = models.CharField(
        max_length=10, choices=AudienceResults.choices, default=AudienceResults.RULE, editable=False
    )
    # A moderation hold keeps the poll closed and unlisted until a moderator lifts it (polls.services.hold_poll).
    held_at = models.DateTimeField(null=True, blank=True)
    held_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    hold_reason = models.TextField(blank=True, max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When the poll was last closed by hand or by the clock (its closing time may come earlier).
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When voters' addresses and browsers were last cut back (polls.retention); a later close means again.
    personal_data_cleared_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = PollQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_choices__isnull=True) | Q(max_choices__gte=1), name="poll_max_choices_positive"
            ),
            models.CheckConstraint(
                condition=~Q(method="single") | Q(max_choices__isnull=True) | Q(max_choices=1),
                name="poll_single_choice_has_no_max",
            ),
            models.CheckConstraint(
                condition=Q(min_choices__gte=1) & (Q(max_choices__isnull=True) | Q(max_choices__gte=F("min_choices"))),
                name="poll_choice_range",
            ),
            models.CheckConstraint(
                condition=Q(score_min__lte=1) & Q(score_max__gt=F("score_min")) & Q(score_max__lte=10),
                name="poll_score_range",
            ),
            models.CheckConstraint(
                condition=Q(answer_max_length__gte=1) & Q(answer_max_length__lte=200)
                & Q(answers_per_voter__gte=1) & Q(answers_per_voter__lte=10),
                name="poll_answer_limits",
            ),
        ]
        indexes = [
            models.Index(fields=["is_public", "-created_at"], name="poll_public_recent_idx"),
            models.Index(fields=["author", "-created_at"], name="poll_author_recent_idx"),
        ]

    def __str__(self):
        return self.title

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_open(self) -> bool:
        """As Poll.objects.open() for one row (a test holds the two together)."""
        return self.is_active and not self.is_expired

    @property
    def is_held(self) -> bool:
        """As Poll.objects.held() for one row."""
        return self.held_at is not None

    @property
    def allow_multiple(self) -> bool:
        """Approval voting, under the name the first API and forms gave it."""
        return self.method == self.Method.APPROVAL

    @allow_multiple.setter
    def allow_multiple(self, value: bool) -> None:
        if value:
            self.method = self.Method.APPROVAL
        elif self.method == self.Method.APPROVAL:
            self.method = self.Method.SINGLE

    @property
    def is_presenting(self) -> bool:
        return self.presenting_since is not None

    @property
    def takes_answers(self) -> bool:
        """An open-text poll: voters write answers instead of picking options."""
        return self.method == self.Method.TEXT

    @property
    def counts_ballots(self) -> bool:
        """Whether total_votes counts ballots (ranked, score) rather than options picked (single, approval)."""
        return self.method in {self.Method.RANKED, self.Method.SCORE}

    @property
    def choice_limit(self) -> int:
        """How many options one ballot may hold."""
        if self.method == self.Method.SINGLE:
            return 1
        return self.max_choices or MAX_OPTIONS

    @property
    def choice_minimum(self) -> int:
        return 1 if self.method == self.Method.SINGLE else self.min_choices


class Option(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="options")
    text = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField(default=0)
    # Picks; in a ranked poll first preferences, in a score poll ratings (polls.counters).
    vote_count = models.PositiveIntegerField(default=0)
    # Score polls: the sum of the scores given, so a mean needs no count of rows.
    score_sum = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["poll", "position"], name="option_unique_position"),
        ]

    def __str__(self):
        return self.text


class VoterRecord(models.Model):
    """What one voter may do once per poll: cast a ballot, like it.

    The voter is an account or an anonymous visitor's anon_id, never both. The
    unique constraints make the "once" hold in the database, whichever of two
    racing requests gets there first.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="%(class)ss")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="%(class)ss"
    )
    anon_id = models.CharField(max_length=64, blank=True, default="")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(anon_id="")) | (Q(user__isnull=True) & ~Q(anon_id="")),
                name="%(class)s_has_one_voter",
            ),
            models.UniqueConstraint(
                fields=["poll", "user"], condition=Q(user__isnull=False), name="%(class)s_one_per_user"
            ),
            models.UniqueConstraint(
                fields=["poll", "anon_id"], condition=~Q(anon_id=""), name="%(class)s_one_per_anon"
            ),
        ]

    @property
    def voter_label(self) -> str:
        return str(self.user) if self.user_id else f"anonymous {self.anon_id[:8]}"


class Invite(models.Model):
    """A single-use link to an invite-only poll: whoever holds its token may cast one ballot.

    "Used" is the Ballot that holds it (Ballot.invite is unique, so the database lets one ballot
    have it); revoking stops future use and leaves a ballot already cast with it counted.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="invites")
    # 128 random bits, URL-safe (polls.invites.new_token): the link is the only credential.
    token = models.CharField(max_length=64, unique=True, editable=False)
    email = models.EmailField(blank=True, default="")
    label = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["poll", "created_at"], name="invite_poll_time_idx")]

    def __str__(self):
        return self.email or self.label or f"invite {self.token[:6]}…"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class Ballot(VoterRecord):
    """One voter's ballot on one poll; its votes are the options picked.

    In a secret poll it only records that the voter took part: no votes, the poll's own
    created_at, no user agent; the choices are a SealedBallot that nothing links to it.
    """

    user_agent = models.CharField(max_length=300, blank=True, default="")
    # One invite admits one ballot: the unique index referees two voters racing on one link.
    invite = models.OneToOneField(Invite, on_delete=models.SET_NULL, null=True, blank=True, related_name="ballot")
    # Not auto_now_add: a secret poll's participation rows take the poll's created_at instead of now.
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # A ranked ballot's options by position, first preference first ("3.0.4"), kept with its Vote rows by
    # polls.ballot_box and services.retract_votes: a recount groups these instead of sorting every vote.
    ranking = models.CharField(max_length=80, blank=True, default="", editable=False)

    class Meta(VoterRecord.Meta):
        indexes = [models.Index(fields=["poll", "ip_address"], name="ballot_poll_ip_idx")]

    def __str__(self):
        return f"{self.voter_label} on {self.poll}"


class Vote(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    ballot = models.ForeignKey(Ballot, on_delete=models.CASCADE, related_name="votes")
    # poll repeats ballot.poll so counts per poll need no join; services keep them equal.
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="votes")
    option = models.ForeignKey(Option, on_delete=models.CASCADE, related_name="votes")
    # Ranked polls: 1 is the ballot's first preference. Score polls: the score given.
    rank = models.PositiveSmallIntegerField(null=True, blank=True)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["ballot", "option"], name="vote_one_per_option"),
            models.UniqueConstraint(fields=["ballot", "rank"], condition=Q(rank__isnull=False), name="vote_one_per_rank"),
        ]
        indexes = [models.Index(fields=["poll", "created_at"], name="vote_poll_time_idx")]

    def __str__(self):
        return f"{self.ballot.voter_label} → {self.option}"

    @property
    def user(self):
        return self.ballot.user

    @property
    def anon_id(self) -> str:
        return self.ballot.anon_id


class SealedBallot(models.Model):
    """What one secret ballot chose, apart from who cast it (polls.secret_ballots).

    No key to Ballot or to a user, no timestamp, a random id; the clock rewrites a poll's rows
    in receipt order (reseal), so neither their order on disk nor their transaction id tells
    which participation row they came with.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="sealed_ballots")
    # The voter's receipt code: shown to them once, public in the ballot list, never on their Ballot.
    receipt = models.CharField(max_length=16)
    option_ids = models.JSONField(default=list, help_text="Ids of the options picked, as strings.")
    # False from the insert until the clock's next reseal rewrites the row.
    resealed = models.BooleanField(default=False)

    class Meta:
        ordering = ["receipt"]
        constraints = [
            models.UniqueConstraint(fields=["poll", "receipt"], name="sealedballot_unique_receipt"),
        ]
        indexes = [
            models.Index(fields=["poll"], condition=Q(resealed=False), name="sealedballot_to_reseal_idx"),
        ]

    def __str__(self):
        return f"ballot {self.receipt} on {self.poll}"


class Like(VoterRecord):
    class Meta(VoterRecord.Meta):
        indexes = [models.Index(fields=["poll", "created_at"], name="like_poll_time_idx")]

    def __str__(self):
        return f"{self.voter_label} likes {self.poll}"


class VoidedBallot(VoterRecord):
    """A ballot a moderator voided: its votes are gone from every count, and its voter may not vote on the poll again.

    created_at is when it was voided; cast_at when it was cast.
    """

    cast_at = models.DateTimeField()
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta(VoterRecord.Meta):
        pass

    def __str__(self):
        return f"voided: {self.voter_label} on {self.poll}"


class Report(models.Model):
    class Reason(models.TextChoices):
        SPAM = "spam", _("Spam")
        ABUSE = "abuse", _("Abusive or hateful")
        MISLEADING = "misleading", _("Misleading")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")
        DISMISSED = "dismissed", _("Dismissed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    note = models.TextField(blank=True, max_length=1000)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One open report per person per poll: reporting again adds nothing for moderators.
            models.UniqueConstraint(
                fields=["poll", "reporter"], condition=Q(status="open"), name="report_one_open_per_reporter"
            ),
        ]

    def __str__(self):
        return f"{self.get_reason_display()}: {self.poll}"


class WriteInQuerySet(models.QuerySet):
    def pending(self) -> "WriteInQuerySet":
        """Waiting for the author or a moderator: each holds one of its poll's MAX_OPTIONS places."""
        return self.filter(status=WriteIn.Status.PENDING)

    def suggested_by_voter(self, voter) -> "WriteInQuerySet":
        """Suggested by this polls.voters.Voter (an account, or an anonymous visitor's anon_id)."""
        if voter.user is not None:
            return self.filter(suggested_by=voter.user)
        return self.filter(suggested_by__isnull=True, anon_id=voter.anon_id)


class WriteIn(models.Model):
    """An option a voter suggested (Poll.allow_write_ins): it becomes an Option at once or once the author
    or a moderator accepts it (Poll.write_ins_need_approval)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="write_ins")
    text = models.CharField(max_length=100)
    suggested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="write_ins"
    )
    anon_id = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # The option it became, once accepted.
    option = models.OneToOneField(Option, on_delete=models.SET_NULL, null=True, blank=True, related_name="write_in")
    created_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = WriteInQuerySet.as_manager()

    class Meta:
        verbose_name = "write-in"
        ordering = ["created_at"]
        indexes = [models.Index(fields=["poll", "status"], name="writein_poll_status_idx")]

    def __str__(self):
        return f"{self.text} (suggested on {self.poll})"

    @property
    def suggester_label(self) -> str:
        if self.suggested_by_id:
            return str(self.suggested_by)
        return f"anonymous {self.anon_id[:8]}" if self.anon_id else "a deleted account"


class Answer(models.Model):
    """One answer to an open-text poll (polls.answers). A voter may give up to Poll.answers_per_voter;
    answers with the same `key` are one group in the word cloud, and are hidden or shown together."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="answers")
    text = models.CharField(max_length=200)
    key = models.CharField(max_length=200, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="answers"
    )
    anon_id = models.CharField(max_length=64, blank=True, default="")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    hidden = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(anon_id="")) | (Q(user__isnull=True) & ~Q(anon_id="")),
                name="answer_has_one_voter",
            ),
        ]
        indexes = [
            models.Index(fields=["poll", "key"], name="answer_poll_key_idx"),
            models.Index(fields=["poll", "user"], name="answer_poll_user_idx"),
            models.Index(fields=["poll", "anon_id"], name="answer_poll_anon_idx"),
            models.Index(fields=["poll", "ip_address"], name="answer_poll_ip_idx"),
        ]

    def __str__(self):
        return f"{self.text} (on {self.poll})"

    @property
    def voter_label(self) -> str:
        return str(self.user) if self.user_id else f"anonymous {self.anon_id[:8]}"


class Deck(models.Model):
    """Polls a presenter steps through in order; the audience at /j/<join_code> follows the current one."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="decks")
    title = models.CharField(max_length=200)
    join_code = models.CharField(max_length=8, unique=True, editable=False, default=join_codes.deck_code)
    # The index of the poll on screen now, among the deck's items in order.
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.title

    @property
    def current_poll(self) -> Poll | None:
        # `position` is an index, not DeckItem.position: a deleted poll leaves a gap in those.
        items = list(self.items.select_related("poll__author").order_by("position")[self.position : self.position + 1])
        return items[0].poll if items else None


class DeckItem(models.Model):
    deck = models.ForeignKey(Deck, on_delete=models.CASCADE, related_name="items")
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="deck_items")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["deck", "position"], name="deckitem_unique_position"),
            models.UniqueConstraint(fields=["deck", "poll"], name="deckitem_one_per_poll"),
        ]

    def __str__(self):
        return f"{self.deck}: {self.poll}"
