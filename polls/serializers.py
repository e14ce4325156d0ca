"""Shapes of the polls API. They validate input shape only; rules live in polls.services and polls.permissions."""

from collections.abc import Mapping

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import PublicUserSerializer
from polls import decks, invites, selectors
from polls.models import MAX_OPTIONS, Answer, Deck, Like, Poll, Report, Vote, WriteIn
from polls.permissions import can_manage, can_see_results, can_vote
from polls.selectors import VoterState


class ResultOptionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    text = serializers.CharField()
    votes = serializers.IntegerField(
        required=False,
        help_text="Present when results are visible to you. Picks; in a ranked poll first preferences, "
        "in a score poll ratings.",
    )
    percentage = serializers.FloatField(
        required=False,
        help_text="Present when results are visible to you. Share of the votes; in a score poll the mean as a "
        "share of the top score.",
    )
    mean = serializers.FloatField(required=False, allow_null=True, help_text="Score polls: the mean score (null: unrated).")


class ResultsSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=Poll.Method.choices)
    total_votes = serializers.IntegerField(
        help_text="Options picked (single, approval), ballots (ranked, score) or visible answers (text)."
    )
    options = ResultOptionSerializer(many=True)


class NamedOptionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    text = serializers.CharField()


class TalliedOptionSerializer(NamedOptionSerializer):
    votes = serializers.IntegerField()


class RunoffRoundSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    tallies = TalliedOptionSerializer(many=True, help_text="The options still in the race, in the poll's order.")
    eliminated = NamedOptionSerializer(allow_null=True, help_text="Null in the last round.")
    tie_broken_by = serializers.ChoiceField(
        choices=["", "first preferences", "poll order"],
        help_text="How a tie for last place was broken: the fewest first preferences goes, then the option later "
        "in the poll's order.",
    )
    transfers = TalliedOptionSerializer(many=True, help_text="Where the eliminated option's ballots went.")
    exhausted_now = serializers.IntegerField(help_text="Of those ballots, how many ranked no option left in the race.")
    exhausted = serializers.IntegerField(help_text="Ballots out of the count when this round was counted.")


class PairwiseRowSerializer(NamedOptionSerializer):
    beats = serializers.DictField(child=serializers.IntegerField(), help_text="Other option id → ballots ranking this one above it.")


class RankedResultsSerializer(serializers.Serializer):
    ballots = serializers.IntegerField()
    winner = serializers.UUIDField(allow_null=True, help_text="The instant-runoff winner; null without ballots.")
    condorcet_winner = serializers.UUIDField(allow_null=True, help_text="The option beating every other head to head, if one does.")
    exhausted = serializers.IntegerField()
    rounds = RunoffRoundSerializer(many=True)
    pairwise = PairwiseRowSerializer(many=True)


class ScoreOptionSerializer(ResultOptionSerializer):
    distribution = serializers.ListField(child=serializers.IntegerField(), help_text="Ratings at each score, lowest first.")


class ScoreResultsSerializer(serializers.Serializer):
    min = serializers.IntegerField()
    max = serializers.IntegerField()
    ballots = serializers.IntegerField()
    options = ScoreOptionSerializer(many=True)


class AnswerGroupSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The group's answers, case, accents and spacing folded.")
    text = serializers.CharField(help_text="The group's most common spelling.")
    count = serializers.IntegerField()
    weight = serializers.IntegerField(min_value=1, max_value=5, help_text="Its size in a word cloud, 1 to 5.")


class AnswerResultsSerializer(serializers.Serializer):
    answers = serializers.IntegerField(help_text="Visible answers.")
    voters = serializers.IntegerField(help_text="Voters who gave them.")
    groups = AnswerGroupSerializer(many=True, help_text="At most 100 groups, most answers first.")


class FullResultsSerializer(ResultsSerializer):
    """Documents selectors.full_results: the counts, and a ranked, score or open-text poll's own block."""

    ranked = RankedResultsSerializer(required=False, help_text="Ranked polls: every instant-runoff round.")
    score = ScoreResultsSerializer(required=False, help_text="Score polls: each option's distribution of scores.")
    answers = AnswerResultsSerializer(required=False, help_text="Open-text polls: the visible answers, grouped.")


