from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from accounts.admin import ReadOnlyAdmin
from polls import answers, errors, services
from polls.models import Answer, Ballot, Deck, DeckItem, Like, Option, Poll, Report, SealedBallot, VoidedBallot, Vote, WriteIn
from polls.permissions import editable_fields, is_moderator
from quickpoll.forms import ServiceErrorsMixin


class ExpiredFilter(admin.SimpleListFilter):
    title = "expired"
    parameter_name = "expired"

    def lookups(self, request, model_admin):
        return [("yes", "Expired"), ("no", "Not expired")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.expired()
        if self.value() == "no":
            return queryset.unexpired()
        return queryset


class VoterKindFilter(admin.SimpleListFilter):
    """Anonymous visitors versus account holders, for ballots, votes and likes alike."""

    title = "voter"
    parameter_name = "voter"
    user_field = "user"

    def lookups(self, request, model_admin):
        return [("account", "Account"), ("anonymous", "Anonymous")]

    def queryset(self, request, queryset):
        if self.value() in {"account", "anonymous"}:
            return queryset.filter(**{f"{self.user_field}__isnull": self.value() == "anonymous"})
        return queryset


class VoteVoterKindFilter(VoterKindFilter):
    user_field = "ballot__user"


class HeldFilter(admin.SimpleListFilter):
    title = "moderation hold"
    parameter_name = "held"

    def lookups(self, request, model_admin):
        return [("yes", "On hold"), ("no", "Not on hold")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.held()
        if self.value() == "no":
            return queryset.exclude(pk__in=queryset.held())
        return queryset


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=1000, widget=forms.Textarea(attrs={"rows": 3}), help_text="The author reads it.")


class VoidBallotsForm(ServiceErrorsMixin, forms.Form):
    network = forms.CharField(max_length=64, required=False, help_text="An address or a range, e.g. 203.0.113.0/24.")
    since = forms.DateTimeField(required=False, help_text="Cast at or after (UTC, YYYY-MM-DD HH:MM).")
    until = forms.DateTimeField(required=False, help_text="Cast before (UTC).")
    reason = forms.CharField(max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def criteria(self) -> dict:
        return {name: self.cleaned_data[name] or None for name in ("network", "since", "until")}


def apply_each(model_admin: admin.ModelAdmin, request, rows, act, label=str) -> int:
    """A bulk action's service call on each row: a refusal is named in a message and the rest still go.
    Returns how many went through."""
    done = 0
    for row in rows:
        try:
            act(row)
            done += 1
        except errors.PollError as exc:
            model_admin.message_user(request, f"{label(row)}: {exc.message}", messages.ERROR)
    return done


@admin.display(description="vote count")
def sealed_vote_count(option):
    # A count watched moving beside the new participation rows would tell who chose what.
    if option.poll.is_secret and option.poll.is_open:
        return "sealed until the poll closes"
    return option.vote_count


class OptionInline(admin.TabularInline):
    """Options are shown, not edited: changing them under existing votes would change what people voted for."""

    model = Option
    extra = 0
    fields = ["position", "text", sealed_vote_count]
    readonly_fields = fields
    ordering = ["position"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Poll)
class PollAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "author",
        "is_active",
        "is_public",
        "method",
        "total_votes",
        "likes_count",
        "expires_at",
        "created_at",
    ]
    list_filter = [
        "is_active",
        "is_public",
        ExpiredFilter,
        "method",
        "allow_anonymous",
        "invite_only",
        "results_visibility",
        "is_secret",
        "bot_protection",
    ]
    search_fields = ["title", "description", "author__username", "author__email", "=join_code"]
    list_select_related = ["author"]
    fields = [
        "title",
        "description",
        "is_active",
        "is_public",
        "author",
        "slug",
        "join_code",
        "presenting_since",
        "audience_results",
        "method",
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
        "total_votes",
        "likes_count",
        "views_count",
        "created_at",
        "updated_at",
        "moderation",
    ]
    date_hierarchy = "created_at"
    inlines = [OptionInline]
    actions = ["activate", "deactivate", "hold", "lift_hold"]

    def get_list_filter(self, request):
        return [HeldFilter, *self.list_filter]

    def get_readonly_fields(self, request, obj=None):
        # The one rule (polls.permissions.editable_fields) that the API and the edit page follow too.
        allowed = editable_fields(request.user, obj) if obj is not None else frozenset()
        return [field for field in self.fields if field not in allowed]

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<uuid:poll_id>/void-ballots/", view(self.void_ballots_view), name="polls_poll_void_ballots"),
            *super().get_urls(),
        ]

    @admin.display(description="moderation")
    def moderation(self, poll):
        void_link = reverse("admin:polls_poll_void_ballots", args=[poll.pk])
        if poll.is_held:
            held = format_html(
                "On hold since {} by {}: {}. ", poll.held_at, poll.held_by or "a former moderator", poll.hold_reason
            )
        else:
            held = "Not on hold. "
        return format_html('{}<a href="{}">Void ballots…</a>', held, void_link)

    def delete_model(self, request, obj):
        services.delete_poll(poll=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for poll in queryset:
            services.delete_poll(poll=poll, actor=request.user)

    def save_model(self, request, obj, form, change):
        try:
            if "is_active" in form.changed_data:
                services.set_poll_active(poll=obj, actor=request.user, active=form.cleaned_data["is_active"])
            edits = {field: form.cleaned_data[field] for field in form.changed_data if field != "is_active"}
            if edits:
                services.update_poll(poll=obj, actor=request.user, **edits)
        except errors.PollError as exc:
            self.message_user(request, f"{obj}: {exc.message}", messages.ERROR)

    def _set_active(self, request, queryset, active: bool):
        changed = apply_each(
            self, request, queryset, lambda poll: services.set_poll_active(poll=poll, actor=request.user, active=active)
        )
        self.message_user(request, f"{'Activated' if active else 'Deactivated'} {changed} poll(s).")

    @admin.action(description="Activate selected polls", permissions=["change"])
    def activate(self, request, queryset):
        self._set_active(request, queryset, True)

    @admin.action(description="Deactivate selected polls", permissions=["change"])
    def deactivate(self, request, queryset):
        self._set_active(request, queryset, False)

    @admin.action(description="Put selected polls on hold (closed and unlisted until lifted)", permissions=["change"])
    def hold(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            held = apply_each(
                self, request, queryset, lambda poll: services.hold_poll(poll=poll, moderator=request.user, reason=reason)
            )
            self.message_user(request, f"Put {held} poll(s) on hold.")
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Put polls on hold",
            "opts": self.model._meta,
            "polls": queryset,
            "form": form,
            "action": "hold",
        }
        return TemplateResponse(request, "admin/polls/poll/hold.html", context)

    @admin.action(description="Lift the hold on selected polls", permissions=["change"])
    def lift_hold(self, request, queryset):
        lifted = 0
        for poll in queryset.held():
            services.lift_hold(poll=poll, moderator=request.user)
            lifted += 1
        self.message_user(request, f"Lifted the hold on {lifted} poll(s); they stay closed and unlisted until reopened.")

    def void_ballots_view(self, request, poll_id):
        """Void a cluster of ballots: the form previews how many match, a second button voids them."""
        poll = get_object_or_404(Poll, pk=poll_id)
        if not (is_moderator(request.user) and self.has_change_permission(request, poll)):
            raise PermissionDenied
        form = VoidBallotsForm(request.POST or None)
        preview = None
        if request.method == "POST" and form.is_valid():
            try:
                if "void" in request.POST:
                    count = services.void_ballots(
                        poll=poll, moderator=request.user, reason=form.cleaned_data["reason"], **form.criteria()
                    )
                    self.message_user(request, f"Voided {count} ballot(s) on “{poll}”; the counts are updated.")
                    return redirect("admin:polls_poll_change", poll.pk)
                preview = services.count_suspicious_ballots(poll=poll, moderator=request.user, **form.criteria())
            except errors.InvalidPoll as exc:
                form.add_service_errors(exc.fields)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Void ballots on “{poll}”",
            "opts": self.model._meta,
            "original": poll,
            "poll": poll,
            "form": form,
            "preview": preview,
        }
        return TemplateResponse(request, "admin/polls/poll/void_ballots.html", context)


