"""The webhooks section of a user's data download (accounts.personal_data): endpoints, never their secrets."""

from accounts.models import User
from webhooks.models import Endpoint


def webhook_endpoints(user: User) -> list[dict]:
    return [
        {
            "id": endpoint.pk,
            "url": endpoint.url,
            "description": endpoint.description,
            "events": endpoint.events,
            "poll_id": endpoint.poll_id,
            "is_active": endpoint.is_active,
            "created_at": endpoint.created_at,
        }
        for endpoint in Endpoint.objects.filter(owner=user)
    ]
