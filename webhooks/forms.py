"""HTML forms for webhook endpoints: shape only; webhooks.services decides what is allowed."""

from django import forms
from django.utils.translation import gettext_lazy as _

from polls.models import Poll
from polls.permissions import is_moderator
from quickpoll.forms import ServiceErrorsMixin
from webhooks.models import MODERATOR_EVENTS, SUBSCRIBABLE, Event


class EndpointForm(ServiceErrorsMixin, forms.Form):
    url = forms.URLField(
        label=_("URL"), max_length=500, assume_scheme="https",
        help_text=_("Where QuickPoll sends a signed POST for each event. It must be reachable from the internet."),
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/quickpoll-hook"}),
    )
    description = forms.CharField(label=_("Description"), max_length=120, required=False)
    events = forms.MultipleChoiceField(label=_("Events"), widget=forms.CheckboxSelectMultiple)
    poll = forms.ModelChoiceField(
        label=_("Poll"), queryset=Poll.objects.none(), required=False, empty_label=_("All my polls"),
    )
    milestone_every = forms.IntegerField(
        label=_("Milestone every"), min_value=1, max_value=1_000_000, initial=100,
        help_text=_("vote.milestone is sent each time a poll's ballots reach a multiple of this number."),
    )
    results_interval = forms.IntegerField(
        label=_("Results at most every (seconds)"), min_value=10, max_value=86_400, initial=60,
        help_text=_("results.changed is sent at most once per this many seconds per poll, with the latest results."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(Event.choices)
        self.fields["events"].choices = [
            (event, f"{event} · {labels[event]}")
            for event in SUBSCRIBABLE
            if event not in MODERATOR_EVENTS or is_moderator(user)
        ]
        self.fields["poll"].queryset = Poll.objects.filter(author=user).order_by("-created_at")
