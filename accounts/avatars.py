"""The one check every avatar upload passes, from the API and the settings page alike."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat


def check_avatar(avatar) -> None:
    """`avatar` has been opened by an ImageField, so its content_type is what Pillow found in it,
    not what the file name or the browser claimed; a renamed HTML file never gets this far."""
    if avatar.size > settings.MAX_FILE_SIZE:
        raise ValidationError(f"Avatars are at most {filesizeformat(settings.MAX_FILE_SIZE)}.")
    if getattr(avatar, "content_type", None) not in settings.ALLOWED_FILE_TYPES:
        raise ValidationError(f"Avatars must be one of: {', '.join(settings.ALLOWED_FILE_TYPES)}.")
