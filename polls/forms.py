"""HTML forms for polls. They check shape; the rules (and their messages) come from polls.services."""

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from django import forms
from django.forms.utils import ErrorDict
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy

from polls import errors
from polls.models import MAX_OPTIONS, MIN_OPTIONS, Option, Poll, Report
from polls.selectors import VoterState
from polls.services import option_key, option_problems, repeated_options
from quickpoll.forms import ServiceErrorsMixin
from quickpoll.time_zones import account_zone_active, known_zone, zone_name

MAX_OPTION_LENGTH = Option._meta.get_field("text").max_length


class OptionListWidget(forms.Widget):
    """One text input per option, all named "options"; blank ones are ignored.

    Without JavaScript the form shows four inputs (or one per option of the poll, or what
    was typed) and an "Add an option" button that posts the form back with one more; with it,
    options are added, removed and reordered in place (static/js/quickpoll.js). Once the
    options are fixed they show as text, not as inputs.
    """

    template_name = "polls/widgets/option_list.html"
    inputs_for_a_new_poll = 4

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.extra_input = False  # the "Add an option" button was pressed
        self.locked_reason = ""

    def value_from_datadict(self, data, files, name):
        return data.getlist(name) if hasattr(data, "getlist") else data.get(name)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        values = [value] if isinstance(value, str) else list(value or [])
        widget = context["widget"]
        widget["max_options"] = MAX_OPTIONS
        if widget["attrs"].get("disabled"):
            widget["locked"] = [text for text in values if text]
            widget["locked_reason"] = self.locked_reason
            return context
        count = max(self.inputs_for_a_new_poll, len(values))
        if self.extra_input and count < MAX_OPTIONS:
            count += 1
        values += [""] * (count - len(values))
        # A field with errors is marked aria-invalid by Django; only the inputs at fault say so themselves.
        faulty = set()
        if widget["attrs"].get("aria-invalid"):
            faulty = {option_key(text) for text in repeated_options(values)}
        widget["rows"] = [
            {"value": text, "invalid": option_key(text) in faulty or len(text.strip()) > MAX_OPTION_LENGTH}
            for text in values
        ]
        widget["full"] = count >= MAX_OPTIONS
        return context


class OptionListField(forms.Field):
    widget = OptionListWidget

    def to_python(self, value):
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        return [text.strip() for text in value if text and text.strip()]


class LocalDateTimeField(forms.DateTimeField):
    """A datetime-local input read in a named zone: the browser's, sent along by the page's script, else UTC.

    The browser's input has minutes, not seconds: values compare at that precision, so sending
    an untouched form back never "changes" a closing time set to the second.
    """

    zone: tzinfo = UTC

    def prepare_value(self, value):
        with timezone.override(self.zone):
            return super().prepare_value(value)

    def to_python(self, value):
        try:
            with timezone.override(self.zone):
                return super().to_python(value)
        except forms.ValidationError as error:
            if error.code != "ambiguous_timezone":
                raise
            with timezone.override(UTC):
                naive = super().to_python(value).replace(tzinfo=None)
            raise forms.ValidationError(self._not_one_moment(naive), code="ambiguous_timezone") from None

    def _not_one_moment(self, naive: datetime) -> str:
        shown = f"{naive:%H:%M} on {naive.day} {naive:%b %Y}"
        earlier = naive.replace(tzinfo=self.zone, fold=0)
        if earlier.astimezone(UTC).astimezone(self.zone).replace(tzinfo=None) != naive:
            return f"{shown} does not exist in {zone_name(self.zone)}: the clocks go forward then. Pick another time."
        return f"{shown} happens twice in {zone_name(self.zone)}: the clocks go back then. Pick a time outside that hour."

    def has_changed(self, initial, data):
        def minute(value):
            return value.replace(second=0, microsecond=0) if value else None

        try:
            return minute(initial) != minute(self.to_python(data))
        except forms.ValidationError:
            return True


class OriginListField(forms.CharField):
    """Sites typed one per line (or apart by spaces), as a list; polls.embeds checks each one."""

    widget = forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocapitalize": "off"})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, (list, tuple)) else value

    def to_python(self, value) -> list[str]:
        return (super().to_python(value) or "").split()

    def has_changed(self, initial, data) -> bool:
        return list(initial or []) != self.to_python(data)


