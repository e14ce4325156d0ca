"""The polls, votes and likes API: thin viewsets over polls.services and polls.selectors."""

import csv
import io
import json
from dataclasses import asdict

from django.conf import settings
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from django_filters.rest_framework import DjangoFilterBackend
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import AllowAny, IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.response import Response

from accounts.api_keys import MANAGE_POLLS, VOTE
from accounts.models import User
from polls import answers, bot_defence, decks, embeds, errors, invites, join_codes, presenting, previews, public_bodies, secret_ballots, selectors, services
from polls.filters import PollFilter, PollOrdering
from polls.models import MAX_OPTIONS, Answer, Deck, Invite, Like, Poll, Vote, WriteIn
from polls.permissions import (
    IsPollManager,
    can_manage,
    can_see_private_lists,
    can_see_results,
    can_see_which_invites_were_used,
    require_deck_owner,
    require_manager,
)
from polls.serializers import (
    AnswerCreateSerializer,
    OEmbedQuerySerializer,
    OEmbedSerializer,
    AnswerHideSerializer,
    AnswerSerializer,
    AnswersHiddenSerializer,
    DeckMoveSerializer,
    DeckSerializer,
    DeckStateSerializer,
    DeckWriteSerializer,
    ManagedAnswerSerializer,
    PresentationSerializer,
    PresentationStateSerializer,
    BallotListQuerySerializer,
    BallotSerializer,
    ChallengeSerializer,
    ExportQuerySerializer,
    FullResultsSerializer,
    HoldSerializer,
    InviteCreateSerializer,
    InvitePageSerializer,
    InviteSerializer,
    InvitesMadeSerializer,
    InvitesRevokedSerializer,
    LiftHoldSerializer,
    LikeCreateSerializer,
    LikeSerializer,
    PlatformStatsSerializer,
    PollSerializer,
    PollWriteSerializer,
    ReceiptCheckSerializer,
    ReportSerializer,
    SealedBallotSerializer,
    UserStatsSerializer,
    VoteCreateSerializer,
    VoteResultSerializer,
    VoidBallotsSerializer,
    VoidedBallotsSerializer,
    VoterVoteSerializer,
    VoteSerializer,
    VoteStatsSerializer,
    WriteInCreateSerializer,
    WriteInDecisionSerializer,
    WriteInQuerySerializer,
    WriteInSerializer,
)
from polls.viewcounts import record_view
from polls.voters import INVITE_HEADER, carries_no_identity, voter_from_request
from quickpoll.api import ANON_ID, UUID_PATTERN, errors_for
from quickpoll.idempotency import idempotent
from quickpoll.ratelimits import count_join_miss, refuse_join_guessing, spend_invite_creation_budget, spend_voter_budget
from quickpoll.spreadsheets import safe_cell

INVITE = OpenApiParameter(
    INVITE_HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="On an invite-only poll: the token of your invite link (/i/<token>). Votes may send it as `invite` instead.",
)


# The solved challenge some anonymous ballots need (polls.bot_defence); the body field `altcha` works too.
ALTCHA = OpenApiParameter(
    bot_defence.HEADER,
    str,
    OpenApiParameter.HEADER,
    description="A solved challenge from GET /api/polls/{id}/challenge (base64 JSON, as the ALTCHA widget makes it).",
)


def poll_data(request, polls, *, many: bool = True):
    """Serialise polls with what the requester has done on them (one batch of queries)."""
    polls = list(polls) if many else [polls]
    states = selectors.voter_states(polls=polls, voter=voter_from_request(request, issue=False))
    serializer = PollSerializer(polls, many=True, context={"request": request, "voter_states": states})
    return serializer.data if many else serializer.data[0]


def _export_csv(poll: Poll) -> HttpResponse:
    """The totals, then one row per option on each ballot: a ranked ballot's with its rank (1 = first
    preference), a score ballot's with its score, so the ballots can be recounted from the file alone."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    results = selectors.full_results(poll)
    if poll.method == Poll.Method.TEXT:
        _write_answers_csv(writer, poll, results)
        return _csv_attachment(buffer, f"{poll.slug}.csv")
    if poll.method == Poll.Method.SCORE:
        writer.writerow(["option", "ratings", "mean"])
        for option in results["options"]:
            writer.writerow([safe_cell(option["text"]), option["votes"], option["mean"]])
    else:
        writer.writerow(["option", "first_preferences" if poll.method == Poll.Method.RANKED else "votes", "percentage"])
        for option in results["options"]:
            writer.writerow([safe_cell(option["text"]), option["votes"], option["percentage"]])
    writer.writerow([])
    # A secret poll's ballots are sealed: a receipt and its options, nothing of who or when.
    columns = ["receipt"] if poll.is_secret else ["ballot", "voter_kind", "cast_at"]
    shape = {Poll.Method.RANKED: ["rank", "option"], Poll.Method.SCORE: ["option", "score"]}.get(poll.method, ["option"])
    writer.writerow([*columns, *shape])
    for row in selectors.export_rows(poll):
        for place, text in enumerate(row["options"], start=1):
            cells = {"rank": place, "option": safe_cell(text), "score": row.get("scores", {}).get(text)}
            writer.writerow([*(row[column] for column in columns), *(cells[name] for name in shape)])
    return _csv_attachment(buffer, f"{poll.slug}.csv")


ANSWER_COLUMNS = ["answer", "voter_kind", "created_at", "text", "key", "hidden"]


def _write_answers_csv(writer, poll: Poll, results: dict) -> None:
    """An open-text poll's visible groups as its results show them, then every answer, hidden ones marked."""
    writer.writerow(["group", "text", "answers"])
    for group in results["answers"]["groups"]:
        writer.writerow([safe_cell(group["key"]), safe_cell(group["text"]), group["count"]])
    writer.writerow([])
    writer.writerow(ANSWER_COLUMNS)
    for row in selectors.export_answers(poll):
        cells = row | {"text": safe_cell(row["text"]), "key": safe_cell(row["key"]), "hidden": "yes" if row["hidden"] else "no"}
        writer.writerow([cells[column] for column in ANSWER_COLUMNS])


def _csv_attachment(buffer: io.StringIO, filename: str) -> HttpResponse:
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _sealed_ballots_csv(poll: Poll, rows) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["receipt", "option"])
    for row in rows:
        for option in row["options"]:
            writer.writerow([row["receipt"], safe_cell(option["text"])])
    return _csv_attachment(buffer, f"{poll.slug}-ballots.csv")