class PlatformTodaySerializer(serializers.Serializer):
    polls_created = serializers.IntegerField()
    votes = serializers.IntegerField()
    likes = serializers.IntegerField()


class PlatformStatsSerializer(serializers.Serializer):
    """Documents selectors.platform_stats() (public polls only)."""

    total_polls = serializers.IntegerField()
    open_polls = serializers.IntegerField()
    total_votes = serializers.IntegerField()
    total_likes = serializers.IntegerField()
    total_users = serializers.IntegerField()
    today = PlatformTodaySerializer()


class UserStatsSerializer(serializers.Serializer):
    """Documents selectors.user_stats()."""

    polls_created = serializers.IntegerField()
    votes_cast = serializers.IntegerField()
    likes_given = serializers.IntegerField()
    likes_received = serializers.IntegerField()


class VotesInHourSerializer(serializers.Serializer):
    hour = serializers.DateTimeField()
    votes = serializers.IntegerField()


class VoteStatsSerializer(ResultsSerializer):
    """Documents selectors.vote_stats()."""

    unique_voters = serializers.IntegerField()
    account_voters = serializers.IntegerField()
    anonymous_voters = serializers.IntegerField()
    account_votes = serializers.IntegerField()
    anonymous_votes = serializers.IntegerField()
    votes_per_hour = VotesInHourSerializer(many=True)


class ModerationSerializer(serializers.Serializer):
    """A poll's moderation hold, shown to its author and moderators."""

    held = serializers.BooleanField()
    reason = serializers.CharField(allow_blank=True)
    held_at = serializers.DateTimeField(allow_null=True)
    held_by = serializers.CharField(allow_null=True, help_text="Moderators only; null for the author.")


class PollSerializer(serializers.ModelSerializer):
    """A poll as its reader sees it: results only where the poll's rule allows.

    The view passes `voter_states` (poll id → VoterState) in the context, so a page
    of polls costs one query for "have I voted / liked", not one per poll.
    """

    author = PublicUserSerializer(read_only=True)
    options = serializers.SerializerMethodField()
    is_expired = serializers.BooleanField(read_only=True)
    is_open = serializers.BooleanField(read_only=True)
    allow_multiple = serializers.BooleanField(read_only=True, help_text="Whether method is approval.")
    has_voted = serializers.SerializerMethodField()
    my_votes = serializers.SerializerMethodField()
    liked = serializers.SerializerMethodField()
    can_vote = serializers.SerializerMethodField()
    results_visible = serializers.SerializerMethodField()
    results_note = serializers.SerializerMethodField()
    total_votes = serializers.SerializerMethodField()
    moderation = serializers.SerializerMethodField()
    presenting = serializers.BooleanField(source="is_presenting", read_only=True, help_text="Shown to a room now.")

    class Meta:
        model = Poll
        fields = [
            "id",
            "title",
            "description",
            "slug",
            "join_code",
            "author",
            "is_active",
            "is_public",
            "method",
            "allow_multiple",
            "min_choices",
            "max_choices",
            "score_min",
            "score_max",
            "allow_write_ins",
            "write_ins_need_approval",
            "answer_max_length",
            "answers_per_voter",
            "filter_profanity",
            "allow_anonymous",
            "invite_only",
            "results_visibility",
            "is_secret",
            "bot_protection",
            "embed_origins",
            "expires_at",
            "is_expired",
            "is_open",
            "total_votes",
            "likes_count",
            "views_count",
            "created_at",
            "updated_at",
            "options",
            "has_voted",
            "my_votes",
            "liked",
            "can_vote",
            "results_visible",
            "results_note",
            "moderation",
            "presenting",
        ]
        read_only_fields = fields

    def _state(self, poll) -> VoterState:
        return self.context.get("voter_states", {}).get(poll.pk, VoterState())

    def _user(self):
        request = self.context.get("request")
        return request.user if request is not None else None

    @extend_schema_field(serializers.BooleanField())
    def get_results_visible(self, poll) -> bool:
        return can_see_results(poll=poll, user=self._user(), has_voted=self._state(poll).has_voted)

    @extend_schema_field(serializers.IntegerField(allow_null=True, help_text="Null while the results are hidden from you."))
    def get_total_votes(self, poll) -> int | None:
        # Hidden means hidden: the total would tell what the options' counts do not.
        return poll.total_votes if self.get_results_visible(poll) else None

    @extend_schema_field(ModerationSerializer(allow_null=True))
    def get_moderation(self, poll) -> dict | None:
        """The hold, for the poll's author and moderators; null for everyone else."""
        user = self._user()
        if not can_manage(user, poll):
            return None
        return {
            "held": poll.is_held,
            "reason": poll.hold_reason,
            "held_at": poll.held_at,
            "held_by": str(poll.held_by) if poll.held_by_id and user.is_staff else None,
        }

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_results_note(self, poll) -> str | None:
        return None if self.get_results_visible(poll) else selectors.results_hidden_reason(poll)

    @extend_schema_field(ResultOptionSerializer(many=True))
    def get_options(self, poll) -> list[dict]:
        if self.get_results_visible(poll):
            return selectors.option_results(poll, poll.options.all())["options"]
        return [{"id": str(option.pk), "text": option.text} for option in poll.options.all()]

    def get_has_voted(self, poll) -> bool:
        return self._state(poll).has_voted

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_my_votes(self, poll) -> list[str]:
        return self._state(poll).my_votes

    def get_liked(self, poll) -> bool:
        return self._state(poll).liked

    def get_can_vote(self, poll) -> bool:
        return can_vote(self._user(), poll, has_voted=self._state(poll).has_voted)


