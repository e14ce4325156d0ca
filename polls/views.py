"""The polls pages (and a user's profile, which is their polls, votes and likes): thin views over
polls.services and polls.selectors.

Every action is a plain form post (CSRF-protected, works without JavaScript) that
redirects back to the poll; live updates are added on top by static/js/quickpoll.js.
"""

import functools
import secrets
from datetime import datetime, timedelta

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Min, Prefetch
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, gettext_lazy as _, ngettext
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.errors import EmailNotVerified
from accounts.models import User
from polls import (
    answers,
    bot_defence,
    decks,
    embeds,
    errors,
    invites,
    join_codes,
    presenting,
    previews,
    public_bodies,
    secret_ballots,
    selectors,
    services,
)
from polls.filters import PollFilter
from polls.forms import BallotMarks, DeckForm, InvitesForm, PollForm, ReportForm
from polls.models import (
    CANONICAL_UUID,
    MAX_OPTIONS,
    Answer,
    Ballot,
    Deck,
    Invite,
    Like,
    Poll,
    Vote,
    WriteIn,
)
from polls.permissions import (
    can_change_vote,
    can_manage,
    can_report,
    can_see_results,
    can_see_which_invites_were_used,
    can_suggest_option,
    can_vote,
    editable_fields,
    invite_refusal,
    may_create_polls,
    require_deck_owner,
)
from polls.viewcounts import record_view
from polls.voters import carries_no_identity, voter_from_request
from quickpoll.errors import RateLimited
from quickpoll.ratelimits import (
    count_join_miss,
    refuse_join_guessing,
    spend_invite_budget,
    spend_invite_creation_budget,
    spend_voter_budget,
)

PAGE_SIZE = 12
BROWSE_FORM_FIELDS = {"q", "status", "method"}  # the rest of PollFilter's parameters have no input on the page




def _poll_or_404(ref: str) -> Poll:
    """A poll by its slug or its id: both make shareable links (a slug never has an id's shape)."""
    return get_object_or_404(Poll.objects.select_related("author").prefetch_related("options").by_ref(ref))


def _back_to(poll: Poll, request=None):
    """Back to the poll's page, or to the deck's audience page (/j/<code>) or the presenter screen the form
    was posted from."""
    back = request.POST.get("back", "") if request is not None else ""
    from_room = back.startswith("/j/") or back.endswith("/present/")
    if from_room and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("poll-detail", ref=poll.slug)


def _asked_first(request) -> bool:
    """A destructive post carries `confirmed` once someone said yes: the page script's dialog or _ask_first's page."""
    return request.POST.get("confirmed") == "1"


def _ask_first(request, poll: Poll | Deck, *, question: str, consequence: str, confirm: str, cancel: str, back: str = "", **extra):
    """Without JavaScript's dialog, a destructive post shows this page: the same post again, confirmed, or back.
    A deck asks the same way (its title is quoted as a poll's is)."""
    back = back or reverse("poll-detail", kwargs={"ref": poll.slug})
    context = {"poll": poll, "question": question, "consequence": consequence, "confirm": confirm, "cancel": cancel, "back": back}
    return render(request, "polls/confirm.html", context | extra)


def results_context(request, poll: Poll, state: selectors.VoterState) -> dict:
    """What templates/polls/_results.html needs, the same for the page and its refreshes."""
    visible = can_see_results(poll=poll, user=request.user, has_voted=state.has_voted)
    return {
        "poll": poll,
        # A ranked or score poll's full count is cached per results version (selectors.full_results).
        "results": (
            selectors.full_results(poll)
            if poll.counts_ballots or poll.takes_answers
            else selectors.option_results(poll, poll.options.all())
        )
        if visible
        else None,
        "results_note": None if visible else selectors.results_hidden_reason(poll),
        "my_votes": set(state.my_votes),
    }


def _known_voter(request):
    """The voter a page can look up, or None; a malformed X-Anon-Id header just means "unknown" here."""
    try:
        return voter_from_request(request, issue=False)
    except errors.InvalidAnonId:
        return None


def _voter_state(request, poll: Poll, voter=None) -> selectors.VoterState:
    voter = voter or _known_voter(request)
    return selectors.voter_states(polls=[poll], voter=voter).get(poll.pk, selectors.VoterState())


@require_GET
def browse(request):
    filters = PollFilter(request.GET, queryset=selectors.recent_polls())
    # A bad value is shown beside the form (and answered 400); the valid ones still filter the list.
    valid = filters.is_valid()
    page = Paginator(filters.qs.prefetch_related("options"), PAGE_SIZE).get_page(request.GET.get("page"))
    chosen = filters.form.cleaned_data
    kept = request.GET.copy()
    kept.pop("page", None)
    context = {
        "page": page,
        "cards": selectors.poll_cards(page),
        "form": filters.form,
        "query": chosen.get("q") or "",
        "status": chosen.get("status") or "",
        "method": chosen.get("method") or "",
        "methods": Poll.Method.choices,
        "filters": kept.urlencode(),
        "other_errors": [
            f"{name}: {' '.join(problems)}" for name, problems in filters.form.errors.items() if name not in BROWSE_FORM_FIELDS
        ],
    }
    return render(request, "polls/browse.html", context, status=200 if valid else 400)


@functools.lru_cache(maxsize=1024)
def _qr_svg(url: str, title: str = "QR code of this poll's link", *, tile: bool = False) -> str:
    """A poll's link never changes, so its QR code is drawn once per process, not per view.

    As a tile: black on its own white quiet zone (it scans on a dark page too), with a viewBox and no
    fixed size, so CSS scales the code and its quiet zone together and the margin stays even on every side.
    """
    qr = segno.make(url, error="m")
    if tile:
        return qr.svg_inline(scale=4, border=4, dark="#000", light="#fff", omitsize=True, title=title)
    return qr.svg_inline(scale=4, title=title)


# Where each visitor's own CSRF token goes in a page kept for visitors with nothing of their own: unguessable,
# so no poll's text can carry it.
_TOKEN_SLOT = secrets.token_hex(16)