def _joined(request, code: str, kind: type[Poll] | type[Deck]):
    """The poll or deck a typed join code names, or 404; a code that names none of `kind` counts against
    the address's budget of misses, so codes are not guessed."""
    refuse_join_guessing(request)
    found = join_codes.find(code)
    if not isinstance(found, kind):
        count_join_miss(request)
        raise Http404(f"No {kind._meta.verbose_name} has this code.")
    return found


def _results_visible_to(request, poll: Poll) -> bool:
    state = selectors.voter_states(polls=[poll], voter=voter_from_request(request, issue=False)).get(poll.pk)
    return can_see_results(poll=poll, user=request.user, has_voted=bool(state and state.has_voted))


def _voter_acting_on(request, serializer_class):
    """For a vote or a like: the valid body, its poll and the voter, who spends one of their rate-limited acts.

    The poll's author comes along: the notice of the vote or like reaches them without another query.
    """
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    poll = selectors.poll_with_author(serializer.validated_data["poll_id"])
    if poll is None:
        raise Http404
    voter = voter_from_request(request)
    spend_voter_budget(request, voter)
    return serializer.validated_data, poll, voter


def _voter_taking_back(request):
    """For a retraction or an unlike: the voter (None if never seen), who spends the budget votes and likes spend.

    Otherwise a retract-and-vote-again loop would move results without limit.
    """
    voter = voter_from_request(request, issue=False)
    spend_voter_budget(request, voter)
    return voter


# Made once: building a serializer's fields costs more than writing out a ballot's votes (it has no context to vary).
_VOTES_OUT = VoteSerializer(many=True)


def _ballot_response(request, poll: Poll, voter, data: dict, record, status_code: int) -> Response:
    """Cast or change a ballot (`record`: services.cast_vote or change_vote) and answer with it, and with the
    results where the voter may now see them."""
    voter = invites.presenting(voter, data.get("invite", ""))
    solution = request.headers.get(bot_defence.HEADER) or data["altcha"]
    cast = record(poll=poll, voter=voter, option_ids=data["option_ids"], scores=data["scores"], challenge=solution)
    visible = can_see_results(poll=poll, user=request.user, has_voted=True)
    body = {
        "ballot_id": cast.ballot.pk,
        "votes": _VOTES_OUT.to_representation(cast.votes),
        "results": cast.results if visible else None,
        "receipt": cast.receipt,
    }
    return Response(body, status=status_code)


