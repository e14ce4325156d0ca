"""The one check every avatar upload passes, from the API and the settings page alike."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext
from PIL import Image


MAX_SIDE = 4096  # pixels: a small file may still claim a huge picture that stalls browsers


def check_avatar(avatar) -> None:
    """`avatar` has been opened by an ImageField, so its content_type is what Pillow found in it,
    not what the file name or the browser claimed; a renamed HTML file never gets this far."""
    if avatar.size > settings.MAX_FILE_SIZE:
        raise ValidationError(gettext("Avatars are at most %(size)s.") % {"size": filesizeformat(settings.MAX_FILE_SIZE)})
    if getattr(avatar, "content_type", None) not in settings.ALLOWED_FILE_TYPES:
        raise ValidationError(gettext("Avatars must be one of: %(types)s.") % {"types": ", ".join(settings.ALLOWED_FILE_TYPES)})
    # ImageField only verifies the header; decoding every pixel catches a truncated or corrupt file.
    avatar.seek(0)
    try:
        with Image.open(avatar) as image:
            if max(image.size) > MAX_SIDE:
                raise ValidationError(gettext("Avatars are at most %(side)d × %(side)d pixels.") % {"side": MAX_SIDE})
            image.load()
    except (OSError, SyntaxError, Image.DecompressionBombError):
        raise ValidationError(gettext("This image is damaged or incomplete.")) from None
    finally:
        avatar.seek(0)
