"""The settings page's "Webhooks" section, drawn by webhooks (accounts, a layer below, only loads the tag)."""

from django import template

from webhooks.models import Endpoint

register = template.Library()


@register.inclusion_tag("webhooks/settings_section.html")
def webhooks_section(user):
    return {"endpoints": list(Endpoint.objects.filter(owner=user).select_related("poll"))}