@require_GET
def poll_detail(request, ref):
    shared = _shared_page_key(request, ref)
    if shared is not None and (kept := public_bodies.page_here(shared)) is not None:
        poll, page = kept
        # The challenge widget is per visitor (and per address): such a page is never kept, nor served from a copy.
        if not bot_defence.challenge_due(poll=poll, user=request.user, address=request.META.get("REMOTE_ADDR")):
            record_view(poll.pk)
            return HttpResponse(page.replace(_TOKEN_SLOT, get_token(request)))
    poll = _poll_or_404(ref)
    record_view(poll.pk)
    if shared is None:
        return _render_poll(request, poll, changing=request.GET.get("change") == "1")
    context = _poll_context(request, poll)
    if context["bot_challenge"]:
        return render(request, "polls/detail.html", context)
    page = render_to_string("polls/detail.html", {**context, "csrf_token": _TOKEN_SLOT}, request)
    public_bodies.keep_page(shared, poll, page)
    return HttpResponse(page.replace(_TOKEN_SLOT, get_token(request)))


def _shared_page_key(request, ref: str) -> tuple | None:
    """Under what a page for a visitor with nothing of their own is kept: what else it depends on (the address it
    was asked at, the language, the time zone). None: this visitor may see a page of their own (they hold a
    session, a voter id or a message, or ask with a query: ?change=1, an invite)."""
    if request.GET or not carries_no_identity(request) or CookieStorage.cookie_name in request.COOKIES:
        return None
    return (ref, request.build_absolute_uri(), translation.get_language(), timezone.get_current_timezone_name())


def _render_poll(request, poll: Poll, *, status: int = 200, **refused):
    """The poll's page. `changing` opens the ballot form on the voter's current picks; `picked` and
    `vote_error` bring back a refused ballot's own ticks beside the reason, so nothing picked is lost
    (`answer_text` and `answer_error`: an open-text poll's refused answer)."""
    return render(request, "polls/detail.html", _poll_context(request, poll, **refused), status=status)


def _poll_context(
    request,
    poll: Poll,
    *,
    voter=None,
    changing: bool = False,
    picked=None,
    vote_error: str = "",
    answer_text: str = "",
    answer_error: str = "",
) -> dict:
    """What templates/polls/detail.html needs: the poll's page, and a deck's audience page built on it.
    `voter`: whom the page is for when the request does not say (the embed's voter, just issued an id)."""
    state = _voter_state(request, poll, voter)
    share_url = request.build_absolute_uri(reverse("poll-detail", kwargs={"ref": poll.slug}))
    signed_in = request.user.is_authenticated
    held_invite = invites.held_for(request, poll)
    invite_note = None
    if poll.invite_only and poll.is_open and not state.has_voted:
        refusal = invite_refusal(poll, held_invite)
        invite_note = refusal.message if refusal else None
    may_change = can_change_vote(request.user, poll, has_voted=state.has_voted)
    changing = (changing or picked is not None) and may_change
    # What the form shows ticked: a refused ballot's own marks, or the voter's current ballot when changing it.
    marks = picked if picked is not None else (BallotMarks.of(state) if changing else BallotMarks())
    context = {
        **results_context(request, poll, state),
        "state": state,
        "can_vote": can_vote(request.user, poll, has_voted=state.has_voted, invite=held_invite),
        "can_change_vote": may_change,
        "changing": changing,
        "checked": marks.option_ids,
        "ranks": marks.ranks,
        "scores": marks.scores,
        "vote_error": vote_error,
        "invite_note": invite_note,
        "bot_challenge": bot_defence.challenge_due(poll=poll, user=request.user, address=request.META.get("REMOTE_ADDR")),
        "bot_challenge_url": bot_defence.challenge_url(poll),
        "login_to_vote": poll.is_open and not signed_in and not poll.allow_anonymous,
        "can_manage": can_manage(request.user, poll),
        "can_report": can_report(request.user, poll),
        "share_url": share_url,
        "preview_image_url": request.build_absolute_uri(reverse("poll-preview", kwargs={"ref": poll.slug})),
        "oembed_url": embeds.oembed_discovery_url(request, poll),
        "report_form": ReportForm(),
        **_write_ins_context(request, poll, held_invite),
        **_answers_context(request, poll, state, held_invite, answer_text=answer_text, answer_error=answer_error),
    }
    context["voting"] = context["can_vote"] or changing
    if context["can_manage"] and not poll.is_secret:  # a secret poll has no per-vote times to chart
        context["chart"] = _vote_chart(selectors.vote_stats(poll)["votes_per_hour"], open_now=poll.is_open)
    return context


# The author's votes-per-hour chart: an inline SVG drawn here, so it needs no script. Units of its viewBox,
# sized for the page's side column, where one unit is about one pixel.
CHART_WIDTH, CHART_HEIGHT = 320, 180
CHART_PLOT = {"left": 34, "right": 312, "top": 10, "bottom": 150}
CHART_HOURS = (6, 24)  # the fewest and the most hours it spans