class PollForm(ServiceErrorsMixin, forms.Form):
    title = forms.CharField(max_length=200, label=gettext_lazy("Title"))
    description = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}), label=gettext_lazy("Description")
    )
    # Not required by the field: an open-text poll has none (clean() checks them for the other methods).
    options = OptionListField(
        required=False, help_text=format_lazy(
            gettext_lazy("Between {low} and {high} different options. Open-text polls have none."), low=MIN_OPTIONS, high=MAX_OPTIONS
        )
    )
    method = forms.ChoiceField(
        choices=Poll.Method.choices,
        initial=Poll.Method.SINGLE,
        required=False,
        widget=forms.RadioSelect,
        label=gettext_lazy("How people vote"),
    )
    min_choices = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_OPTIONS,
        initial=1,
        label=gettext_lazy("At least this many"),
        help_text=gettext_lazy("Options each voter picks, ranks or rates."),
    )
    max_choices = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_OPTIONS,
        label=gettext_lazy("At most this many"),
        help_text=gettext_lazy("Leave empty for no limit."),
    )
    score_min = forms.TypedChoiceField(
        choices=[(0, "0"), (1, "1")], coerce=int, initial=0, required=False, label=gettext_lazy("Lowest score")
    )
    score_max = forms.IntegerField(required=False, min_value=2, max_value=10, initial=5, label=gettext_lazy("Highest score"))
    allow_write_ins = forms.BooleanField(
        required=False, label=gettext_lazy("Voters may add options"), help_text=gettext_lazy("Not in secret polls. Up to the limit of options.")
    )
    write_ins_need_approval = forms.BooleanField(
        required=False, initial=True, label=gettext_lazy("Added options wait for my approval")
    )
    answer_max_length = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=200,
        initial=60,
        label=gettext_lazy("Longest answer"),
        help_text=gettext_lazy("In characters, up to 200. A few words group best in the word cloud."),
    )
    answers_per_voter = forms.IntegerField(
        required=False, min_value=1, max_value=10, initial=1, label=gettext_lazy("Answers per voter"), help_text=gettext_lazy("From 1 to 10.")
    )
    filter_profanity = forms.BooleanField(
        required=False,
        initial=True,
        label=gettext_lazy("Refuse answers with swear words"),
        help_text=gettext_lazy("Checked against the site's word list before an answer counts."),
    )
    expires_at = LocalDateTimeField(
        required=False,
        label=gettext_lazy("Closes at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    # The zone the closing time is written in: the page's script puts the browser's here, else it stays UTC.
    timezone = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    is_public = forms.BooleanField(
        required=False, initial=True, label=gettext_lazy("List it publicly"), help_text=gettext_lazy("Unlisted polls open by link only.")
    )
    allow_anonymous = forms.BooleanField(required=False, initial=True, label=gettext_lazy("Visitors without an account may vote"))
    invite_only = forms.BooleanField(
        required=False,
        label=gettext_lazy("Invite-only"),
        help_text=gettext_lazy("Only people holding one of your invite links may vote (you make them on the poll's invites page)."),
    )
    results_visibility = forms.ChoiceField(
        choices=Poll.ResultsVisibility.choices, initial=Poll.ResultsVisibility.ALWAYS, label=gettext_lazy("Show results")
    )
    is_secret = forms.BooleanField(
        required=False,
        label=gettext_lazy("Secret ballot"),
        help_text=gettext_lazy(
            "No one, you included, can tell who chose what. Voters get a receipt and cannot change "
            "their vote; results show only once the poll closes. Fixed once someone has voted."
        ),
    )
    bot_protection = forms.ChoiceField(
        choices=Poll.BotProtection.choices,
        initial=Poll.BotProtection.ADAPTIVE,
        required=False,
        label=gettext_lazy("Ask anonymous voters' browsers for a proof of work"),
        help_text=gettext_lazy("Keeps scripts from stuffing the ballot box; accounts are never asked."),
    )

    embed_origins = OriginListField(
        required=False,
        label=gettext_lazy("Sites that may embed this poll"),
        help_text=gettext_lazy("One per line, e.g. https://blog.example.org (https://*.example.org for its subdomains). Leave empty to let any site embed it."),
    )

    def __init__(
        self, *args, options_locked: bool = False, editable: frozenset[str] | None = None, locked_note: str = "", **kwargs
    ):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.adding_option = False
        self._read_time_zone()
        if editable is not None:
            # What this editor may not change (polls.permissions.editable_fields) is shown, not offered.
            for name, field in self.fields.items():
                if name not in editable:
                    field.disabled = True
                    field.help_text = locked_note
        if options_locked:
            # The service refuses option changes once votes exist; the form says so up front.
            self.fields["options"].disabled = True
            self.fields["options"].help_text = ""
            self.fields["options"].widget.locked_reason = gettext_lazy("This poll has votes, so its options stay as they are.")
            for name in ("method", "score_min", "score_max", "is_secret"):
                self.fields[name].disabled = True

    def _read_time_zone(self) -> None:
        field = self.fields["expires_at"]
        sent = self.data.get("timezone", "") if self.is_bound else ""
        # Unsent: the account's zone if it chose one (quickpoll.time_zones), else UTC.
        zone = known_zone(sent) if sent else timezone.get_current_timezone()
        self.unknown_zone = "" if zone else sent
        if zone is None:
            # Shown again in UTC, as the error says; what was typed stays in the box.
            self.data = self.data.copy()
            self.data["timezone"] = "UTC"
            zone = UTC
        field.zone = zone
        self.initial["timezone"] = zone_name(zone)
        # A page first shown writes the closing time in UTC; the script moves it to the browser's zone.
        unset = not self.is_bound and not account_zone_active()
        self.fields["timezone"].widget.attrs["data-local-zone"] = "unset" if unset else zone_name(zone)
        # The page script finds the first sentence by its words ("In UTC.") to name the browser's zone instead.
        where = gettext("In UTC.") if zone is UTC else gettext("In %(zone)s.") % {"zone": zone_name(zone)}
        field.help_text = gettext("%(where)s Leave empty to keep the poll open until you close it.") % {"where": where}

    def add_option_input(self) -> None:
        """The "Add an option" button without JavaScript: the form comes back as typed, with one more
        empty input and no errors (nothing was sent for saving yet)."""
        self.fields["options"].widget.extra_input = True
        self.adding_option = True

    def full_clean(self):
        if self.adding_option:
            self._errors, self.cleaned_data = ErrorDict(), {}
            return
        super().full_clean()

    def clean(self):
        cleaned = super().clean()
        if self.unknown_zone and self.data.get("expires_at"):
            self.add_error(
                "expires_at",
                gettext(
                    "Your browser sent a time zone QuickPoll does not know (“%(zone)s”). "
                    "The closing time now reads as UTC: check it and send the form again."
                )
                % {"zone": self.unknown_zone[:64]},
            )
        cleaned.pop("timezone", None)  # it only says how to read expires_at
        if cleaned.get("method") == Poll.Method.TEXT:
            # An open-text poll takes answers, not options: the rows left on the page (blank or not) are not sent.
            cleaned["options"] = []
            for name in self.CHOICE_FIELDS:
                cleaned.pop(name, None)
        else:
            for name in self.TEXT_FIELDS:
                cleaned.pop(name, None)
            # The service's own check, early: so its errors show together with the other fields'.
            problems = option_problems(cleaned.get("options", []))
            if problems and "options" in cleaned and not self.fields["options"].disabled:
                self.add_error("options", problems)
        return cleaned

    def clean_method(self) -> str:
        return self.cleaned_data["method"] or self.initial.get("method") or Poll.Method.SINGLE

    # What only ballots of options use, and what only open-text polls use: each left out for the other kind.
    CHOICE_FIELDS = ("min_choices", "max_choices", "score_min", "score_max", "allow_write_ins", "write_ins_need_approval")
    TEXT_FIELDS = ("answer_max_length", "answers_per_voter", "filter_profanity")

    def clean_answer_max_length(self) -> int:
        return self.cleaned_data["answer_max_length"] or self.initial.get("answer_max_length") or 60

    def clean_answers_per_voter(self) -> int:
        return self.cleaned_data["answers_per_voter"] or self.initial.get("answers_per_voter") or 1

    def clean_min_choices(self) -> int:
        return self.cleaned_data["min_choices"] or 1

    def clean_score_min(self) -> int:
        return self.initial.get("score_min", 0) if self.cleaned_data["score_min"] in (None, "") else self.cleaned_data["score_min"]

    def clean_score_max(self) -> int:
        return self.cleaned_data["score_max"] or self.initial.get("score_max") or 5

    def clean_bot_protection(self) -> str:
        # Left out of a post (a script, an older form): the poll keeps its setting, a new one the default.
        return self.cleaned_data["bot_protection"] or self.initial.get("bot_protection") or Poll.BotProtection.ADAPTIVE

    @classmethod
    def initial_for(cls, poll: Poll) -> dict:
        return {
            "title": poll.title,
            "description": poll.description,
            "options": [option.text for option in poll.options.all()],
            "method": poll.method,
            "min_choices": poll.min_choices,
            "max_choices": poll.max_choices,
            "score_min": poll.score_min,
            "score_max": poll.score_max,
            "allow_write_ins": poll.allow_write_ins,
            "write_ins_need_approval": poll.write_ins_need_approval,
            "expires_at": poll.expires_at,
            "is_public": poll.is_public,
            "allow_anonymous": poll.allow_anonymous,
            "invite_only": poll.invite_only,
            "results_visibility": poll.results_visibility,
            "is_secret": poll.is_secret,
            "bot_protection": poll.bot_protection,
            "answer_max_length": poll.answer_max_length,
            "answers_per_voter": poll.answers_per_voter,
            "filter_profanity": poll.filter_profanity,
            "embed_origins": poll.embed_origins,
        }



@dataclass(frozen=True)
class BallotMarks:
    """What a ballot form marked: ticked options (single, approval), a rank per option (ranked: the
    `rank-<id>` selects the page script fills from its sortable list) or a score per option (score: the
    `score-<id>` star radios). The page shows them again when a ballot is refused or changed."""

    option_ids: list[str] = field(default_factory=list)
    ranks: dict[str, int] = field(default_factory=dict)
    scores: dict[str, int] = field(default_factory=dict)
    unreadable: str = ""  # a rank or score that is no number: refused with the others' marks kept

    @classmethod
    def from_form(cls, poll: Poll, data) -> "BallotMarks":
        if poll.method not in {Poll.Method.RANKED, Poll.Method.SCORE}:
            return cls(option_ids=data.getlist("option"))
        prefix = "rank" if poll.method == Poll.Method.RANKED else "score"
        marks, unreadable = {}, ""
        for option in poll.options.all():
            value = data.get(f"{prefix}-{option.pk}", "").strip()
            if value.isdigit() and len(value) <= 3:
                marks[str(option.pk)] = int(value)
            elif value:
                unreadable = f"“{value}” is no {prefix}: choose one from the list."
        if prefix == "rank":
            return cls(ranks=marks, unreadable=unreadable)
        return cls(scores=marks, unreadable=unreadable)

    @classmethod
    def of(cls, state: VoterState) -> "BallotMarks":
        """The marks of the voter's ballot as it stands."""
        return cls(
            option_ids=list(state.my_votes),
            ranks={option_id: place for place, option_id in enumerate(state.my_votes, start=1)},
            scores=dict(state.my_scores),
        )

    def ballot(self, poll: Poll) -> dict:
        """The arguments of services.cast_vote; raises what is wrong with the form itself."""
        if self.unreadable:
            raise errors.InvalidOption(self.unreadable)
        if poll.method == Poll.Method.SCORE:
            return {"scores": self.scores}
        if poll.method != Poll.Method.RANKED:
            return {"option_ids": self.option_ids}
        places = sorted(self.ranks.values())
        if len(set(places)) != len(places):
            shared = next(place for place in places if places.count(place) > 1)
            raise errors.DuplicateOption(
                gettext("Two options are ranked %(place)s: give each option its own place.") % {"place": shared}
            )
        return {"option_ids": sorted(self.ranks, key=self.ranks.get)}


class ReportForm(forms.Form):
    # Radios with none ticked: a report names its reason on purpose, never by default.
    reason = forms.ChoiceField(
        choices=Report.Reason.choices,
        widget=forms.RadioSelect,
        label=gettext_lazy("What is wrong with this poll?"),
        error_messages={
            "required": gettext_lazy("Choose a reason for the report."),
            "invalid_choice": gettext_lazy("Choose a reason for the report."),
        },
    )
    note = forms.CharField(
        max_length=1000,
        required=False,
        label=gettext_lazy("Details for the moderators (optional)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": gettext_lazy("Keep the note under %(limit_value)d characters.")},
    )


class InvitesForm(ServiceErrorsMixin, forms.Form):
    """Make invite links: a number of them, or one per e-mail address (one address a line)."""

    count = forms.IntegerField(
        required=False, min_value=1, label=gettext_lazy("How many invite links"), help_text=gettext_lazy("Leave empty when you give addresses below.")
    )
    emails = forms.CharField(
        required=False,
        max_length=150_000,  # 500 addresses of the longest kind, with room for separators
        widget=forms.Textarea(attrs={"rows": 5}),
        label=gettext_lazy("Or e-mail addresses"),
        help_text=gettext_lazy("One a line (commas and semicolons also separate them); each gets its own link by mail."),
    )
    label = forms.CharField(
        required=False, max_length=100, label=gettext_lazy("Label"), help_text=gettext_lazy("For your own list, e.g. the group's name.")
    )

    def clean_count(self):
        return self.cleaned_data["count"] or 0

    def clean_emails(self):
        return [address for address in re.split(r"[\s,;]+", self.cleaned_data["emails"]) if address]


class DeckForm(ServiceErrorsMixin, forms.Form):
    """A deck's title and its polls in order (polls.decks checks that they are the author's, and how many).

    Each poll the author could add is a row: a box to include it and a position number, so the order can
    be set without JavaScript (the page's script adds Move up and Move down and rewrites the numbers).
    Ticked polls without a number go last, in the list's order.
    """

    title = forms.CharField(max_length=200, label=gettext_lazy("Title"))

    def __init__(self, *args, candidates: list[Poll], chosen: list | tuple = (), **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.candidates = candidates
        self.chosen = [str(pk) for pk in chosen]

    def _picked(self) -> list[str]:
        return [pk for pk in self.data.getlist("polls") if pk] if self.is_bound else self.chosen

    def _position(self, pk: str) -> str:
        if self.is_bound:
            return self.data.get(f"position-{pk}", "").strip()
        return str(self.chosen.index(pk) + 1) if pk in self.chosen else ""

    def rows(self) -> list[dict]:
        """The picker as the page shows it: the deck's polls first, in order, then the author's other polls."""
        picked = self._picked()
        order = self._ordered(picked, strict=False)
        by_id = {str(poll.pk): poll for poll in self.candidates}
        first = [by_id[pk] for pk in order if pk in by_id]
        rest = [poll for poll in self.candidates if str(poll.pk) not in order]
        return [
            {"poll": poll, "picked": str(poll.pk) in picked, "position": self._position(str(poll.pk))}
            for poll in first + rest
        ]

    def _ordered(self, picked: list[str], *, strict: bool) -> list[str]:
        """The picked ids by their position numbers; unnumbered (or, unless strict, unreadable) ones last."""
        numbered, unnumbered = [], []
        for index, pk in enumerate(picked):
            position = self._position(pk)
            if position.isdigit() and len(position) <= 3:
                numbered.append((int(position), index, pk))
            elif position and strict:
                raise forms.ValidationError(
                    f"“{position[:10]}” is no position: give each poll a number, 1 for the first."
                )
            else:
                unnumbered.append(pk)
        return [pk for _, _, pk in sorted(numbered)] + unnumbered

    def clean(self):
        cleaned = super().clean()
        picked = list(dict.fromkeys(self._picked()))  # a repeated id counts once
        for pk in picked:
            try:
                uuid.UUID(pk)
            except ValueError:
                raise forms.ValidationError(gettext_lazy("Choose polls from the list.")) from None
        cleaned["poll_ids"] = self._ordered(picked, strict=True)
        return cleaned