class CountedDeletionAdmin(admin.ModelAdmin):
    """Deletion from the admin goes through the service, so counters stay right."""

    def remove(self, queryset, moderator) -> int:
        raise NotImplementedError("Name the service that deletes these rows, moves the counters and logs who did it.")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        self.remove(self.model.objects.filter(pk=obj.pk), request.user)

    def delete_queryset(self, request, queryset):
        self.remove(queryset, request.user)


@admin.register(Option)
class OptionAdmin(CountedDeletionAdmin):
    list_display = ["text", "poll", "position", sealed_vote_count]
    fields = ["text", "poll", "position", sealed_vote_count]
    readonly_fields = [sealed_vote_count]
    search_fields = ["text", "poll__title"]
    list_select_related = ["poll"]

    def remove(self, queryset, moderator):
        return services.remove_options(options=queryset, moderator=moderator)


@admin.register(Vote)
class VoteAdmin(CountedDeletionAdmin):
    # rank: a ranked ballot's place for this option (1 = first preference); score: a score ballot's rating.
    list_display = ["option", "poll", "voter", "rank", "score", "ip_address", "created_at"]
    list_filter = [VoteVoterKindFilter, "poll__method", "created_at"]
    search_fields = ["poll__title", "option__text", "ballot__user__username", "ballot__user__email", "ballot__anon_id"]
    list_select_related = ["poll", "option", "ballot__user"]
    date_hierarchy = "created_at"

    def remove(self, queryset, moderator):
        return services.retract_votes(votes=queryset, moderator=moderator)

    @admin.display(description="voter")
    def voter(self, vote):
        return vote.ballot.voter_label

    @admin.display(description="IP address")
    def ip_address(self, vote):
        return vote.ballot.ip_address