class ExportNegotiation(DefaultContentNegotiation):
    """?format= picks CSV or JSON, so Accept: text/csv is no 406; errors stay JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _export_json(poll: Poll) -> HttpResponse:
    body = {
        "poll": {
            "id": str(poll.pk),
            "title": poll.title,
            "exported_for": "author or moderator",
            "method": poll.method,
            # In the poll's order, which breaks the last ties of an instant-runoff count.
            "options": [{"id": str(pk), "text": text} for pk, text in poll.options.order_by("position").values_list("pk", "text")],
            **({"score_min": poll.score_min, "score_max": poll.score_max} if poll.method == Poll.Method.SCORE else {}),
        },
        "results": selectors.full_results(poll),
        "ballots": list(selectors.export_rows(poll)),
        **({"answers": list(selectors.export_answers(poll))} if poll.method == Poll.Method.TEXT else {}),
    }
    response = HttpResponse(json.dumps(body, ensure_ascii=False), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{poll.slug}.json"'
    return response


# The reads every visitor with nothing of their own shares, by viewset action: public_bodies' kinds.
_SHARED_READS = {"retrieve": "body", "results": "results"}


def _accepts_json(request) -> bool:
    accept = request.headers.get("Accept", "")
    return not accept or "application/json" in accept or "*/*" in accept


@extend_schema_view(
    list=extend_schema(
        summary="Public polls, paginated, filterable and sortable",
        parameters=[ANON_ID],
        responses={200: PollSerializer(many=True), **errors_for(400, 404)},
    ),
    retrieve=extend_schema(
        summary="One poll by id (unlisted polls too)",
        parameters=[ANON_ID],
        responses={200: PollSerializer, **errors_for(400, 404)},
    ),
    partial_update=extend_schema(
        summary="Change some of a poll's fields (author or moderator); options only while it has no votes",
        request=PollWriteSerializer,
        responses={200: PollSerializer, **errors_for(400, 401, 403, 404, 409)},
    ),
    destroy=extend_schema(summary="Delete a poll (author or moderator)", responses={204: None, **errors_for(401, 403, 404)}),
)
@extend_schema(tags=["Polls"])
# The docs list operations under their resource: reports, holds and voided ballots are moderation's;
# the vote challenge, ballots and receipts are the votes'.
@extend_schema_view(
    hold=extend_schema(tags=["Moderation"]),
    void_ballots=extend_schema(tags=["Moderation"]),
    report=extend_schema(tags=["Moderation"]),
    challenge=extend_schema(tags=["Votes"]),
    ballots=extend_schema(tags=["Votes"]),
    receipt=extend_schema(tags=["Votes"]),
)
class PollViewSet(viewsets.ModelViewSet):
    serializer_class = PollSerializer
    permission_classes = [IsAuthenticatedOrReadOnly]
    lookup_value_regex = UUID_PATTERN
    filter_backends = [DjangoFilterBackend, PollOrdering]
    filterset_class = PollFilter
    ordering_fields = ["created_at", "total_votes", "likes_count", "expires_at", "title"]
    ordering = ["-created_at"]

    def dispatch(self, request, *args, **kwargs):
        # A visitor with nothing of their own reading a poll (or its results) this process answered a moment ago:
        # the same JSON again, without DRF's request cycle (public_bodies; retrieve() and results() make what is kept).
        kind = _SHARED_READS.get(self.action_map.get("get")) if request.method == "GET" else None
        if (
            kind is not None
            and not request.GET
            and carries_no_identity(request)
            and _accepts_json(request)
            and (cached := public_bodies.encoded_here(kwargs["pk"], kind)) is not None
        ):
            if kind == "body":
                record_view(kwargs["pk"].lower())
            response = HttpResponse(cached, content_type="application/json")
            response["Allow"] = ", ".join(self.allowed_methods)
            return response
        return super().dispatch(request, *args, **kwargs)

    def get_api_key_scope(self):
        # Reports are people's judgement of a poll, not something a script files: keys may not.
        return None if self.action == "report" else MANAGE_POLLS

    def get_queryset(self):
        if self.action == "list":
            return selectors.public_polls().prefetch_related("options")
        return Poll.objects.select_related("author").prefetch_related("options")

    def _page(self, queryset):
        page = self.paginate_queryset(queryset.prefetch_related("options"))
        return self.get_paginated_response(poll_data(self.request, page))

    def list(self, request, *args, **kwargs):
        return self._page(self.filter_queryset(self.get_queryset()))

    def retrieve(self, request, *args, **kwargs):
        if request.user.is_authenticated or voter_from_request(request, issue=False) is not None:
            body = poll_data(request, self.get_object(), many=False)
        else:
            # Nothing of this visitor's own to show: the answer every such visitor gets.
            body = public_bodies.get(kwargs["pk"])
            if body is None:
                body = poll_data(request, self.get_object(), many=False)
                public_bodies.put(kwargs["pk"], body)
        record_view(body["id"])
        return Response(body)

    @idempotent
    @extend_schema(
        summary="Create a poll",
        request=PollWriteSerializer,
        responses={201: PollSerializer, **errors_for(400, 401, 429)},
    )
    def create(self, request, *args, **kwargs):
        serializer = PollWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        poll = services.create_poll(author=request.user, **serializer.validated_data)
        return Response(poll_data(request, poll, many=False), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a poll (author or moderator); options only while it has no votes",
        request=PollWriteSerializer,
        responses={200: PollSerializer, **errors_for(400, 401, 403, 404, 409)},
    )
    def update(self, request, *args, partial=False, **kwargs):
        poll = self.get_object()
        serializer = PollWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        poll = services.update_poll(poll=poll, actor=request.user, **serializer.validated_data)
        return Response(poll_data(request, Poll.objects.prefetch_related("options").get(pk=poll.pk), many=False))

    def destroy(self, request, *args, **kwargs):
        services.delete_poll(poll=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Trending: most votes and likes lately, newest activity weighing most",
        filters=False,
        parameters=[ANON_ID],
        responses={200: PollSerializer(many=True), **errors_for(400, 404)},
    )
    @action(detail=False)
    def trending(self, request):
        return self._page(selectors.trending_polls())

    @extend_schema(
        summary="Popular: most votes and likes of all time",
        filters=False,
        parameters=[ANON_ID],
        responses={200: PollSerializer(many=True), **errors_for(400, 404)},
    )
    @action(detail=False)
    def popular(self, request):
        return self._page(selectors.popular_polls())

    @extend_schema(
        summary="Recent: newest first",
        filters=False,
        parameters=[ANON_ID],
        responses={200: PollSerializer(many=True), **errors_for(400, 404)},
    )
    @action(detail=False)
    def recent(self, request):
        return self._page(selectors.recent_polls())

    @extend_schema(
        summary="Search titles, descriptions and options",
        filters=False,
        parameters=[OpenApiParameter("q", str, required=True, description="Words to look for"), ANON_ID],
        responses={200: PollSerializer(many=True), **errors_for(400, 404)},
    )
    @action(detail=False)
    def search(self, request):
        query = request.query_params.get("q", "").strip()
        if not query:
            raise serializers.ValidationError({"q": [gettext("Say what to search for.")]})
        if len(query) > 200:
            raise serializers.ValidationError({"q": [gettext("Search for at most 200 characters.")]})
        return self._page(selectors.search_polls(query))

    @extend_schema(
        summary="Platform totals and today's activity (public polls only)",
        responses={200: PlatformStatsSerializer},
    )
    @action(detail=False)
    def stats(self, request):
        return Response(selectors.platform_stats())

    def _set_active(self, active: bool):
        poll = services.set_poll_active(poll=self.get_object(), actor=self.request.user, active=active)
        return Response(poll_data(self.request, poll, many=False))

    @extend_schema(summary="Reopen a poll (author or moderator)", request=None, responses={200: PollSerializer, **errors_for(401, 403, 404, 409)})
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        return self._set_active(True)

    @extend_schema(summary="Close a poll (author or moderator)", request=None, responses={200: PollSerializer, **errors_for(401, 403, 404)})
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        return self._set_active(False)

    @extend_schema(
        methods=["POST"],
        summary="Put a poll on hold: closed and unlisted until a moderator lifts it; its author reads the reason (moderators)",
        request=HoldSerializer,
        responses={200: PollSerializer, **errors_for(400, 401, 403, 404, 409)},
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Lift a poll's hold; it stays closed and unlisted until reopened (moderators)",
        request=LiftHoldSerializer,
        responses={200: PollSerializer, **errors_for(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post", "delete"], permission_classes=[IsAuthenticated])
    def hold(self, request, pk=None):
        poll = self.get_object()
        if request.method == "POST":
            serializer = HoldSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            poll = services.hold_poll(poll=poll, moderator=request.user, **serializer.validated_data)
        else:
            serializer = LiftHoldSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            poll = services.lift_hold(poll=poll, moderator=request.user, **serializer.validated_data)
        return Response(poll_data(request, Poll.objects.prefetch_related("options").get(pk=poll.pk), many=False))

    @extend_schema(
        summary="Void a poll's ballots from an address range and/or time window, or preview how many (moderators)",
        request=VoidBallotsSerializer,
        responses={200: VoidedBallotsSerializer, **errors_for(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"], url_path="void-ballots", permission_classes=[IsAuthenticated])
    def void_ballots(self, request, pk=None):
        poll = self.get_object()
        serializer = VoidBallotsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        criteria = {"network": data["network"], "since": data["since"], "until": data["until"]}
        if data["preview"]:
            count = services.count_suspicious_ballots(poll=poll, moderator=request.user, **criteria)
        else:
            count = services.void_ballots(poll=poll, moderator=request.user, reason=data["reason"], **criteria)
        return Response({"voided": count, "preview": data["preview"]})

    @extend_schema(
        summary="Report a poll to the moderators",
        request=ReportSerializer,
        responses={201: ReportSerializer, **errors_for(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def report(self, request, pk=None):
        serializer = ReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = services.report_poll(poll=self.get_object(), reporter=request.user, **serializer.validated_data)
        return Response(ReportSerializer(report).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Export totals and anonymised ballots, or an open-text poll's answers (author or moderator)",
        parameters=[ExportQuerySerializer],
        responses={(200, "application/json"): dict, (200, "text/csv"): str, **errors_for(400, 401, 403, 404)},
    )
    @action(
        detail=True, permission_classes=[IsAuthenticated, IsPollManager], content_negotiation_class=ExportNegotiation
    )
    def export(self, request, pk=None):
        poll = self.get_object()
        query = ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        if poll.is_secret and not _results_visible_to(request, poll):
            # Sealed ballots are results: exporting them while the poll is open would show them moving.
            raise errors.ResultsHidden(selectors.results_hidden_reason(poll))
        return _export_csv(poll) if query.validated_data["format"] == "csv" else _export_json(poll)

    @extend_schema(
        summary="A poll's results in full: a ranked poll's instant-runoff rounds and pairwise matrix, a score poll's "
        "distributions (where the results are visible to you)",
        description="Counted once per change of the results and cached, so reading them costs what reading a "
        "single-choice poll's does. Ties for last place in a round: the option with the fewest first preferences "
        "goes, then the one later in the poll's order.",
        parameters=[ANON_ID],
        responses={200: FullResultsSerializer, **errors_for(400, 403, 404)},
    )
    @action(detail=True, permission_classes=[AllowAny])
    def results(self, request, pk=None):
        # Nothing of this visitor's own: the answer every such visitor gets, as the poll's own body is.
        anonymous = not request.user.is_authenticated and voter_from_request(request, issue=False) is None
        body = public_bodies.get(pk, "results") if anonymous else None
        if body is None:
            # The poll row alone (no author, no options): the counted results are cached per version.
            poll = get_object_or_404(Poll, pk=pk)
            if not _results_visible_to(request, poll):
                raise errors.ResultsHidden(selectors.results_hidden_reason(poll))
            body = selectors.full_results(poll)
            if anonymous:
                public_bodies.put(pk, body, "results")
        return Response(body)

    @extend_schema(
        summary="The poll that answers to a join code (case, spaces and dashes aside)",
        description="Codes that name nothing count against the address's RATE_LIMIT_JOIN_MISSES (429 past it).",
        parameters=[ANON_ID],
        responses={200: PollSerializer, **errors_for(404, 429)},
    )
    @action(detail=False, url_path=r"code/(?P<code>[A-Za-z0-9 -]{1,20})", permission_classes=[AllowAny])
    def code(self, request, code=None):
        found = _joined(request, code, Poll)
        return Response(poll_data(request, Poll.objects.prefetch_related("options").get(pk=found.pk), many=False))

    @extend_schema(
        methods=["GET"],
        summary="Whether the poll is being presented, and what its audience sees of the results (author or moderator)",
        responses={200: PresentationStateSerializer, **errors_for(401, 403, 404)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Start or end presenting; show or hide the results for the audience (author or moderator)",
        description="While presenting, `audience_results` `shown` reveals the results to everyone, `hidden` keeps them "
        "from everyone but the poll's managers, whatever its results_visibility says; `rule` follows that rule. "
        "Ending the presentation puts the rule back. Every audience page follows at once over /ws/poll. "
        "A secret poll's results stay hidden while it is open.",
        request=PresentationSerializer,
        responses={200: PresentationStateSerializer, **errors_for(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["get", "post"], permission_classes=[IsAuthenticated, IsPollManager])
    def presentation(self, request, pk=None):
        poll = self.get_object()
        if request.method == "POST":
            serializer = PresentationSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            poll = presenting.present(poll=poll, actor=request.user, **serializer.validated_data)
        return Response(PresentationStateSerializer(presenting.presentation_state(poll)).data)

    @extend_schema(
        summary="A proof-of-work challenge for one anonymous ballot on this poll (single use, expires)",
        description="Solve it (the ALTCHA widget, or altcha.solve_challenge in Python) and send the solution "
        "with the vote, in the X-Altcha header or the body field `altcha`. Anyone may fetch one; a poll asks "
        "for it when its bot_protection says so (428 challenge_required on POST /api/votes).",
        responses={200: ChallengeSerializer, **errors_for(404)},
    )
    @action(detail=True, permission_classes=[AllowAny])
    def challenge(self, request, pk=None):
        return Response(bot_defence.new_challenge(self.get_object()), headers={"Cache-Control": "no-store"})


    def _secret_poll(self) -> Poll:
        poll = get_object_or_404(Poll.objects.select_related("author"), pk=self.kwargs["pk"])
        if not poll.is_secret:
            raise errors.NotSecret()
        return poll

    @extend_schema(
        summary="A secret poll's anonymised ballot list, in receipt order (where its results are visible to you)",
        filters=False,
        parameters=[BallotListQuerySerializer, ANON_ID],
        responses={
            (200, "application/json"): SealedBallotSerializer(many=True),
            (200, "text/csv"): str,
            **errors_for(400, 403, 404),
        },
    )
    @action(detail=True, content_negotiation_class=ExportNegotiation)
    def ballots(self, request, pk=None):
        poll = self._secret_poll()
        query = BallotListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        if not _results_visible_to(request, poll):
            raise errors.ResultsHidden(selectors.results_hidden_reason(poll))
        texts = secret_ballots.option_texts(poll)
        ballots = secret_ballots.ballots_of(poll)
        if query.validated_data["format"] == "csv":
            rows = (secret_ballots.listed_ballot(sealed, texts) for sealed in ballots.iterator())
            return _sealed_ballots_csv(poll, rows)
        page = self.paginate_queryset(ballots)
        return self.get_paginated_response([secret_ballots.listed_ballot(sealed, texts) for sealed in page])

    @extend_schema(
        summary="Is my secret ballot counted? Its options too where the poll's results are visible to you",
        parameters=[ANON_ID],
        responses={200: ReceiptCheckSerializer, **errors_for(400, 404)},
    )
    @action(detail=True, url_path=r"receipts/(?P<code>[A-Za-z0-9 -]{1,40})")
    def receipt(self, request, pk=None, code=None):
        poll = self._secret_poll()
        sealed = secret_ballots.find_receipt(poll=poll, code=code)
        if sealed is None:
            raise errors.ReceiptNotFound()
        visible = _results_visible_to(request, poll)
        listed = secret_ballots.listed_ballot(sealed, secret_ballots.option_texts(poll))
        options = listed["options"] if visible else None
        return Response({"receipt": sealed.receipt, "counted": True, "options": options, "results_visible": visible})


def _private_lists_of(request, user_id, what: str) -> User:
    user = get_object_or_404(User, pk=user_id)
    if not can_see_private_lists(request.user, user):
        raise errors.NotOwner(
            gettext("Only that user or a moderator can see their votes.")
            if what == "votes"
            else gettext("Only that user or a moderator can see their likes.")
        )
    return user


@extend_schema(tags=["Votes"])
class VoteViewSet(viewsets.GenericViewSet):
    queryset = Vote.objects.select_related("ballot__user", "option", "poll")
    serializer_class = VoteSerializer
    permission_classes = [AllowAny]
    api_key_scope = VOTE
    lookup_value_regex = UUID_PATTERN

    def get_object(self) -> Vote:
        if self.lookup_field not in self.kwargs:
            # OPTIONS on /api/votes/poll/{id} names a poll's ballot, not one vote; DRF's metadata asks for it anyway.
            raise Http404
        return super().get_object()

    @idempotent
    @extend_schema(
        summary="Vote: one ballot per voter per poll; anonymous where the poll allows it; an invite where the poll asks",
        request=VoteCreateSerializer,
        parameters=[ANON_ID, INVITE, ALTCHA],
        responses={201: VoteResultSerializer, **errors_for(400, 401, 403, 404, 409, 428, 429)},
    )
    def create(self, request):
        data, poll, voter = _voter_acting_on(request, VoteCreateSerializer)
        return _ballot_response(request, poll, voter, data, services.cast_vote, status.HTTP_201_CREATED)

    def _vote_for(self, request) -> Vote:
        vote = self.get_object()
        voter = voter_from_request(request, issue=False)
        if not (can_manage(request.user, vote.poll) or (voter is not None and voter.owns(vote.ballot))):
            raise errors.NotOwner(gettext("Only the voter, the poll's author or a moderator can see this vote."))
        return vote

    @extend_schema(
        summary="One vote (its voter, the poll's author or a moderator)",
        parameters=[ANON_ID],
        responses={200: VoterVoteSerializer, **errors_for(400, 403, 404)},
    )
    def retrieve(self, request, pk=None):
        return Response(VoterVoteSerializer(self._vote_for(request), context={"request": request}).data)

    @extend_schema(
        summary="Take back a vote (its voter while the poll is open, or a moderator)",
        parameters=[ANON_ID],
        responses={204: None, **errors_for(400, 401, 403, 404, 429)},
    )
    def destroy(self, request, pk=None):
        services.withdraw_vote(vote=self.get_object(), voter=_voter_taking_back(request), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        methods=["GET"],
        summary="A poll's votes (author or moderator)",
        responses={200: VoterVoteSerializer(many=True), **errors_for(401, 403, 404)},
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Take back my whole ballot on a poll, to vote again (never in a secret poll: 409)",
        parameters=[ANON_ID],
        responses={204: None, **errors_for(400, 401, 403, 404, 409, 429)},
    )
    @extend_schema(
        methods=["PUT"],
        summary="Change my vote on a poll: the new picks replace my ballot in one step, or it stays as it was "
        "(never in a secret poll: 409)",
        request=BallotSerializer,
        parameters=[ANON_ID, INVITE, ALTCHA],
        responses={200: VoteResultSerializer, **errors_for(400, 401, 403, 404, 409, 428, 429)},
    )
    @action(detail=False, methods=["get", "put", "delete"], url_path=rf"poll/(?P<poll_id>{UUID_PATTERN})")
    def poll(self, request, poll_id=None):
        if request.method == "PUT":
            serializer = BallotSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            poll = get_object_or_404(Poll.objects.select_related("author"), pk=poll_id)
            voter = _voter_taking_back(request)
            return _ballot_response(request, poll, voter, serializer.validated_data, services.change_vote, status.HTTP_200_OK)
        poll = get_object_or_404(Poll, pk=poll_id)
        if request.method == "DELETE":
            services.retract_ballot(poll=poll, voter=_voter_taking_back(request))
            return Response(status=status.HTTP_204_NO_CONTENT)
        require_manager(poll, request.user)
        page = self.paginate_queryset(self.get_queryset().filter(poll=poll))
        return self.get_paginated_response(VoterVoteSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(
        summary="Vote statistics of a poll (where its results are visible to you)",
        parameters=[ANON_ID],
        responses={200: VoteStatsSerializer, **errors_for(400, 403, 404)},
    )
    @action(detail=False, url_path=rf"poll/(?P<poll_id>{UUID_PATTERN})/stats")
    def poll_stats(self, request, poll_id=None):
        poll = get_object_or_404(Poll, pk=poll_id)
        if not _results_visible_to(request, poll):
            raise errors.ResultsHidden(selectors.results_hidden_reason(poll))
        return Response(selectors.vote_stats(poll))

    @extend_schema(summary="A user's votes (that user or a moderator)", responses={200: VoteSerializer(many=True), **errors_for(401, 403, 404)})
    @action(detail=False, url_path=rf"user/(?P<user_id>{UUID_PATTERN})", permission_classes=[IsAuthenticated])
    def user(self, request, user_id=None):
        user = _private_lists_of(request, user_id, "votes")
        page = self.paginate_queryset(self.get_queryset().filter(ballot__user=user))
        return self.get_paginated_response(VoteSerializer(page, many=True).data)


@extend_schema(tags=["Likes"])
class LikeViewSet(viewsets.GenericViewSet):
    queryset = Like.objects.select_related("poll")
    serializer_class = LikeSerializer
    permission_classes = [AllowAny]
    api_key_scope = VOTE
    lookup_value_regex = UUID_PATTERN

    @idempotent
    @extend_schema(
        summary="Like a poll (anonymous where the poll allows it)",
        request=LikeCreateSerializer,
        parameters=[ANON_ID],
        responses={201: LikeSerializer, **errors_for(400, 401, 403, 404, 409, 429)},
    )
    def create(self, request):
        _, poll, voter = _voter_acting_on(request, LikeCreateSerializer)
        like = services.like_poll(poll=poll, voter=voter)
        like.poll.refresh_from_db(fields=["likes_count"])
        return Response(LikeSerializer(like).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Unlike by like id (the liker or a moderator)",
        parameters=[ANON_ID],
        responses={204: None, **errors_for(400, 403, 404, 429)},
    )
    def destroy(self, request, pk=None):
        services.withdraw_like(like=self.get_object(), voter=_voter_taking_back(request), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Unlike a poll without knowing the like's id",
        parameters=[ANON_ID],
        responses={204: None, **errors_for(400, 404, 429)},
    )
    @action(detail=False, methods=["delete"], url_path=rf"poll/(?P<poll_id>{UUID_PATTERN})")
    def poll(self, request, poll_id=None):
        poll = get_object_or_404(Poll, pk=poll_id)
        services.unlike_poll(poll=poll, voter=_voter_taking_back(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="A user's likes (that user or a moderator)", responses={200: LikeSerializer(many=True), **errors_for(401, 403, 404)})
    @action(detail=False, url_path=rf"user/(?P<user_id>{UUID_PATTERN})", permission_classes=[IsAuthenticated])
    def user(self, request, user_id=None):
        user = _private_lists_of(request, user_id, "likes")
        page = self.paginate_queryset(self.get_queryset().filter(user=user))
        return self.get_paginated_response(LikeSerializer(page, many=True).data)


@extend_schema(tags=["Users"])
class UserPollsViewSet(viewsets.GenericViewSet):
    """A user's polls and their statistics."""

    queryset = User.objects.filter(is_active=True)
    permission_classes = [AllowAny]

    def _person(self) -> User:
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["user_id"])

    @extend_schema(
        summary="A user's polls (unlisted ones only to that user and moderators)",
        parameters=[ANON_ID],
        responses={200: PollSerializer(many=True), **errors_for(400, 404)},
    )
    @action(detail=False)
    def polls(self, request, user_id=None):
        polls = Poll.objects.filter(author=self._person()).listed_for(request.user)
        page = self.paginate_queryset(polls.select_related("author").prefetch_related("options").order_by("-created_at"))
        return self.get_paginated_response(poll_data(request, page))

    @extend_schema(summary="A user's statistics", responses={200: UserStatsSerializer, **errors_for(404)})
    @action(detail=False)
    def stats(self, request, user_id=None):
        return Response(selectors.user_stats(self._person(), viewer=request.user))




