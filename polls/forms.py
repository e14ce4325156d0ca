"""HTML forms for polls. They check shape; the rules (and their messages) come from polls.services."""

import re

from django import forms

from polls.models import MAX_OPTIONS, MIN_OPTIONS, Poll, Report
from quickpoll.forms import ServiceErrorsMixin


class OptionListWidget(forms.Widget):
    """One text input per option, all named "options"; blank ones are ignored.

    Without JavaScript the form shows a few spare inputs; with it, options can be
    added, removed and reordered (static/js/quickpoll.js).
    """

    template_name = "polls/widgets/option_list.html"
    spare_inputs = 2
    inputs_for_a_new_poll = 4

    def value_from_datadict(self, data, files, name):
        return data.getlist(name) if hasattr(data, "getlist") else data.get(name)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        values = list(value or [])
        count = min(MAX_OPTIONS, max(self.inputs_for_a_new_poll, len(values) + self.spare_inputs))
        context["widget"]["options"] = values + [""] * (count - len(values))
        context["widget"]["max_options"] = MAX_OPTIONS
        return context


class OptionListField(forms.Field):
    widget = OptionListWidget

    def to_python(self, value):
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        return [text.strip() for text in value if text and text.strip()]


class MinuteDateTimeField(forms.DateTimeField):
    """The browser's datetime-local input has minutes, not seconds: compare at that precision,
    so sending an untouched form back never "changes" a closing time set to the second."""

    def has_changed(self, initial, data):
        def minute(value):
            return value.replace(second=0, microsecond=0) if value else None

        try:
            return minute(initial) != minute(self.to_python(data))
        except forms.ValidationError:
            return True


class PollForm(ServiceErrorsMixin, forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    options = OptionListField(help_text=f"Between {MIN_OPTIONS} and {MAX_OPTIONS} different options.")
    allow_multiple = forms.BooleanField(required=False, label="Voters may pick several options")
    max_choices = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_OPTIONS,
        label="At most this many picks",
        help_text="For multiple choice; leave empty for no limit.",
    )
    expires_at = MinuteDateTimeField(
        required=False,
        label="Closes at (UTC)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Leave empty to keep the poll open until you close it.",
    )
    is_public = forms.BooleanField(
        required=False, initial=True, label="List it publicly", help_text="Unlisted polls open by link only."
    )
    allow_anonymous = forms.BooleanField(required=False, initial=True, label="Visitors without an account may vote")
    invite_only = forms.BooleanField(
        required=False,
        label="Invite-only",
        help_text="Only people holding one of your invite links may vote (you make them on the poll's invites page).",
    )
    results_visibility = forms.ChoiceField(
        choices=Poll.ResultsVisibility.choices, initial=Poll.ResultsVisibility.ALWAYS, label="Show results"
    )
    is_secret = forms.BooleanField(
        required=False,
        label="Secret ballot",
        help_text="No one, you included, can tell who chose what. Voters get a receipt and cannot change "
        "their vote; results show only once the poll closes. Fixed once someone has voted.",
    )
    bot_protection = forms.ChoiceField(
        choices=Poll.BotProtection.choices,
        initial=Poll.BotProtection.ADAPTIVE,
        required=False,
        label="Ask anonymous voters' browsers for a proof of work",
        help_text="Keeps scripts from stuffing the ballot box; accounts are never asked.",
    )

    def __init__(
        self, *args, options_locked: bool = False, editable: frozenset[str] | None = None, locked_note: str = "", **kwargs
    ):
        super().__init__(*args, **kwargs)
        if editable is not None:
            # What this editor may not change (polls.permissions.editable_fields) is shown, not offered.
            for name, field in self.fields.items():
                if name not in editable:
                    field.disabled = True
                    field.help_text = locked_note
        if options_locked:
            # The service refuses option changes once votes exist; the form says so up front.
            self.fields["options"].disabled = True
            self.fields["options"].help_text = "Options are fixed once the poll has votes."
            self.fields["allow_multiple"].disabled = True
            self.fields["is_secret"].disabled = True

    def clean_bot_protection(self) -> str:
        # Left out of a post (a script, an older form): the poll keeps its setting, a new one the default.
        return self.cleaned_data["bot_protection"] or self.initial.get("bot_protection") or Poll.BotProtection.ADAPTIVE

    @classmethod
    def initial_for(cls, poll: Poll) -> dict:
        return {
            "title": poll.title,
            "description": poll.description,
            "options": [option.text for option in poll.options.all()],
            "allow_multiple": poll.allow_multiple,
            "max_choices": poll.max_choices,
            "expires_at": poll.expires_at,
            "is_public": poll.is_public,
            "allow_anonymous": poll.allow_anonymous,
            "invite_only": poll.invite_only,
            "results_visibility": poll.results_visibility,
            "is_secret": poll.is_secret,
            "bot_protection": poll.bot_protection,
        }



class ReportForm(forms.Form):
    # Radios with none ticked: a report names its reason on purpose, never by default.
    reason = forms.ChoiceField(
        choices=Report.Reason.choices,
        widget=forms.RadioSelect,
        label="What is wrong with this poll?",
        error_messages={
            "required": "Choose a reason for the report.",
            "invalid_choice": "Choose a reason for the report.",
        },
    )
    note = forms.CharField(
        max_length=1000,
        required=False,
        label="Details for the moderators (optional)",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": "Keep the note under %(limit_value)d characters."},
    )


class InvitesForm(ServiceErrorsMixin, forms.Form):
    """Make invite links: a number of them, or one per e-mail address (one address a line)."""

    count = forms.IntegerField(
        required=False, min_value=1, label="How many invite links", help_text="Leave empty when you give addresses below."
    )
    emails = forms.CharField(
        required=False,
        max_length=150_000,  # 500 addresses of the longest kind, with room for separators
        widget=forms.Textarea(attrs={"rows": 5}),
        label="Or e-mail addresses",
        help_text="One a line (commas and semicolons also separate them); each gets its own link by mail.",
    )
    label = forms.CharField(
        required=False, max_length=100, label="Label", help_text="For your own list, e.g. the group's name."
    )

    def clean_count(self):
        return self.cleaned_data["count"] or 0

    def clean_emails(self):
        return [address for address in re.split(r"[\s,;]+", self.cleaned_data["emails"]) if address]