def _nice_step(peak: int) -> int:
    """A y-axis step of 1, 2 or 5 times a power of ten giving at most five gridlines above zero."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if peak <= 5 * step * factor:
                return step * factor
        step *= 10


def _vote_chart(rows: list[dict], *, open_now: bool) -> dict | None:
    """Votes per hour over the last hours of voting (up to now while the poll is open), with gridlines and
    hour labels. `rows` are selectors.vote_stats' votes_per_hour: hours with votes, oldest first."""
    if not rows:
        return None
    votes = {datetime.fromisoformat(row["hour"]): row["votes"] for row in rows}
    last = max(votes)
    end = max(last, timezone.now().replace(minute=0, second=0, microsecond=0)) if open_now else last
    fewest, most = CHART_HOURS
    start = max(min(min(votes), end - timedelta(hours=fewest - 1)), end - timedelta(hours=most - 1))
    hours = [start + timedelta(hours=n) for n in range(int((end - start).total_seconds() // 3600) + 1)]
    plot = CHART_PLOT
    peak = max(1, max(votes.get(hour, 0) for hour in hours))
    step = _nice_step(peak)
    top = step * -(-peak // step)  # the scale ends on the first gridline at or above the peak
    height = plot["bottom"] - plot["top"]
    slot = (plot["right"] - plot["left"]) / len(hours)
    label_every = -(-len(hours) // 6)  # at most six hour labels, so they never touch
    bars = []
    for index, hour in enumerate(hours):
        count = votes.get(hour, 0)
        tall = height * count / top
        local = timezone.localtime(hour)
        bars.append({
            "hour": local,
            "votes": count,
            "x": round(plot["left"] + index * slot + slot * 0.15, 1),
            "width": round(slot * 0.7, 1),
            "y": round(plot["bottom"] - tall, 1),
            "height": round(tall, 1),
            "label_x": round(plot["left"] + (index + 0.5) * slot, 1) if index % label_every == 0 else None,
        })
    ticks = [{"value": value, "y": round(plot["bottom"] - height * value / top, 1)} for value in range(0, top + 1, step)]
    busiest = max(bars, key=lambda bar: bar["votes"])
    return {
        "bars": bars,
        "ticks": ticks,
        "plot": plot,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "label_y": plot["bottom"] + 18,
        "total": sum(bar["votes"] for bar in bars),
        "busiest": busiest,
        "zone": timezone.get_current_timezone_name(),
    }


# The API's message points at its challenge endpoint; on the page the widget is what the voter needs.
CHALLENGE_REQUIRED_MESSAGE = (
    "This poll asks your browser to solve a small puzzle before your vote counts. With JavaScript on it does so "
    "by itself above the Vote button: pick again and vote. Without JavaScript, log in to vote."
)


def _act(request, poll: Poll, action, success: str | None = None, *, on_refusal=None):
    """Run a form post's service call; its refusal becomes a message on the poll's page (or `on_refusal`'s answer)."""
    try:
        action()
    except errors.ChallengeRequired:
        messages.error(request, CHALLENGE_REQUIRED_MESSAGE)
    except errors.PollError as exc:
        answer = on_refusal(exc) if on_refusal else None
        if answer is not None:
            return answer
        messages.error(request, exc.message)
    except RateLimited as exc:
        messages.error(
            request,
            ngettext(
                "That was a lot of clicks. Try again in %(seconds)d second.",
                "That was a lot of clicks. Try again in %(seconds)d seconds.",
                exc.retry_after,
            )
            % {"seconds": exc.retry_after},
        )
    else:
        if success:
            messages.success(request, success)
    return _back_to(poll, request)


def _cast(request, poll: Poll, write, success: str | None):
    """Cast or change a ballot with `write(voter, option_ids, scores, challenge)`. A refused ballot (no pick, an
    unknown option, too many or too few, a rank given twice, a score out of range) re-renders the page with the
    voter's marks kept beside the reason: without JavaScript nothing is lost."""
    marks = BallotMarks.from_form(poll, request.POST)

    def cast():
        voter = invites.presenting(voter_from_request(request), invites.held_for(request, poll))
        spend_voter_budget(request, voter)
        ballot = write(voter=voter, **marks.ballot(poll), challenge=request.POST.get(bot_defence.FIELD, ""))
        if ballot.receipt:
            # Shown this once (the message lives in a signed cookie until then): nothing stores it with the voter.
            messages.success(
                request,
                _(
                    "Your secret ballot is in. Your receipt: %(receipt)s. Note it now, it is shown only this once: "
                    "with it you can check below that your ballot is counted."
                )
                % {"receipt": ballot.receipt},
                extra_tags="receipt",
            )

    def refused_pick(exc):
        if isinstance(exc, BALLOT_REFUSALS):
            return _render_poll(request, poll, picked=marks, vote_error=exc.message, status=400)
        return None

    return _act(request, poll, cast, success, on_refusal=refused_pick)


# Refusals of the ballot itself: the page comes back with the voter's marks beside the reason.
BALLOT_REFUSALS = (
    errors.InvalidOption,
    errors.TooManyOptions,
    errors.TooFewOptions,
    errors.DuplicateOption,
    errors.ScoreOutOfRange,
    errors.WrongBallotShape,
)


@require_POST
def vote(request, ref):
    poll = _poll_or_404(ref)
    write = functools.partial(services.cast_vote, poll=poll)
    return _cast(request, poll, write, None if poll.is_secret else _("Your vote is in."))


@require_POST
def change_vote(request, ref):
    """Replace the voter's ballot with the form's picks in one step: until the new one is written, the old one stands."""
    poll = _poll_or_404(ref)
    return _cast(request, poll, functools.partial(services.change_vote, poll=poll), _("Your vote is changed."))


@require_GET
def receipt(request, ref):
    """Check a secret ballot's receipt: counted or not, and its options once the results are visible."""
    poll = _poll_or_404(ref)
    if not poll.is_secret:
        return _back_to(poll)
    code = request.GET.get("code", "")[:40]
    sealed = secret_ballots.find_receipt(poll=poll, code=code) if code.strip() else None
    state = _voter_state(request, poll)
    visible = can_see_results(poll=poll, user=request.user, has_voted=state.has_voted)
    context = {
        "poll": poll,
        "code": secret_ballots.normalise_receipt(code),
        "sealed": secret_ballots.listed_ballot(sealed, secret_ballots.option_texts(poll)) if sealed else None,
        "results_visible": visible,
        "results_note": None if visible else selectors.results_hidden_reason(poll),
    }
    return render(request, "polls/receipt.html", context, status=200 if sealed or not code.strip() else 404)


@require_POST
def retract(request, ref):
    poll = _poll_or_404(ref)
    voter = invites.presenting(_known_voter(request), invites.held_for(request, poll))

    def take_back():
        spend_voter_budget(request, voter)  # the budget votes spend: retract-and-vote-again moves results too
        services.retract_ballot(poll=poll, voter=voter)

    return _act(request, poll, take_back, _("Your vote is taken back; you can vote again."))


@require_POST
def like(request, ref):
    poll = _poll_or_404(ref)
    if request.POST.get("undo"):
        voter = _known_voter(request)

        def unlike():
            spend_voter_budget(request, voter)
            services.unlike_poll(poll=poll, voter=voter)

        return _act(request, poll, unlike, _("You no longer like this poll."))

    def like_it():
        voter = invites.presenting(voter_from_request(request), invites.held_for(request, poll))
        spend_voter_budget(request, voter)
        services.like_poll(poll=poll, voter=voter)

    return _act(request, poll, like_it, "Liked.")


def _login_first(request, poll: Poll):
    """Anonymous visitors log in and come back to the poll (not to the POST-only action URL)."""
    return redirect_to_login(reverse("poll-detail", kwargs={"ref": poll.slug}))


@require_POST
def report(request, ref):
    poll = _poll_or_404(ref)
    if not request.user.is_authenticated:
        return _login_first(request, poll)
    form = ReportForm(request.POST)
    if not form.is_valid():
        for problems in form.errors.values():
            for problem in problems:
                messages.error(request, problem)
        return _back_to(poll)
    return _act(
        request,
        poll,
        lambda: services.report_poll(poll=poll, reporter=request.user, **form.cleaned_data),
        _("Thank you: the moderators will look at this poll."),
    )


@require_POST
def set_open(request, ref):
    poll = _poll_or_404(ref)
    if not request.user.is_authenticated:
        return _login_first(request, poll)
    active = request.POST.get("open") == "1"
    if not active and poll.is_active and can_manage(request.user, poll) and not _asked_first(request):
        return _ask_first(
            request,
            poll,
            question=_("Close this poll?"),
            consequence=_("Voting stops for everyone and the results become final. You can reopen it later from its page."),
            confirm=_("Close the poll"),
            cancel=_("Keep it open"),
        )
    return _act(
        request,
        poll,
        lambda: services.set_poll_active(poll=poll, actor=request.user, active=active),
        _("The poll is open again.") if active else _("The poll is closed: voting has ended and its results are final."),
    )


@require_POST
def delete(request, ref):
    poll = _poll_or_404(ref)
    if not request.user.is_authenticated:
        return _login_first(request, poll)
    if can_manage(request.user, poll) and not _asked_first(request):
        return _ask_first(
            request,
            poll,
            question=_("Delete this poll?"),
            consequence=_("The poll, its votes and its likes are gone for good, and its link stops working. This cannot be undone."),
            confirm=_("Delete the poll"),
            cancel=_("Keep it"),
            danger=True,
        )
    try:
        services.delete_poll(poll=poll, actor=request.user)
    except errors.PollError as exc:
        messages.error(request, exc.message)
        return _back_to(poll)
    messages.success(request, _("The poll is deleted."))
    return redirect("profile", username=request.user.username)


def _wants_another_option(request, form: PollForm) -> bool:
    """The "Add an option" button (without JavaScript): show the form again, as typed, with one more input."""
    if request.method == "POST" and "add_option" in request.POST:
        form.add_option_input()
        return True
    return False


@login_required
@require_http_methods(["GET", "POST"])
def create(request):
    form = PollForm(request.POST or None)
    if request.method == "GET" and not may_create_polls(request.user):
        messages.warning(request, gettext("Confirm your email address before you create a poll: see Settings, E-mail."))
    if _wants_another_option(request, form):
        return render(request, "polls/form.html", {"form": form, "creating": True})
    if request.method == "POST" and form.is_valid():
        try:
            poll = services.create_poll(author=request.user, **form.cleaned_data)
        except errors.InvalidPoll as exc:
            form.add_service_errors(exc.fields)
        except EmailNotVerified as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Your poll is live. Share the link!"))
            return redirect("poll-share", ref=poll.slug)
    return render(request, "polls/form.html", {"form": form, "creating": True}, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def edit(request, ref):
    poll = _poll_or_404(ref)
    if not can_manage(request.user, poll):
        raise PermissionDenied
    locked = poll.total_votes > 0
    form = PollForm(
        request.POST or None,
        initial=PollForm.initial_for(poll),
        options_locked=locked,
        editable=editable_fields(request.user, poll),
        locked_note=_("Locked while the poll is on hold.") if poll.is_held else _("Only the poll's author can change this."),
    )
    context = {"form": form, "poll": poll, "creating": False}
    if _wants_another_option(request, form):
        return render(request, "polls/form.html", context)
    if request.method == "POST" and form.is_valid():
        changes = {name: value for name, value in form.cleaned_data.items() if name in form.changed_data}
        options = changes.pop("options", None)  # disabled (locked) fields never count as changed
        try:
            services.update_poll(poll=poll, actor=request.user, options=options, **changes)
        except errors.InvalidPoll as exc:
            form.add_service_errors(exc.fields)
        except errors.PollError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Changes saved."))
            return _back_to(poll)
    return render(request, "polls/form.html", context, status=400 if form.errors else 200)


@require_GET
def poll_qr(request, ref):
    """The poll page's QR code, as a picture the page loads only when "Show a QR code" is opened."""
    poll = _poll_or_404(ref)
    svg = _qr_svg(request.build_absolute_uri(reverse("poll-detail", kwargs={"ref": poll.slug})), gettext("QR code of this poll's link"), tile=True)
    response = HttpResponse('<svg xmlns="http://www.w3.org/2000/svg"' + svg.removeprefix("<svg"), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"  # a poll's link never changes
    return response


@require_GET
def share(request, ref):
    """The share panel: where a new poll's author lands, and what a poll's "Share" leads to later."""
    poll = _poll_or_404(ref)
    link = request.build_absolute_uri(reverse("poll-detail", kwargs={"ref": poll.slug}))
    short_link = request.build_absolute_uri(reverse("poll-detail", kwargs={"ref": poll.pk}))
    context = {
        "poll": poll,
        "link": link,
        "short_link": short_link,
        "qr": _qr_svg(link, tile=True),
        "can_manage": can_manage(request.user, poll),
        "embed_snippet": embeds.embed_snippet(request, poll),
        "embed_origins": poll.embed_origins,
    }
    return render(request, "polls/share.html", context)


@require_GET
def profile(request, username):
    person = get_object_or_404(User, username__iexact=username, is_active=True)
    is_me = request.user.is_authenticated and request.user.pk == person.pk
    polls = Poll.objects.filter(author=person).listed_for(request.user).with_public_totals().order_by("-created_at")
    page = Paginator(polls, 20).get_page(request.GET.get("page"))
    context = {
        "person": person,
        "is_me": is_me,
        "polls": page,
        "cards": selectors.poll_cards(page),
        "stats": selectors.user_stats(person, viewer=request.user),
    }
    if is_me:
        context["my_ballots"] = (
            Ballot.objects.filter(user=person)
            .select_related("poll")
            .prefetch_related(Prefetch("votes", queryset=Vote.objects.select_related("option")))[:20]
        )
        context["my_likes"] = Like.objects.filter(user=person).select_related("poll")[:20]
    return render(request, "polls/profile.html", context)


# --- Invites ------------------------------------------------------------------------------------


@require_GET
def redeem_invite(request, token):
    """An invite link: this browser holds the invite from now on, and goes to the poll to vote."""
    try:
        spend_invite_budget(request)
    except RateLimited as exc:
        context = {"message": ngettext("Too many invite links opened from here. Try again in %(seconds)d second.", "Too many invite links opened from here. Try again in %(seconds)d seconds.", exc.retry_after) % {"seconds": exc.retry_after}}
        return render(request, "polls/invite_missing.html", context, status=429)
    invite = invites.find_invite(token)
    if invite is None:
        context = {"message": _("This invite link is not valid. Check that you copied all of it.")}
        return render(request, "polls/invite_missing.html", context, status=404)
    invites.hold(request, invite)
    if invite.is_revoked:
        messages.error(request, errors.InviteRevoked.message)
    else:
        messages.success(request, _("Your invite is ready: you can vote on this poll."))
    return _back_to(invite.poll)


def _managed_poll(request, ref) -> Poll:
    poll = _poll_or_404(ref)
    if not can_manage(request.user, poll):
        raise PermissionDenied
    return poll


@login_required
@require_http_methods(["GET", "POST"])
def manage_invites(request, ref):
    poll = _managed_poll(request, ref)
    form = InvitesForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            spend_invite_creation_budget(request)
            made = invites.create_invites(
                poll=poll, actor=request.user, link_for=invites.link_maker(request), **form.cleaned_data
            )
        except errors.InvalidInvites as exc:
            form.add_service_errors(exc.fields)
        except RateLimited as exc:
            form.add_error(
                None,
                ngettext(
                    "That was a lot of invites. Try again in %(seconds)d second.",
                    "That was a lot of invites. Try again in %(seconds)d seconds.",
                    exc.retry_after,
                )
                % {"seconds": exc.retry_after},
            )
        else:
            emailed = sum(1 for invite in made if invite.email)
            sent = f", and {emailed} invitation{'s' if emailed != 1 else ''} mailed" if emailed else ""
            messages.success(request, f"{len(made)} invite link{'s' if len(made) != 1 else ''} made{sent}.")
            return redirect("poll-invites", ref=poll.slug)
    link_for = invites.link_maker(request)
    show_use = can_see_which_invites_were_used(request.user, poll)
    page = Paginator(invites.invites_of(poll), 100).get_page(request.GET.get("page"))
    rows = [
        {"invite": invite, "link": link_for(invite), "status": invites.status_of(invite, show_use=show_use)}
        for invite in page
    ]
    context = {"poll": poll, "form": form, "counts": invites.invite_counts(poll), "page": page, "rows": rows}
    return render(request, "polls/invites.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def revoke_invites(request, ref):
    poll = _managed_poll(request, ref)
    if request.POST.get("unused") and not _asked_first(request):
        return _ask_first(
            request,
            poll,
            question=_("Revoke the unused invites?"),
            consequence=_("Every invite nobody has used yet stops working. Votes already cast with an invite still count."),
            confirm=_("Revoke them"),
            cancel=_("Keep them"),
            back=reverse("poll-invites", kwargs={"ref": poll.slug}),
            fields=[("unused", "1")],
            danger=True,
        )
    if request.POST.get("unused"):
        revoked = invites.revoke_unused_invites(poll=poll, actor=request.user)
    else:
        chosen = request.POST.get("invite", "")
        if not CANONICAL_UUID.match(chosen.lower()):
            messages.error(request, _("Choose an invite to revoke."))
            return redirect("poll-invites", ref=poll.slug)
        revoked = invites.revoke_invites(poll=poll, actor=request.user, invites=Invite.objects.filter(pk=chosen))
    messages.success(request, f"{revoked} invite{'s' if revoked != 1 else ''} revoked.")
    return redirect("poll-invites", ref=poll.slug)


@login_required
@require_GET
def invites_csv(request, ref):
    return invites.csv_response(request, _managed_poll(request, ref))


@login_required
@require_GET
def invites_sheet(request, ref):
    """A printable page of QR codes, one per invite that still admits a ballot."""
    poll = _managed_poll(request, ref)
    link_for = invites.link_maker(request)
    cards = []
    show_use = can_see_which_invites_were_used(request.user, poll)
    for invite in invites.printable_invites(poll, show_use=show_use):
        link = link_for(invite)
        cards.append({"invite": invite, "link": link, "qr": _qr_svg(link, "QR code of an invite link")})
    return render(request, "polls/invites_sheet.html", {"poll": poll, "cards": cards})


# --- Write-ins ------------------------------------------------------------------------------------


def _write_ins_context(request, poll: Poll, held_invite: str) -> dict:
    """What templates/polls/_write_in.html (the "suggest an option" form) and the manage panel's link need."""
    waiting = WriteIn.objects.filter(poll=poll).pending()
    # The author's queue link counts what waits even once write-ins are switched off: it still needs deciding.
    pending = waiting.count() if can_manage(request.user, poll) else 0
    context = {"can_suggest": False, "my_write_ins": [], "pending_write_ins": pending}
    if poll.allow_write_ins:
        voter = _known_voter(request)
        context["can_suggest"] = can_suggest_option(request.user, poll, voter=voter, invite=held_invite)
        context["my_write_ins"] = list(waiting.suggested_by_voter(voter)) if voter is not None else []
    return context


@require_POST
def suggest_option(request, ref):
    poll = _poll_or_404(ref)

    def suggest():
        voter = invites.presenting(voter_from_request(request), invites.held_for(request, poll))
        spend_voter_budget(request, voter)
        write_in = services.suggest_option(poll=poll, voter=voter, text=request.POST.get("text", ""))
        if write_in.status == WriteIn.Status.PENDING:
            messages.success(
                request, _("Thank you: “%(option)s” waits for the poll's author to add it.") % {"option": write_in.text}
            )
        else:
            messages.success(request, f"“{write_in.text}” is now an option of this poll.")

    return _act(request, poll, suggest)


@login_required
@require_GET
def write_in_queue(request, ref):
    """The author's queue of suggested options: accept or reject each (plain forms), and what was decided."""
    poll = _managed_poll(request, ref)
    write_ins = selectors.write_ins_of(poll)
    context = {
        "poll": poll,
        "max_options": MAX_OPTIONS,
        "pending": [write_in for write_in in write_ins if write_in.status == WriteIn.Status.PENDING],
        "decided": [write_in for write_in in reversed(write_ins) if write_in.status != WriteIn.Status.PENDING][:50],
    }
    return render(request, "polls/write_ins.html", context)


@login_required
@require_POST
def decide_write_in(request, ref, write_in_id):
    poll = _managed_poll(request, ref)
    write_in = get_object_or_404(WriteIn.objects.select_related("poll__author"), poll=poll, pk=write_in_id)
    decision = request.POST.get("decision")
    if decision not in {"accept", "reject"}:
        messages.error(request, _("Choose to accept or to reject the suggestion."))
        return redirect("poll-write-ins", ref=poll.slug)
    try:
        if decision == "accept":
            services.accept_write_in(write_in=write_in, actor=request.user)
            messages.success(request, f"“{write_in.text}” is now an option of this poll.")
        else:
            services.reject_write_in(write_in=write_in, actor=request.user)
            messages.success(request, f"“{write_in.text}” is rejected.")
    except errors.PollError as exc:
        messages.error(request, exc.message)
    return redirect("poll-write-ins", ref=poll.slug)


# --- Presenting and join codes ------------------------------------------------------------------------


# The presenter screen's buttons that change what the audience sees (polls.presenting.present's arguments).
PRESENTATION_ACTIONS = {
    "start": {"presenting": True},
    "reveal": {"presenting": True, "audience_results": Poll.AudienceResults.SHOWN},
    "hide": {"presenting": True, "audience_results": Poll.AudienceResults.HIDDEN},
    "follow-rule": {"presenting": True, "audience_results": Poll.AudienceResults.RULE},
    "end": {"presenting": False},
}
# And those that open or close voting (services.set_poll_active's `active`).
VOTING_ACTIONS = {"open": True, "close": False}


def _presentable_poll(request, ref) -> Poll:
    """A poll its managers may put on screen; to anyone else the screen does not exist (404, not 403)."""
    poll = _poll_or_404(ref)
    if not can_manage(request.user, poll):
        raise Http404
    return poll


def _take_presenter_action(request, poll: Poll) -> str | None:
    """One of the presenter screen's buttons on `poll`; returns why it was refused, if it was."""
    action = request.POST.get("action", "")
    try:
        if action in PRESENTATION_ACTIONS:
            presenting.present(poll=poll, actor=request.user, **PRESENTATION_ACTIONS[action])
        elif action in VOTING_ACTIONS:
            services.set_poll_active(poll=poll, actor=request.user, active=VOTING_ACTIONS[action])
        else:
            return _("That is not one of the presenter's buttons.")
    except errors.PollError as exc:
        return exc.message
    return None


def _audience_view(poll: Poll) -> dict:
    """What the audience is shown of the results now, in the presenter's words, and which way R turns it."""
    sees = presenting.audience_sees_results(poll)
    override = poll.audience_results if poll.is_presenting else Poll.AudienceResults.RULE
    if poll.is_secret and poll.is_open:
        label, detail = _("Hidden from the audience"), _("A secret ballot's results show once voting closes.")
    elif override == Poll.AudienceResults.SHOWN:
        label, detail = _("Audience sees results"), _("You revealed them.")
    elif override == Poll.AudienceResults.HIDDEN:
        label, detail = _("Hidden from the audience"), _("Only you see the results.")
    else:
        label, detail = _("Following the poll's rule"), RULE_WORDS[poll.results_visibility]
    return {"label": label, "detail": detail, "override": override, "toggle": "hide" if sees else "reveal"}


# How each results rule reads to a presenter deciding whether to reveal.
RULE_WORDS = {
    Poll.ResultsVisibility.ALWAYS: _("Everyone sees the results."),
    Poll.ResultsVisibility.AFTER_VOTE: _("Each voter sees the results once they have voted."),
    Poll.ResultsVisibility.AFTER_CLOSE: _("The results show when voting closes."),
    Poll.ResultsVisibility.OWNER_ONLY: _("Only you see the results."),
}


def _render_presenter(request, poll: Poll, *, deck=None, error: str | None = None):
    """The presenter screen of `poll`: its question and live results, the join code, address and QR code in
    large, and the host's controls. On a deck's screen the join code is the deck's, which follows the deck."""
    code = deck.join_code if deck is not None else poll.join_code
    join_path = reverse("join-code", kwargs={"code": code})
    join_url = request.build_absolute_uri(join_path)
    context = {
        # The presenter's own ballot is not the room's business: no "Your vote" on the screen.
        **results_context(request, poll, selectors.VoterState()),
        "presenting": poll.is_presenting,
        "can_manage": True,  # only managers reach this screen: an open-text poll's groups get their Hide buttons
        "audience": _audience_view(poll),
        "join_code": code,
        "join_address": request.get_host() + join_path,
        "join_qr": _qr_svg(join_url, "QR code of the join address", tile=True),
        "deck": deck,
        "presenter_error": error,
        # A Hide on the screen comes back to the screen.
        "back_to": request.path,
    }
    if deck is not None:
        items = list(deck.items.select_related("poll"))
        context["deck_polls"] = [item.poll for item in items]
        context["deck_number"] = deck.position + 1
    # A refused button shows its reason on the screen itself (in full screen, nothing outside it shows).
    return render(request, "polls/present.html", context, status=400 if error else 200)


@login_required
@require_http_methods(["GET", "POST"])
def present(request, ref):
    """/p/<slug>/present/: the poll on a projector, for its author and the moderators. Each button posts here
    and comes back (quickpoll.js "Presenter" posts the same forms from the keyboard, without leaving the page)."""
    poll = _presentable_poll(request, ref)
    if request.method == "POST":
        refusal = _take_presenter_action(request, poll)
        if refusal:
            return _render_presenter(request, poll, error=refusal)
        return redirect("poll-present", ref=poll.slug)
    return _render_presenter(request, poll)


def _presentable_deck(request, deck_id: str) -> Deck:
    if not CANONICAL_UUID.match(deck_id.lower()):
        raise Http404
    deck = get_object_or_404(Deck.objects.select_related("author"), pk=deck_id)
    try:
        require_deck_owner(deck, request.user)
    except errors.PollError:
        raise Http404 from None
    return deck


def _move_deck(request, deck: Deck, action: str) -> str | None:
    """Previous, Next, or a poll picked by its place (`position`, from 0): polls.decks.move tells the audience.
    Returns why the deck did not move, if it did not."""
    count = deck.items.count()
    if action == "goto":
        try:
            position = int(request.POST.get("position", ""))
        except ValueError:
            position = -1
    else:
        position = deck.position + (1 if action == "next" else -1)
    if position >= count:
        return _("This is the deck's last poll.")
    if position < 0:
        return _("There is no poll before this one.") if action == "previous" else _("Choose one of the deck's polls.")
    try:
        decks.move(deck=deck, actor=request.user, position=position)
    except errors.PollError as exc:
        return exc.message
    return None


DECK_MOVES = {"next", "previous", "goto"}


@login_required
@require_http_methods(["GET", "POST"])
def deck_present(request, deck_id):
    """/decks/<id>/present/: the presenter screen of the deck's current poll, with Previous and Next."""
    deck = _presentable_deck(request, deck_id)
    poll = deck.current_poll
    if poll is None:  # its polls were deleted since
        return render(request, "polls/present_empty_deck.html", {"deck": deck})
    if request.method == "POST":
        action = request.POST.get("action", "")
        refusal = _move_deck(request, deck, action) if action in DECK_MOVES else _take_presenter_action(request, poll)
        if refusal:
            return _render_presenter(request, poll, deck=deck, error=refusal)
        return redirect("deck-present", deck_id=deck.pk)
    return _render_presenter(request, poll, deck=deck)


def _join_missing(request, typed: str, *, status: int, wait: int | None = None):
    """The "Enter code" box on a page of its own: nothing typed yet, a code that names no poll, or (`wait`)
    too many such codes from this address lately."""
    code = join_codes.normalise(typed)
    context = {"typed": join_codes.display(code) if code else typed, "wait": wait}
    return render(request, "polls/join.html", context, status=status)


@require_GET
def join(request):
    """/j/?code=…: the home page's "Enter code" box. However it was typed (lower case, spaces, dashes),
    the code goes on to its short address; a blank box is the join page itself."""
    typed = request.GET.get("code", "").strip()[:40]
    if not typed:
        return _join_missing(request, "", status=200)
    code = join_codes.normalise(typed)
    if code is None:
        return _join_missing(request, typed, status=404)
    return redirect("join-code", code=code)


@require_GET
def join_code(request, code):
    """/j/<code>: a poll's code opens the poll; a deck's shows whichever poll the presenter is showing, and follows.
    Codes that name nothing are counted per address (quickpoll.ratelimits), so none is guessed."""
    try:
        refuse_join_guessing(request)
    except RateLimited as exc:
        return _join_missing(request, code[:40], status=429, wait=exc.retry_after)
    found = join_codes.find(code)
    if isinstance(found, Poll):
        return _back_to(found)
    if isinstance(found, Deck):
        return deck_audience(request, found)
    count_join_miss(request)
    return _join_missing(request, code[:40], status=404)


# --- Decks ---------------------------------------------------------------------------------------


def _deck_candidates(user, deck: Deck | None = None) -> list[Poll]:
    """The polls a deck's picker offers: the author's own, newest first, and any the deck already holds."""
    polls = Poll.objects.filter(author=user)
    if deck is not None:
        polls = polls | Poll.objects.filter(pk__in=deck.items.values("poll"))
    return list(polls.distinct().order_by("-created_at"))


def _deck_refused(form: DeckForm, exc: errors.PollError) -> None:
    """polls.decks' refusal beside the form's fields: the title's at the title, the rest at the polls picker."""
    form.add_service_errors(getattr(exc, "fields", None) or {None: [exc.message]})


@login_required
@require_http_methods(["GET", "POST"])
def deck_list(request):
    form = DeckForm(request.POST or None, candidates=_deck_candidates(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            deck = decks.create_deck(
                author=request.user, title=form.cleaned_data["title"], poll_ids=form.cleaned_data["poll_ids"]
            )
        except errors.PollError as exc:
            _deck_refused(form, exc)
        else:
            messages.success(request, _("Your deck is ready. Its join code is %(code)s.") % {"code": deck.join_code})
            return redirect("deck-list")
    context = {
        "form": form,
        "decks": Deck.objects.filter(author=request.user).annotate(poll_count=Count("items")).order_by("-created_at"),
    }
    return render(request, "polls/decks.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def deck_edit(request, deck_id):
    deck = _presentable_deck(request, deck_id)  # its author's or a moderator's, else 404
    chosen = [item.poll_id for item in deck.items.all()]
    form = DeckForm(
        request.POST or None, initial={"title": deck.title}, candidates=_deck_candidates(request.user, deck), chosen=chosen
    )
    if request.method == "POST" and form.is_valid():
        try:
            decks.update_deck(
                deck=deck, actor=request.user, title=form.cleaned_data["title"], poll_ids=form.cleaned_data["poll_ids"]
            )
        except errors.PollError as exc:
            _deck_refused(form, exc)
        else:
            messages.success(request, _("Deck saved."))
            return redirect("deck-edit", deck_id=deck.pk)
    return render(request, "polls/deck_edit.html", {"deck": deck, "form": form}, status=400 if form.errors else 200)


@login_required
@require_POST
def deck_delete(request, deck_id):
    deck = _presentable_deck(request, deck_id)  # its author's or a moderator's, else 404
    if not _asked_first(request):
        return _ask_first(
            request,
            deck,
            question=_("Delete this deck?"),
            consequence=_("Its join code stops working. The polls in it stay as they are, with their votes."),
            confirm=_("Delete the deck"),
            cancel=_("Keep it"),
            back=reverse("deck-edit", kwargs={"deck_id": deck.pk}),
            danger=True,
        )
    try:
        decks.delete_deck(deck=deck, actor=request.user)
    except errors.PollError as exc:
        messages.error(request, exc.message)
        return redirect("deck-edit", deck_id=deck.pk)
    messages.success(request, _("The deck is deleted."))
    return redirect("deck-list")


def deck_audience(request, deck):
    """A deck's audience page (/j/<code>): its current poll as the poll's own page shows it; the page script then
    follows the presenter over /ws/deck/<id>, swapping in each poll the deck moves to without a reload."""
    poll = deck.current_poll
    context = {"deck": deck, "deck_count": deck.items.count(), "back_to": request.path}
    if poll is None:
        return render(request, "polls/deck_waiting.html", context)
    poll = _poll_or_404(str(poll.pk))
    record_view(poll.pk)
    return render(request, "polls/deck_audience.html", _poll_context(request, poll) | context)


# --- Open text -----------------------------------------------------------------------------------


def _answers_context(
    request, poll: Poll, state: selectors.VoterState, held_invite: str, *, answer_text: str, answer_error: str
) -> dict:
    """An open-text poll's answer box: offered while the voter has answers left, their own answers, a refused
    answer kept beside its reason, and for managers the groups they hid (to show them again)."""
    if not poll.takes_answers:
        return {}
    answers_left = max(poll.answers_per_voter - len(state.my_answers), 0)
    context = {
        # As a ballot is offered until one is cast: here, until the last answer the poll takes is given.
        "can_answer": can_vote(request.user, poll, has_voted=not answers_left, invite=held_invite),
        "my_answers": state.my_answers,
        "answers_left": answers_left,
        "answer_text": answer_text,
        "answer_error": answer_error,
    }
    if can_manage(request.user, poll):
        context["hidden_answer_groups"] = (
            Answer.objects.filter(poll=poll, hidden=True)
            .values("key")
            .annotate(count=Count("pk"), text=Min("text"))
            .order_by("-count", "key")[:100]
        )
    return context


# An answer refused for what it says: the page comes back with the text in the box beside the reason.
ANSWER_REFUSALS = {"answer_empty", "answer_too_long", "answer_not_allowed", "too_many_answers"}


@require_POST
def answer(request, ref):
    poll = _poll_or_404(ref)
    text = request.POST.get("answer", "")[:1000]

    def submit():
        voter = invites.presenting(voter_from_request(request), invites.held_for(request, poll))
        spend_voter_budget(request, voter)
        answers.submit_answer(poll=poll, voter=voter, text=text, challenge=request.POST.get(bot_defence.FIELD, ""))

    def refused_answer(exc):
        if exc.code in ANSWER_REFUSALS:
            return _render_poll(request, poll, answer_text=text, answer_error=exc.message, status=400)
        return None

    return _act(request, poll, submit, _("Your answer is in."), on_refusal=refused_answer)


@require_POST
def take_back_answer(request, ref, answer_id):
    poll = _poll_or_404(ref)
    given = get_object_or_404(Answer, poll=poll, pk=answer_id)
    voter = _known_voter(request)
    actor = request.user if request.user.is_authenticated else None
    take_back = functools.partial(answers.take_back, answer=given, voter=voter, actor=actor)
    return _act(request, poll, take_back, _("Your answer is taken back."))


@require_POST
def hide_answers(request, ref):
    poll = _poll_or_404(ref)
    if not request.user.is_authenticated:
        return _login_first(request, poll)
    key = request.POST.get("key", "")
    hidden = request.POST.get("hidden", "1") != "0"

    def hide():
        count = answers.hide(poll=poll, actor=request.user, key=key, hidden=hidden)
        word = f"{count} answer{'s' if count != 1 else ''}"
        messages.success(request, f"{word} hidden from every screen." if hidden else f"{word} shown again.")

    return _act(request, poll, hide)


# --- Embeds and link previews ----------------------------------------------------------------------


def _framed(view):
    """An embed view (/embed/<ref>): its page may be framed by the poll's sites (polls.embeds.frame_ancestors), and
    it is the same wherever it is shown. Its voter is always anonymous, known only by the X-Anon-Id header the
    page's script sends: a framed page gets no cookies, and a post that read them could be forged from any site,
    so none is read (which is also why its vote post needs no CSRF token)."""

    @functools.wraps(view)
    def framed(request, ref):
        request.user = AnonymousUser()
        request.COOKIES = {}
        request.anon_id_by_header_only = True  # polls.voters.AnonymousIdMiddleware: no cookie for the issued id
        poll = _poll_or_404(ref)
        response = view(request, poll)
        response._csp_replace = {"frame-ancestors": embeds.frame_ancestors(poll)}
        patch_vary_headers(response, ["X-Anon-Id"])
        return response

    return xframe_options_exempt(csrf_exempt(framed))


def _render_embed(request, poll: Poll, *, voter=None, status: int = 200, notice: str = "", error: str = "", **refused):
    context = _poll_context(request, poll, voter=voter, **refused)
    context |= {
        "voting": context["can_vote"],  # a framed voter changes a ballot on the poll's own page, signed in
        "embed_notice": notice,
        "embed_error": error,
        "poll_url": request.build_absolute_uri(reverse("poll-detail", kwargs={"ref": poll.slug})),
        # The embedding site may match its own theme (?theme=dark); otherwise the reader's system decides.
        "theme": request.GET.get("theme") if request.GET.get("theme") in EMBED_THEMES else "",
    }
    return render(request, "polls/embed.html", context, status=status)


EMBED_THEMES = {"light", "dark"}


@require_GET
@_framed
def embed(request, poll):
    if "X-Anon-Id" not in request.headers:  # the page's script asks again for its voter: one view, not two
        record_view(poll.pk)
    return _render_embed(request, poll)


EMBED_CHALLENGE_MESSAGE = _(
    "This poll asks your browser to solve a small puzzle before your vote counts. With JavaScript on it does so "
    "by itself above the Vote button: pick again and vote."
)


@require_POST
@_framed
def embed_vote(request, poll):
    """A ballot (or an open-text answer) from the embed: the same services as the poll's page, answered with the
    embed as this voter now sees it. Its script sends the form and swaps the answer in; without script the browser
    shows it (the voter then stays unknown to the next page: there is no cookie to keep them)."""
    marks = BallotMarks.from_form(poll, request.POST)
    text = request.POST.get("answer", "")[:1000]
    challenge = request.POST.get(bot_defence.FIELD, "")
    try:
        voter = voter_from_request(request)
        spend_voter_budget(request, voter)
        if poll.takes_answers:
            answers.submit_answer(poll=poll, voter=voter, text=text, challenge=challenge)
            said = gettext("Your answer is in.")
        else:
            ballot = services.cast_vote(poll=poll, voter=voter, **marks.ballot(poll), challenge=challenge)
            said = (
                gettext("Your secret ballot is in. Your receipt: %(receipt)s. Note it now, it is shown only this once.")
                % {"receipt": ballot.receipt}
                if ballot.receipt
                else gettext("Your vote is in.")
            )
    except errors.ChallengeRequired:
        return _render_embed(request, poll, picked=marks, error=EMBED_CHALLENGE_MESSAGE, status=428)
    except errors.PollError as exc:
        if isinstance(exc, BALLOT_REFUSALS):
            return _render_embed(request, poll, picked=marks, vote_error=exc.message, status=400)
        if exc.code in ANSWER_REFUSALS:
            return _render_embed(request, poll, answer_text=text, answer_error=exc.message, status=400)
        return _render_embed(request, poll, error=exc.message, status=exc.status)
    except RateLimited as exc:
        return _render_embed(request, poll, error=gettext("That was a lot of clicks. Try again in %(seconds)s seconds.") % {"seconds": exc.retry_after}, status=429)
    return _render_embed(request, poll, voter=voter, notice=said)


@require_GET
def preview_image(request, ref):
    """The link preview's picture (OpenGraph, Twitter): the question and its bars, as anyone without a vote sees them."""
    poll = _poll_or_404(ref)
    image = previews.preview_png(poll)
    if request.headers.get("If-None-Match") == image.etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(image.png, content_type="image/png")
    response["ETag"] = image.etag
    response["Cache-Control"] = f"public, max-age={previews.MAX_AGE}"
    return response