class PollWriteSerializer(serializers.Serializer):
    """Create (and PUT/PATCH) body; docs/api.md's example {"title", "description", "options", "allow_multiple"} works as is."""

    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    options = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=200),
        max_length=100,
        required=False,
        help_text=f"Option texts, 2 to {MAX_OPTIONS}, all different; none for an open-text poll.",
    )
    method = serializers.ChoiceField(
        choices=Poll.Method.choices,
        required=False,
        default=None,
        help_text="How voters vote: one option (single), several (approval), an order (ranked, counted by instant "
        "runoff), a score for each (score) or a few words of their own (text). Without it, allow_multiple picks "
        "single or approval.",
    )
    allow_multiple = serializers.BooleanField(required=False, default=False, help_text="The same as method: approval.")
    min_choices = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_OPTIONS, default=1, help_text="The fewest options a ballot picks, ranks or rates."
    )
    max_choices = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_OPTIONS,
        default=None,
        help_text="The most options a ballot picks, ranks or rates (null: any).",
    )
    score_min = serializers.IntegerField(required=False, min_value=0, max_value=1, default=0, help_text="Score polls: 0 or 1.")
    score_max = serializers.IntegerField(required=False, min_value=2, max_value=10, default=5, help_text="Score polls: 2 to 10.")
    allow_write_ins = serializers.BooleanField(
        required=False, default=False, help_text="Voters may suggest options (not in secret polls)."
    )
    write_ins_need_approval = serializers.BooleanField(
        required=False, default=True, help_text="Suggested options wait for the author before voters see them."
    )
    answer_max_length = serializers.IntegerField(
        required=False, min_value=1, max_value=200, default=60, help_text="Open-text polls: the longest answer."
    )
    answers_per_voter = serializers.IntegerField(
        required=False, min_value=1, max_value=10, default=1, help_text="Open-text polls: answers one voter may give."
    )
    filter_profanity = serializers.BooleanField(
        required=False, default=True, help_text="Open-text polls: refuse answers holding a word from the operator's list."
    )
    is_public = serializers.BooleanField(required=False, default=True)
    allow_anonymous = serializers.BooleanField(required=False, default=True)
    invite_only = serializers.BooleanField(
        required=False, default=False, help_text="Voting needs an invite (POST /api/polls/{id}/invites makes them)."
    )
    results_visibility = serializers.ChoiceField(
        choices=Poll.ResultsVisibility.choices, required=False, default=Poll.ResultsVisibility.ALWAYS
    )
    bot_protection = serializers.ChoiceField(
        choices=Poll.BotProtection.choices,
        required=False,
        default=Poll.BotProtection.ADAPTIVE,
        help_text="When anonymous voters must send a solved proof-of-work challenge: never, once anonymous "
        "traffic is unusual, or always (GET /api/polls/{id}/challenge).",
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    embed_origins = serializers.ListField(
        child=serializers.CharField(max_length=300),
        max_length=100,
        required=False,
        default=list,
        help_text="Sites whose pages may show the poll's embed (/embed/{slug}) in a frame, e.g. "
        '["https://blog.example.org", "https://*.example.org"]; empty: any site.',
    )
    is_secret = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Secret ballot: choices kept apart from voters, a receipt per voter, no changing a vote, "
        "results after closing. Set or unset only before the first ballot.",
    )


    def to_internal_value(self, data):
        """Options are required, as any missing field is, except for an open-text poll, which has none."""
        try:
            value, problems = super().to_internal_value(data), {}
        except serializers.ValidationError as exc:
            value, problems = None, dict(exc.detail) if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        if isinstance(data, Mapping) and not self.partial and "options" not in data and data.get("method") != Poll.Method.TEXT:
            problems.setdefault("options", [serializers.Field.default_error_messages["required"]])
        if problems:
            raise serializers.ValidationError(problems)
        return value

    def validate(self, data):
        if data.get("method") is None:
            data.pop("method", None)  # left out: allow_multiple says single or approval, and an edit keeps the method
        return data


class HoldSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, help_text="Why the poll is held; its author reads it.")


class LiftHoldSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class VoidBallotsSerializer(serializers.Serializer):
    """Which ballots of the poll to void: an address range, a time window, or both."""

    network = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default="", help_text="An address or a CIDR range, e.g. 203.0.113.0/24."
    )
    since = serializers.DateTimeField(required=False, allow_null=True, default=None, help_text="Cast at or after.")
    until = serializers.DateTimeField(required=False, allow_null=True, default=None, help_text="Cast before.")
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    preview = serializers.BooleanField(required=False, default=False, help_text="Only count; void nothing.")


class VoidedBallotsSerializer(serializers.Serializer):
    voided = serializers.IntegerField(help_text="Ballots voided (with preview: that would be voided).")
    preview = serializers.BooleanField()


class ReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = Report
        fields = ["id", "poll", "reason", "note", "status", "created_at"]
        read_only_fields = ["id", "poll", "status", "created_at"]


class ExportQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=["json", "csv"], default="json")


# --- Votes and likes ------------------------------------------------------------------------


@extend_schema_field(serializers.IntegerField())
class ScoreField(serializers.Field):
    """A score as the voter sent it: polls.services judges it (a bool, a string or a fraction is
    score_out_of_range there, like a number off the scale), so every bad score gets the same code."""

    def to_internal_value(self, data):
        return data


class BallotSerializer(serializers.Serializer):
    """A voter's ballot in the poll's method's shape, with what the poll may ask of them (an invite, a solved challenge)."""

    option_ids = serializers.ListField(
        child=serializers.UUIDField(),
        max_length=100,
        allow_empty=True,
        required=False,
        default=list,
        help_text="Single and approval polls: the options picked. Ranked polls: the options in the voter's order, "
        "first preference first.",
    )
    scores = serializers.DictField(
        child=ScoreField(allow_null=True),
        required=False,
        default=None,
        allow_null=True,
        allow_empty=True,
        help_text='Score polls: option id → score, e.g. {"<option id>": 4}; options left out are unrated.',
    )
    invite = serializers.CharField(
        required=False,
        max_length=64,
        help_text="On an invite-only poll: the token of the invite link (/i/<token>); the X-Invite header does as well.",
    )
    altcha = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=4096,
        default="",
        help_text="A solved challenge from GET /api/polls/{id}/challenge (base64, as the ALTCHA widget makes it), "
        "where the poll asks for one (428 challenge_required); the X-Altcha header works too.",
    )


