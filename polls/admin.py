from django.contrib import admin, messages

from polls import errors, services
from polls.models import Ballot, Like, Option, Poll, Report, Vote


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


class OptionInline(admin.TabularInline):
    """Options are shown, not edited: changing them under existing votes would change what people voted for."""

    model = Option
    extra = 0
    fields = ["position", "text", "vote_count"]
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
        "allow_multiple",
        "total_votes",
        "likes_count",
        "expires_at",
        "created_at",
    ]
    list_filter = [
        "is_active",
        "is_public",
        ExpiredFilter,
        "allow_multiple",
        "allow_anonymous",
        "results_visibility",
        "bot_protection",
    ]
    search_fields = ["title", "description", "author__username", "author__email"]
    list_select_related = ["author"]
    fields = [
        "title",
        "description",
        "is_active",
        "is_public",
        "author",
        "slug",
        "allow_multiple",
        "max_choices",
        "allow_anonymous",
        "results_visibility",
        "bot_protection",
        "expires_at",
        "total_votes",
        "likes_count",
        "views_count",
        "created_at",
        "updated_at",
    ]
    # Moderators fix a title, unlist or close a poll; the rest belongs to its author.
    readonly_fields = [field for field in fields if field not in {"title", "description", "is_active", "is_public"}]
    date_hierarchy = "created_at"
    inlines = [OptionInline]
    actions = ["activate", "deactivate"]

    def has_add_permission(self, request):
        return False

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
        changed = 0
        for poll in queryset:
            try:
                services.set_poll_active(poll=poll, actor=request.user, active=active)
                changed += 1
            except errors.PollError as exc:
                self.message_user(request, f"{poll}: {exc.message}", messages.ERROR)
        self.message_user(request, f"{'Activated' if active else 'Deactivated'} {changed} poll(s).")

    @admin.action(description="Activate selected polls", permissions=["change"])
    def activate(self, request, queryset):
        self._set_active(request, queryset, True)

    @admin.action(description="Deactivate selected polls", permissions=["change"])
    def deactivate(self, request, queryset):
        self._set_active(request, queryset, False)


class CountedDeletionAdmin(admin.ModelAdmin):
    """Deletion from the admin goes through the service, so counters stay right."""

    def remove(self, queryset) -> int:
        raise NotImplementedError("Name the service that deletes these rows and moves the counters.")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        self.remove(self.model.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        self.remove(queryset)


@admin.register(Option)
class OptionAdmin(CountedDeletionAdmin):
    list_display = ["text", "poll", "position", "vote_count"]
    search_fields = ["text", "poll__title"]
    list_select_related = ["poll"]

    def remove(self, queryset):
        return services.remove_options(options=queryset)


@admin.register(Vote)
class VoteAdmin(CountedDeletionAdmin):
    list_display = ["option", "poll", "voter", "ip_address", "created_at"]
    list_filter = [VoteVoterKindFilter, "created_at"]
    search_fields = ["poll__title", "option__text", "ballot__user__username", "ballot__user__email", "ballot__anon_id"]
    list_select_related = ["poll", "option", "ballot__user"]
    date_hierarchy = "created_at"

    def remove(self, queryset):
        return services.retract_votes(votes=queryset)

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

    def remove(self, queryset):
        return services.retract_votes(votes=Vote.objects.filter(ballot__in=queryset))


@admin.register(Like)
class LikeAdmin(CountedDeletionAdmin):
    list_display = ["poll", "user", "anon_id", "ip_address", "created_at"]
    list_filter = [VoterKindFilter, "created_at"]
    search_fields = ["poll__title", "user__username", "user__email", "anon_id"]
    list_select_related = ["poll", "user"]
    date_hierarchy = "created_at"

    def remove(self, queryset):
        return services.remove_likes(likes=queryset)


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