@extend_schema(tags=["Invites"], parameters=[OpenApiParameter("poll_id", OpenApiTypes.UUID, OpenApiParameter.PATH)])
class InviteViewSet(viewsets.GenericViewSet):
    """A poll's invite links, for its author and moderators (polls.invites)."""

    permission_classes = [AllowAny]  # require_manager answers 401 or 403 as the other manager actions do
    api_key_scope = MANAGE_POLLS
    queryset = Invite.objects.none()  # names the model for the schema; the actions read through polls.invites
    lookup_value_regex = UUID_PATTERN
    serializer_class = InviteSerializer

    def _poll(self) -> Poll:
        poll = get_object_or_404(Poll.objects.select_related("author"), pk=self.kwargs["poll_id"])
        require_manager(poll, self.request.user)
        return poll

    def _context(self, poll: Poll) -> dict:
        return {"link_for": invites.link_maker(self.request), "show_use": can_see_which_invites_were_used(self.request.user, poll)}

    @extend_schema(
        summary="A poll's invites and how many were used (author or moderator)",
        responses={200: InvitePageSerializer, **errors_for(400, 401, 403, 404)},
    )
    def list(self, request, poll_id=None):
        poll = self._poll()
        page = self.paginate_queryset(invites.invites_of(poll))
        response = self.get_paginated_response(InviteSerializer(page, many=True, context=self._context(poll)).data)
        response.data["counts"] = asdict(invites.invite_counts(poll))
        return response

    @extend_schema(
        summary="Make invites: `count` links, or one per address of `emails`, mailed to it (author or moderator)",
        request=InviteCreateSerializer,
        responses={201: InvitesMadeSerializer, **errors_for(400, 401, 403, 404, 429)},
    )
    def create(self, request, poll_id=None):
        poll = self._poll()
        spend_invite_creation_budget(request)
        serializer = InviteCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        made = invites.create_invites(
            poll=poll, actor=request.user, link_for=invites.link_maker(request), **serializer.validated_data
        )
        made = invites.invites_of(poll).filter(pk__in=[invite.pk for invite in made])
        body = {
            "invites": InviteSerializer(made, many=True, context=self._context(poll)).data,
            "emailed": sum(1 for invite in made if invite.email),
        }
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Revoke one invite: it admits no ballot from now on; a ballot cast with it stays (author or moderator)",
        request=None,
        responses={200: InviteSerializer, **errors_for(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request, poll_id=None, pk=None):
        poll = self._poll()
        invite = get_object_or_404(Invite, poll=poll, pk=pk)
        invites.revoke_invites(poll=poll, actor=request.user, invites=Invite.objects.filter(pk=invite.pk))
        invite = invites.invites_of(poll).get(pk=invite.pk)
        return Response(InviteSerializer(invite, context=self._context(poll)).data)

    @extend_schema(
        summary="Revoke every invite nobody has used yet (author or moderator)",
        request=None,
        responses={200: InvitesRevokedSerializer, **errors_for(400, 401, 403, 404)},
    )
    @action(detail=False, methods=["post"], url_path="revoke-unused")
    def revoke_unused(self, request, poll_id=None):
        poll = self._poll()
        return Response({"revoked": invites.revoke_unused_invites(poll=poll, actor=request.user)})

    @extend_schema(
        summary="The invites as CSV: link, email, label, status (author or moderator)",
        responses={(200, "text/csv"): str, **errors_for(400, 401, 403, 404)},
    )
    @action(detail=False, content_negotiation_class=ExportNegotiation)
    def export(self, request, poll_id=None):
        poll = self._poll()
        return invites.csv_response(request, poll)


@extend_schema(tags=["Polls"], parameters=[OpenApiParameter("poll_id", OpenApiTypes.UUID, OpenApiParameter.PATH)])
class WriteInViewSet(viewsets.GenericViewSet):
    """Options voters suggest on a poll that takes write-ins, and its author's queue of them."""

    permission_classes = [AllowAny]  # the services answer login_required, not_owner or poll_closed themselves
    queryset = WriteIn.objects.none()  # names the model for the schema; the actions read through polls.selectors
    lookup_value_regex = UUID_PATTERN
    serializer_class = WriteInSerializer

    def get_api_key_scope(self):
        # Suggesting is voting's part; accepting and rejecting are the author's.
        return VOTE if self.action == "create" else MANAGE_POLLS

    def _poll(self) -> Poll:
        return get_object_or_404(Poll.objects.select_related("author"), pk=self.kwargs["poll_id"])

    @extend_schema(
        summary="A poll's suggested options, oldest first; `status=pending` is the queue (author or moderator)",
        parameters=[WriteInQuerySerializer],
        responses={200: WriteInSerializer(many=True), **errors_for(400, 401, 403, 404)},
    )
    def list(self, request, poll_id=None):
        poll = self._poll()
        require_manager(poll, request.user)
        query = WriteInQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = self.paginate_queryset(selectors.write_ins_of(poll, status=query.validated_data.get("status")))
        return self.get_paginated_response(WriteInSerializer(page, many=True).data)

    @extend_schema(
        summary="Suggest an option: it waits for the author, or joins the poll at once where the poll says so "
        "(anyone the poll lets vote)",
        description=f"At most {MAX_OPTIONS} options per poll, suggestions waiting included, and "
        f"{services.PENDING_WRITE_INS_PER_VOTER} suggestions waiting per voter. "
        "An option the poll has, one waiting, or one turned down is refused (409), case and spacing aside.",
        request=WriteInCreateSerializer,
        parameters=[ANON_ID, INVITE],
        responses={201: WriteInSerializer, **errors_for(400, 401, 403, 404, 409, 429)},
    )
    def create(self, request, poll_id=None):
        poll = self._poll()
        serializer = WriteInCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        voter = voter_from_request(request)
        spend_voter_budget(request, voter)
        write_in = services.suggest_option(poll=poll, voter=voter, text=serializer.validated_data["text"])
        return Response(WriteInSerializer(write_in).data, status=status.HTTP_201_CREATED)

    def _decide(self, request, decide) -> Response:
        write_in = get_object_or_404(WriteIn.objects.select_related("poll__author"), poll=self._poll(), pk=self.kwargs["pk"])
        serializer = WriteInDecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        write_in = decide(write_in=write_in, actor=request.user, **serializer.validated_data)
        return Response(WriteInSerializer(write_in).data)

    @extend_schema(
        summary="Accept a suggested option: it becomes the poll's last option (author or moderator)",
        request=WriteInDecisionSerializer,
        responses={200: WriteInSerializer, **errors_for(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, poll_id=None, pk=None):
        return self._decide(request, services.accept_write_in)

    @extend_schema(
        summary="Reject a suggested option; the same text cannot be suggested again (author or moderator)",
        request=WriteInDecisionSerializer,
        responses={200: WriteInSerializer, **errors_for(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, poll_id=None, pk=None):
        return self._decide(request, services.reject_write_in)


@extend_schema(tags=["Polls"], parameters=[OpenApiParameter("poll_id", OpenApiTypes.UUID, OpenApiParameter.PATH)])
class AnswerViewSet(viewsets.GenericViewSet):
    """Answers to an open-text poll: voters write them, its managers hide groups of them."""

    permission_classes = [AllowAny]  # the services answer login_required, not_owner or poll_closed themselves
    queryset = Answer.objects.none()
    lookup_value_regex = UUID_PATTERN
    serializer_class = AnswerSerializer

    def get_api_key_scope(self):
        # Answering and taking one's answer back are voting's part; hiding answers is the author's.
        return MANAGE_POLLS if self.action == "hide" else VOTE

    def _poll(self) -> Poll:
        return get_object_or_404(Poll.objects.select_related("author"), pk=self.kwargs["poll_id"])

    @extend_schema(
        summary="Answers: every one with its voter for the poll's author and moderators, your own for anyone else",
        parameters=[ANON_ID],
        responses={200: ManagedAnswerSerializer(many=True), **errors_for(400, 404)},
    )
    def list(self, request, poll_id=None):
        poll = self._poll()
        if can_manage(request.user, poll):
            page = self.paginate_queryset(poll.answers.select_related("user").order_by("created_at", "id"))
            return self.get_paginated_response(ManagedAnswerSerializer(page, many=True).data)
        voter = voter_from_request(request, issue=False)
        mine = poll.answers.filter(**voter.lookup()) if voter else Answer.objects.none()
        page = self.paginate_queryset(mine.order_by("created_at", "id"))
        return self.get_paginated_response(AnswerSerializer(page, many=True).data)

    @idempotent
    @extend_schema(
        summary="Answer an open-text poll (anyone the poll lets vote)",
        description="Up to the poll's answers_per_voter answers, each at most answer_max_length characters. "
        "Anonymous voters meet the bot defence (the `altcha` field or the X-Altcha header) and the per-address "
        "limit, as ballots do. An answer in a group the poll's managers hid stays hidden.",
        request=AnswerCreateSerializer,
        parameters=[ANON_ID, ALTCHA],
        responses={201: AnswerSerializer, **errors_for(400, 401, 403, 404, 409, 428, 429)},
    )
    def create(self, request, poll_id=None):
        poll = self._poll()
        serializer = AnswerCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        voter = voter_from_request(request)
        spend_voter_budget(request, voter)
        solution = request.headers.get(bot_defence.HEADER) or serializer.validated_data["altcha"]
        answer = answers.submit_answer(
            poll=poll, voter=voter, text=serializer.validated_data["text"], challenge=solution
        )
        return Response(AnswerSerializer(answer).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Take an answer back (its voter while the poll is open, or a moderator)",
        parameters=[ANON_ID],
        responses={204: None, **errors_for(400, 403, 404, 429)},
    )
    def destroy(self, request, poll_id=None, pk=None):
        answer = get_object_or_404(Answer.objects.select_related("poll__author"), poll_id=self.kwargs["poll_id"], pk=pk)
        voter = _voter_taking_back(request)
        answers.take_back(answer=answer, voter=voter, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Hide a group of answers from every screen, or show it again (author or moderator)",
        description="Every answer whose key matches, and any given later, hides together.",
        request=AnswerHideSerializer,
        responses={200: AnswersHiddenSerializer, **errors_for(400, 401, 403, 404)},
    )
    @action(detail=False, methods=["post"])
    def hide(self, request, poll_id=None):
        poll = self._poll()
        serializer = AnswerHideSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changed = answers.hide(poll=poll, actor=request.user, **serializer.validated_data)
        return Response({"changed": changed})


@extend_schema(tags=["Decks"])
class DeckViewSet(viewsets.GenericViewSet):
    """Decks: polls a presenter steps through; the audience follows at the deck's join code."""

    permission_classes = [IsAuthenticated]
    api_key_scope = MANAGE_POLLS
    lookup_value_regex = UUID_PATTERN
    serializer_class = DeckSerializer

    def get_queryset(self):
        mine = Deck.objects.prefetch_related("items")
        if self.request.user.is_staff and self.request.query_params.get("all") == "1":
            return mine
        return mine.filter(author_id=self.request.user.pk)

    def get_object(self) -> Deck:
        deck = get_object_or_404(Deck.objects.prefetch_related("items"), pk=self.kwargs["pk"])
        require_deck_owner(deck, self.request.user)
        return deck

    def _answer(self, deck: Deck, status_code=status.HTTP_200_OK) -> Response:
        return Response(DeckSerializer(Deck.objects.prefetch_related("items").get(pk=deck.pk)).data, status=status_code)

    @extend_schema(
        summary="Your decks, newest first (moderators: ?all=1 for everyone's)",
        parameters=[OpenApiParameter("all", str, description="`1`: every deck (moderators)")],
        responses={200: DeckSerializer(many=True), **errors_for(400, 401, 404)},
    )
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(DeckSerializer(page, many=True).data)

    @extend_schema(summary="Make a deck of polls you manage", request=DeckWriteSerializer,
                   responses={201: DeckSerializer, **errors_for(400, 401)})
    def create(self, request):
        serializer = DeckWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        deck = decks.create_deck(
            author=request.user, title=serializer.validated_data["title"], poll_ids=serializer.validated_data["polls"]
        )
        return self._answer(deck, status.HTTP_201_CREATED)

    @extend_schema(summary="A deck (its author or a moderator)", responses={200: DeckSerializer, **errors_for(401, 403, 404)})
    def retrieve(self, request, pk=None):
        return self._answer(self.get_object())

    @extend_schema(summary="Rename a deck, or set its polls and their order", request=DeckWriteSerializer,
                   responses={200: DeckSerializer, **errors_for(400, 401, 403, 404)})
    def update(self, request, pk=None, partial=False):
        deck = self.get_object()
        serializer = DeckWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        deck = decks.update_deck(deck=deck, actor=request.user, title=data.get("title"), poll_ids=data.get("polls"))
        return self._answer(deck)

    @extend_schema(summary="Rename a deck, or set its polls and their order", request=DeckWriteSerializer,
                   responses={200: DeckSerializer, **errors_for(400, 401, 403, 404)})
    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    @extend_schema(summary="Delete a deck (its polls stay)", responses={204: None, **errors_for(401, 403, 404)})
    def destroy(self, request, pk=None):
        decks.delete_deck(deck=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Put another of the deck's polls on screen; its audience follows at once",
        request=DeckMoveSerializer,
        responses={200: DeckSerializer, **errors_for(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        deck = self.get_object()
        serializer = DeckMoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._answer(decks.move(deck=deck, actor=request.user, position=serializer.validated_data["position"]))

    @extend_schema(
        summary="Where the deck with this join code stands, and the poll on screen (anyone with the code)",
        description="Codes that name nothing count against the address's RATE_LIMIT_JOIN_MISSES (429 past it).",
        responses={200: DeckStateSerializer, **errors_for(404, 429)},
    )
    @action(detail=False, url_path=r"code/(?P<code>[A-Za-z0-9 -]{1,20})", permission_classes=[AllowAny])
    def code(self, request, code=None):
        found = _joined(request, code, Deck)
        return Response(DeckStateSerializer(decks.deck_state(found)).data)


OEMBED_CACHE_AGE = 3600  # the iframe shows live results; only its title and size could go stale


@extend_schema(
    operation_id="oembed",
    tags=["Polls"],
    summary="oEmbed: the iframe that shows a poll, live, in another site (type rich)",
    description="For a poll's URL on this site (its page or its embed), the snippet a CMS or chat app inserts. "
    "Poll pages announce this URL with a <link rel=\"alternate\" type=\"application/json+oembed\">. "
    "The iframe stays within maxwidth and maxheight (never below 240 pixels). A URL that is not one of our polls "
    "is 404 not_found; format=xml is 501 format_not_supported (only json is offered).",
    parameters=[OEmbedQuerySerializer],
    responses={200: OEmbedSerializer, **errors_for(400, 404, 501)},
)
@api_view(["GET"])
@permission_classes([AllowAny])
def oembed(request):
    # oEmbed's other format, xml, is a 501 per its spec; anything else is a malformed query (400).
    if request.query_params.get("format") == "xml":
        raise errors.EmbedFormatNotSupported()
    query = OEmbedQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    ref = embeds.poll_ref_from_url(query.validated_data["url"], request)
    poll = Poll.objects.select_related("author").by_ref(ref).first() if ref else None
    if poll is None:
        raise errors.EmbedNotFound()
    width, height = embeds.embed_size(maxwidth=query.validated_data.get("maxwidth"), maxheight=query.validated_data.get("maxheight"))
    preview_width, preview_height = previews.WIDTH, previews.HEIGHT
    return Response(
        {
            "version": "1.0",
            "type": "rich",
            "provider_name": settings.APP_NAME,
            "provider_url": request.build_absolute_uri("/"),
            "title": poll.title,
            "author_name": poll.author.public_name,
            "author_url": request.build_absolute_uri(reverse("profile", kwargs={"username": poll.author.username})),
            "html": embeds.embed_snippet(request, poll, width=width, height=height),
            "width": width,
            "height": height,
            "thumbnail_url": request.build_absolute_uri(reverse("poll-preview", kwargs={"ref": poll.slug})),
            "thumbnail_width": preview_width,
            "thumbnail_height": preview_height,
            "cache_age": OEMBED_CACHE_AGE,
        }
    )