class VoteCreateSerializer(BallotSerializer):
    poll_id = serializers.UUIDField()


class ChallengeParametersSerializer(serializers.Serializer):
    algorithm = serializers.CharField()
    nonce = serializers.CharField()
    salt = serializers.CharField()
    cost = serializers.IntegerField()
    keyLength = serializers.IntegerField()
    keyPrefix = serializers.CharField()
    keySignature = serializers.CharField()
    expiresAt = serializers.IntegerField(help_text="Unix time after which the challenge is refused.")
    data = serializers.DictField(help_text='{"poll": "<poll id>"}: a challenge counts for its poll only.')


class ChallengeSerializer(serializers.Serializer):
    """An ALTCHA (PoW v2) challenge: find the counter whose PBKDF2 key starts with keyPrefix."""

    parameters = ChallengeParametersSerializer()
    signature = serializers.CharField()


class VoteSerializer(serializers.ModelSerializer):
    """A vote; who cast it only for the poll's author and staff, the IP and browser for staff alone."""

    poll_id = serializers.UUIDField(read_only=True)
    option_id = serializers.UUIDField(read_only=True)
    ballot_id = serializers.UUIDField(read_only=True)
    option_text = serializers.CharField(source="option.text", read_only=True)
    rank = serializers.IntegerField(read_only=True, allow_null=True, help_text="Ranked polls: 1 is the first preference.")
    score = serializers.IntegerField(read_only=True, allow_null=True, help_text="Score polls: the score given.")

    class Meta:
        model = Vote
        fields = ["id", "poll_id", "option_id", "option_text", "ballot_id", "rank", "score", "created_at"]


class VoterSerializer(serializers.Serializer):
    """Documents VoterVoteSerializer.get_voter: who voted, for the poll's author; the address for staff only."""

    # A plain string: an enum here would share the name KindEnum with Notification.kind and rename that one.
    kind = serializers.CharField(help_text="account or anonymous")
    user = PublicUserSerializer(allow_null=True)
    ip_address = serializers.IPAddressField(required=False, allow_null=True, help_text="Moderators only.")
    user_agent = serializers.CharField(required=False, help_text="Moderators only.")


class VoterVoteSerializer(VoteSerializer):
    voter = serializers.SerializerMethodField()

    class Meta(VoteSerializer.Meta):
        fields = VoteSerializer.Meta.fields + ["voter"]

    @extend_schema_field(VoterSerializer)
    def get_voter(self, vote) -> dict:
        ballot = vote.ballot
        user = ballot.user
        public = PublicUserSerializer(user, context=self.context).data if user else None
        voter = {"kind": "account" if user else "anonymous", "user": public}
        request = self.context.get("request")
        if request is not None and request.user.is_staff:
            voter |= {"ip_address": ballot.ip_address, "user_agent": ballot.user_agent}
        return voter


class VoteResultSerializer(serializers.Serializer):
    """Answer to a vote: what was recorded, and the results when the voter may see them."""

    ballot_id = serializers.UUIDField()
    votes = VoteSerializer(many=True, help_text="Empty for a secret poll: its choices are sealed apart from the voter.")
    results = ResultsSerializer(allow_null=True)
    receipt = serializers.CharField(
        allow_null=True, help_text="A secret ballot's receipt code, shown this once: it finds the ballot in the ballot list."
    )


class SealedOptionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    text = serializers.CharField()


class SealedBallotSerializer(serializers.Serializer):
    """One ballot of a secret poll's anonymised list: its receipt and the options picked, nothing of who or when."""

    receipt = serializers.CharField()
    options = SealedOptionSerializer(many=True)


class ReceiptCheckSerializer(SealedBallotSerializer):
    """Answer to "is my ballot counted?": the options only where the poll's results are visible."""

    counted = serializers.BooleanField()
    options = SealedOptionSerializer(many=True, allow_null=True)
    results_visible = serializers.BooleanField()


class BallotListQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=["json", "csv"], default="json", help_text="csv: the whole list as one file.")


class LikeCreateSerializer(serializers.Serializer):
    poll_id = serializers.UUIDField()


class LikeSerializer(serializers.ModelSerializer):
    poll_id = serializers.UUIDField(read_only=True)
    likes_count = serializers.IntegerField(source="poll.likes_count", read_only=True)

    class Meta:
        model = Like
        fields = ["id", "poll_id", "likes_count", "created_at"]


# --- Invites ----------------------------------------------------------------------------------


class InviteSerializer(serializers.Serializer):
    """An invite as its poll's managers see it. The view passes `link_for` and `show_use` in the context."""

    id = serializers.UUIDField()
    token = serializers.CharField()
    link = serializers.SerializerMethodField()
    email = serializers.CharField(help_text="The address the invite was mailed to; empty for a link made by count.")
    label = serializers.CharField()
    status = serializers.SerializerMethodField(help_text="unused, used or revoked (revoked: admits no more ballots)")
    created_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)

    def get_link(self, invite) -> str:
        return self.context["link_for"](invite)

    @extend_schema_field(serializers.ChoiceField(choices=["unused", "used", "revoked"]))
    def get_status(self, invite) -> str:
        return invites.status_of(invite, show_use=self.context["show_use"])


class InviteCountsSerializer(serializers.Serializer):
    """Documents polls.invites.InviteCounts."""

    total = serializers.IntegerField()
    used = serializers.IntegerField()
    revoked = serializers.IntegerField(help_text="Revoked before anyone used them.")
    unused = serializers.IntegerField(help_text="Still admit a ballot.")


class InvitePageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    counts = InviteCountsSerializer()
    results = InviteSerializer(many=True)


class InviteCreateSerializer(serializers.Serializer):
    count = serializers.IntegerField(required=False, min_value=1, default=0, help_text="How many invite links to make.")
    emails = serializers.ListField(
        child=serializers.CharField(max_length=254, allow_blank=True),
        required=False,
        default=list,
        max_length=10_000,
        help_text="Or: one invite per address, mailed to it (count is then ignored).",
    )
    label = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)


class InvitesMadeSerializer(serializers.Serializer):
    invites = InviteSerializer(many=True)
    emailed = serializers.IntegerField(help_text="Invitations handed to the mail server.")


class InvitesRevokedSerializer(serializers.Serializer):
    revoked = serializers.IntegerField()


# --- Write-ins --------------------------------------------------------------------------------


class WriteInCreateSerializer(serializers.Serializer):
    # Blank and too long are the service's refusals (polls.services.suggest_option), worded as for any option.
    text = serializers.CharField(
        allow_blank=True, trim_whitespace=False, max_length=1000, help_text="The option to suggest, at most 100 characters."
    )


class WriteInSerializer(serializers.ModelSerializer):
    """A suggested option: who suggested it (null for an anonymous visitor) and what became of it."""

    poll_id = serializers.UUIDField(read_only=True)
    option_id = serializers.UUIDField(read_only=True, allow_null=True, help_text="The option it became, once accepted.")
    suggested_by = PublicUserSerializer(read_only=True, allow_null=True)

    class Meta:
        model = WriteIn
        fields = ["id", "poll_id", "text", "status", "option_id", "suggested_by", "created_at", "handled_at"]
        read_only_fields = fields


class WriteInQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=WriteIn.Status.choices, required=False, help_text="Only suggestions in this state (the queue: pending)."
    )


class WriteInDecisionSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, default="", help_text="Kept in the moderators' audit log."
    )


class PresentationSerializer(serializers.Serializer):
    presenting = serializers.BooleanField(required=False, help_text="Start (true) or end (false) presenting.")
    audience_results = serializers.ChoiceField(
        choices=Poll.AudienceResults.choices,
        required=False,
        help_text="While presenting: show the results to the audience, hide them, or follow the poll's rule.",
    )


