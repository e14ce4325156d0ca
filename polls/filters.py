import django_filters
from django.db.models import Q
from django.utils import timezone

from polls.models import Poll


class PollFilter(django_filters.FilterSet):
    author = django_filters.UUIDFilter(field_name="author_id")
    active = django_filters.BooleanFilter(field_name="is_active")
    multiple = django_filters.BooleanFilter(field_name="allow_multiple", label="Multiple-choice")
    expired = django_filters.BooleanFilter(method="filter_expired")

    class Meta:
        model = Poll
        fields = ["author", "active", "multiple", "expired"]

    def filter_expired(self, queryset, name, value):
        expired = Q(expires_at__lte=timezone.now())
        return queryset.filter(expired) if value else queryset.exclude(expired)