@admin.register(Ballot)
class BallotAdmin(CountedDeletionAdmin):
    list_display = ["poll", "voter_label", "ip_address", "user_agent", "created_at"]
    list_filter = [VoterKindFilter, "created_at"]
    search_fields = ["poll__title", "user__username", "user__email", "anon_id", "ip_address"]
    list_select_related = ["poll", "user"]
    date_hierarchy = "created_at"

    def remove(self, queryset, moderator):
        return services.retract_votes(votes=Vote.objects.filter(ballot__in=queryset), moderator=moderator)


@admin.register(SealedBallot)
class SealedBallotAdmin(ReadOnlyAdmin):
    """A closed secret poll's ballots as anyone may list them: receipt and options, nothing of who or when.

    Read only: a sealed ballot is counted; nothing links it to a voter who could take it back."""

    list_display = ["receipt", "poll", "options"]
    search_fields = ["receipt", "poll__title"]
    list_select_related = ["poll"]
    fields = ["receipt", "poll", "options"]
    readonly_fields = fields

    def get_queryset(self, request):
        # An open secret poll's ballots are its results as they move: sealed until it closes, as on the site.
        return super().get_queryset(request).filter(poll__in=Poll.objects.closed())

    @admin.display(description="options")
    def options(self, sealed):
        texts = dict(Option.objects.filter(pk__in=sealed.option_ids).values_list("pk", "text"))
        return ", ".join(texts[pk] for pk in sorted(texts, key=str)) or "-"


@admin.register(Like)
class LikeAdmin(CountedDeletionAdmin):
    list_display = ["poll", "user", "anon_id", "ip_address", "created_at"]
    list_filter = [VoterKindFilter, "created_at"]
    search_fields = ["poll__title", "user__username", "user__email", "anon_id"]
    list_select_related = ["poll", "user"]
    date_hierarchy = "created_at"

    def remove(self, queryset, moderator):
        return services.remove_likes(likes=queryset, moderator=moderator)


@admin.register(VoidedBallot)
class VoidedBallotAdmin(ReadOnlyAdmin):
    """Who a moderator voided, so they stay out of the poll: a record, never edited here."""

    list_display = ["poll", "voter_label", "ip_address", "cast_at", "created_at", "voided_by"]
    list_filter = [VoterKindFilter, "created_at"]
    search_fields = ["poll__title", "user__username", "anon_id", "ip_address"]
    list_select_related = ["poll", "user", "voided_by"]


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["poll", "reason", "reporter", "status", "created_at", "handled_by"]
    list_filter = ["status", "reason", "created_at"]
    search_fields = ["poll__title", "reporter__username", "reporter__email", "note"]
    list_select_related = ["poll", "reporter", "handled_by"]
    # Status moves only through the actions, which record who handled the report.
    readonly_fields = ["poll", "reporter", "reason", "note", "status", "created_at", "handled_at", "handled_by"]
    actions = ["resolve", "dismiss"]

    def has_add_permission(self, request):
        return False

    def _handle(self, request, queryset, status):
        count = services.handle_reports(reports=queryset, moderator=request.user, status=status)
        self.message_user(request, f"Marked {count} open report(s) {status}.")

    @admin.action(description="Resolve selected reports", permissions=["change"])
    def resolve(self, request, queryset):
        self._handle(request, queryset, Report.Status.RESOLVED)

    @admin.action(description="Dismiss selected reports", permissions=["change"])
    def dismiss(self, request, queryset):
        self._handle(request, queryset, Report.Status.DISMISSED)


