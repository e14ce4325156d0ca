import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone

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
        raise forms.ValidationError("Use true or false.", code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class PollFilter(django_filters.FilterSet):
    author = django_filters.UUIDFilter(field_name="author_id")
    active = StrictBooleanFilter(field_name="is_active")
    multiple = StrictBooleanFilter(field_name="allow_multiple", label="Multiple-choice")
    expired = StrictBooleanFilter(method="filter_expired")

    class Meta:
        model = Poll
        fields = ["author", "active", "multiple", "expired"]

    def filter_expired(self, queryset, name, value):
        expired = Q(expires_at__lte=timezone.now())
        return queryset.filter(expired) if value else queryset.exclude(expired)