class PresentationStateSerializer(serializers.Serializer):
    presenting = serializers.BooleanField()
    presenting_since = serializers.DateTimeField(allow_null=True)
    audience_results = serializers.ChoiceField(choices=Poll.AudienceResults.choices)
    results_visible_to_audience = serializers.BooleanField(help_text="Whether a visitor who has not voted sees them.")
    is_open = serializers.BooleanField()
    join_code = serializers.CharField()


class AnswerCreateSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=500, allow_blank=True, trim_whitespace=False)
    altcha = serializers.CharField(required=False, default="", allow_blank=True, max_length=5000)


class AnswerSerializer(serializers.ModelSerializer):
    poll_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = Answer
        fields = ["id", "poll_id", "text", "key", "hidden", "created_at"]
        read_only_fields = fields


class ManagedAnswerSerializer(AnswerSerializer):
    voter = serializers.SerializerMethodField()

    class Meta(AnswerSerializer.Meta):
        fields = AnswerSerializer.Meta.fields + ["voter"]
        read_only_fields = fields

    def get_voter(self, answer) -> str:
        return answer.voter_label


class AnswerHideSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=500, help_text="The group's key (any spelling of it works).")
    hidden = serializers.BooleanField(default=True)


class AnswersHiddenSerializer(serializers.Serializer):
    changed = serializers.IntegerField(help_text="Answers hidden or shown again.")


class DeckPollSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    slug = serializers.CharField()
    title = serializers.CharField()
    url = serializers.CharField()
    join_code = serializers.CharField()


class DeckStateSerializer(serializers.Serializer):
    """What a deck's audience sees: where it stands, and the poll on screen."""

    deck_id = serializers.UUIDField()
    title = serializers.CharField()
    join_code = serializers.CharField()
    position = serializers.IntegerField(help_text="The poll on screen, 0 for the first.")
    count = serializers.IntegerField()
    poll = DeckPollSerializer(allow_null=True)


class DeckSerializer(serializers.ModelSerializer):
    polls = serializers.SerializerMethodField()
    current_poll = serializers.SerializerMethodField()

    class Meta:
        model = Deck
        fields = ["id", "title", "join_code", "position", "polls", "current_poll", "created_at", "updated_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_polls(self, deck) -> list[str]:
        return [str(item.poll_id) for item in deck.items.all()]

    @extend_schema_field(DeckPollSerializer(allow_null=True))
    def get_current_poll(self, deck) -> dict | None:
        return decks.deck_state(deck)["poll"]


class DeckWriteSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    polls = serializers.ListField(
        child=serializers.UUIDField(), max_length=30, help_text="Poll ids in the order they are shown; polls you manage."
    )


class DeckMoveSerializer(serializers.Serializer):
    position = serializers.IntegerField(min_value=0, help_text="0 for the deck's first poll.")


class OEmbedQuerySerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2000, help_text="A poll's page (/p/<slug>/) or embed (/embed/<slug>) on this site.")
    maxwidth = serializers.IntegerField(required=False, min_value=1, help_text="The widest iframe the consumer can show.")
    maxheight = serializers.IntegerField(required=False, min_value=1, help_text="The tallest iframe the consumer can show.")
    format = serializers.ChoiceField(
        choices=["json"], required=False, allow_blank=True, default="json", help_text="json; any other format is 501 format_not_supported."
    )


class OEmbedSerializer(serializers.Serializer):
    """An oEmbed 1.0 `rich` response (https://oembed.com/#section2.3)."""

    version = serializers.CharField()
    type = serializers.CharField(help_text="Always rich: an iframe of the poll's embed page.")
    provider_name = serializers.CharField()
    provider_url = serializers.URLField()
    title = serializers.CharField()
    author_name = serializers.CharField()
    author_url = serializers.URLField()
    html = serializers.CharField(help_text="The <iframe> to insert.")
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    thumbnail_url = serializers.URLField(help_text="The poll's results picture (/polls/<slug>/preview.png).")
    thumbnail_width = serializers.IntegerField()
    thumbnail_height = serializers.IntegerField()
    cache_age = serializers.IntegerField(help_text="Seconds a consumer may keep this answer.")