@admin.register(WriteIn)
class WriteInAdmin(admin.ModelAdmin):
    """Suggested options beside the reports: moderators accept or reject what waits, through the services."""

    list_display = ["text", "poll", "suggester", "status", "created_at", "handled_by"]
    list_filter = ["status", "created_at"]
    search_fields = ["text", "poll__title", "suggested_by__username", "anon_id"]
    list_select_related = ["poll", "suggested_by", "handled_by"]
    # Status moves only through the actions, which add the option and record who decided.
    readonly_fields = ["poll", "text", "suggester", "status", "option", "created_at", "handled_at", "handled_by"]
    fields = readonly_fields
    actions = ["accept", "reject"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="suggested by")
    def suggester(self, write_in):
        return write_in.suggester_label

    def _decide(self, request, queryset, decide, done: str):
        count = apply_each(
            self,
            request,
            queryset.filter(status=WriteIn.Status.PENDING).select_related("poll__author"),
            lambda write_in: decide(write_in=write_in, actor=request.user),
            label=lambda write_in: f"“{write_in.text}” on {write_in.poll}",
        )
        self.message_user(request, f"{done} {count} suggestion(s); those decided before keep their outcome.")

    @admin.action(description="Accept selected suggestions (each becomes its poll's last option)", permissions=["change"])
    def accept(self, request, queryset):
        self._decide(request, queryset, services.accept_write_in, "Accepted")

    @admin.action(description="Reject selected suggestions", permissions=["change"])
    def reject(self, request, queryset):
        self._decide(request, queryset, services.reject_write_in, "Rejected")


@admin.register(Answer)
class AnswerAdmin(CountedDeletionAdmin):
    """Open-text answers: moderators hide a group from every screen, or delete answers, through polls.answers."""

    list_display = ["text", "poll", "voter_label", "hidden", "ip_address", "created_at"]
    list_filter = ["hidden", VoterKindFilter, "created_at"]
    search_fields = ["text", "key", "poll__title", "user__username", "anon_id", "ip_address"]
    list_select_related = ["poll", "user"]
    readonly_fields = ["poll", "text", "key", "voter_label", "hidden", "ip_address", "created_at"]
    fields = readonly_fields
    actions = ["hide", "show"]

    def remove(self, queryset, moderator) -> int:
        return answers.remove_answers(queryset, moderator=moderator)

    def has_change_permission(self, request, obj=None):
        return request.user.is_staff  # viewing and the hide/show actions; the fields stay read-only

    def _hide(self, request, queryset, hidden: bool):
        groups = set(queryset.values_list("poll_id", "key"))
        count = apply_each(
            self,
            request,
            Poll.objects.filter(pk__in={poll_id for poll_id, _ in groups}).select_related("author"),
            lambda poll: sum(
                answers.hide(poll=poll, actor=request.user, key=key, hidden=hidden)
                for poll_id, key in groups
                if poll_id == poll.pk
            ),
            label=str,
        )
        self.message_user(request, f"{'Hid' if hidden else 'Showed'} the answers of {len(groups)} group(s) on {count} poll(s).")

    @admin.action(description="Hide the selected answers' groups from every screen", permissions=["change"])
    def hide(self, request, queryset):
        self._hide(request, queryset, True)

    @admin.action(description="Show the selected answers' groups again", permissions=["change"])
    def show(self, request, queryset):
        self._hide(request, queryset, False)


class DeckItemInline(admin.TabularInline):
    model = DeckItem
    fields = ["position", "poll"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Deck)
class DeckAdmin(admin.ModelAdmin):
    list_display = ["title", "author", "join_code", "position", "created_at"]
    search_fields = ["title", "=join_code", "author__username"]
    list_select_related = ["author"]
    # Shown and deleted here; its author arranges it on the decks page.
    readonly_fields = ["title", "author", "join_code", "position", "created_at", "updated_at"]
    fields = readonly_fields
    inlines = [DeckItemInline]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False
