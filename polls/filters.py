"""The one filter of poll lists: the browse page (/polls/) and the API's list (/api/polls) read the same parameters."""

import django_filters
from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.translation import gettext_lazy as _
from rest_framework.filters import OrderingFilter

from polls import selectors
from polls.models import Poll

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


class StrictBooleanField(forms.Field):
    """true/false (or 1/0, yes/no); anything else is a 400, never silently "no filter"."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise forms.ValidationError(_("Use true or false."), code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class SearchWordsField(forms.CharField):
    """Words to search for. A NUL character is no error here: selectors.search_polls takes it out."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = [check for check in self.validators if not isinstance(check, ProhibitNullCharactersValidator)]


class SearchWordsFilter(django_filters.CharFilter):
    field_class = SearchWordsField


class PollFilter(django_filters.FilterSet):
    """Invalid values are form errors: the API answers 400 invalid, the page shows them beside the form."""

    q = SearchWordsFilter(method="filter_search", max_length=200, label="Words in the title, description or options")
    status = django_filters.ChoiceFilter(
        choices=[("open", "Open"), ("closed", "Closed")], method="filter_status", label="Open (taking votes) or closed"
    )
    author = django_filters.UUIDFilter(field_name="author_id")
    active = StrictBooleanFilter(field_name="is_active", label="Not closed by hand (an expired poll may still be active)")
    method = django_filters.ChoiceFilter(choices=Poll.Method.choices, label="How voters vote")
    multiple = StrictBooleanFilter(method="filter_multiple", label="Multiple-choice (approval)")
    expired = StrictBooleanFilter(method="filter_expired", label="Past its closing time")

    class Meta:
        model = Poll
        fields = ["q", "status", "author", "active", "method", "multiple", "expired"]

    def filter_search(self, queryset, name, value):
        return selectors.search_polls(value, within=queryset)

    def filter_status(self, queryset, name, value):
        return queryset.open() if value == "open" else queryset.closed()

    def filter_expired(self, queryset, name, value):
        return queryset.expired() if value else queryset.unexpired()

    def filter_multiple(self, queryset, name, value):
        approval = Poll.Method.APPROVAL
        return queryset.filter(method=approval) if value else queryset.exclude(method=approval)


class PollOrdering(OrderingFilter):
    """?ordering=total_votes sorts by the totals anyone may see (public_total_votes): a poll whose results are
    hidden sorts as if it had no votes, for every viewer, so its place in the list never tells its total."""

    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view)
        return [
            term.replace("total_votes", "public_total_votes") if term.lstrip("-") == "total_votes" else term
            for term in ordering or []
        ] or ordering
