"""Avatar uploads, through the API (PATCH /api/users/me, multipart) and the settings page alike: what the file
really is decides, never its name or the type the browser claims; and no upload ends in a 500."""

import io
import random
import struct
import zlib
from pathlib import Path

import pytest
from django.test import Client
from PIL import Image

from accounts.models import User
from quickpoll.tests.pages import field_errors
from tests.security.conftest import bearer_client

pytestmark = pytest.mark.django_db

BOUNDARY = "----quickpoll-upload-boundary"


def image_bytes(image_format: str, size=(16, 16), **options) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color=(30, 120, 200)).save(buffer, format=image_format, **options)
    return buffer.getvalue()


def photo_bytes(image_format: str) -> bytes:
    """A 128 × 128 image of noise: big enough that cutting it in half leaves its headers whole."""
    noise = random.Random(7).randbytes(128 * 128 * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (128, 128), noise).save(buffer, format=image_format)
    return buffer.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A few hundred bytes whose header claims width × height pixels (a decompression bomb's calling card)."""
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + png_chunk(b"IEND", b"")


PNG, JPEG, GIF = image_bytes("PNG"), image_bytes("JPEG", quality=90), image_bytes("GIF")
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><script>alert(1)</script><rect width="8" height="8"/></svg>'
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> bytes:
    """A multipart body written by hand, so file names and claimed types reach the server exactly as given."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    for name, (filename, content, content_type) in files.items():
        disposition = f'Content-Disposition: form-data; name="{name}"; filename="{filename}"'
        head = f"--{BOUNDARY}\r\n{disposition}\r\nContent-Type: {content_type}\r\n\r\n"
        parts.append(head.encode() + content + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def upload_by_api(user, filename: str, content: bytes, content_type: str):
    body = multipart({}, {"avatar": (filename, content, content_type)})
    return bearer_client(user).generic(
        "PATCH", "/api/users/me", body, content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )


def upload_by_page(user, filename: str, content: bytes, content_type: str):
    client = Client()
    client.force_login(user)
    fields = {"profile-email": user.email, "profile-display_name": user.display_name, "profile-bio": user.bio}
    body = multipart(fields, {"profile-avatar": (filename, content, content_type)})
    return client.generic(
        "POST", "/accounts/settings/", body, content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )


UPLOADERS = {"api": upload_by_api, "page": upload_by_page}


def accepted(way: str, response) -> bool:
    if way == "api":
        return response.status_code == 200
    return response.status_code == 302 and response["Location"] == "/accounts/settings/"


def refused(way: str, response) -> bool:
    """Refused the way each side refuses: the API's error shape naming `avatar`, the page's error beside the field."""
    if way == "api":
        body = response.json() if response["Content-Type"].startswith("application/json") else {}
        return response.status_code == 400 and body.get("code") == "invalid" and set(body.get("fields", {})) == {"avatar"}
    return response.status_code == 400 and bool(field_errors(response, "profile-avatar"))


def stored_avatar(user, media_root: Path) -> Path | None:
    user = User.objects.get(pk=user.pk)
    if not user.avatar:
        return None
    path = (media_root / user.avatar.name).resolve()
    assert path.is_relative_to(media_root.resolve()) and path.is_file(), path
    return path


# --- Accepted: real images of the allowed types -------------------------------------------------------------


GOOD = {
    "png": ("me.png", PNG, "image/png", "PNG"),
    "jpeg": ("me.jpg", JPEG, "image/jpeg", "JPEG"),
    "gif": ("me.gif", GIF, "image/gif", "GIF"),
    # Named and labelled as something else, but really a PNG, which is allowed: the content decides.
    "png_named_gif": ("me.gif", PNG, "image/gif", "PNG"),
    "jpeg_named_png_sent_as_octets": ("me.png", JPEG, "application/octet-stream", "JPEG"),
    # The browser's directory part of a name never leaves the upload folder.
    "png_with_a_path": ("../../../../tmp/escape.png", PNG, "image/png", "PNG"),
}


@pytest.mark.parametrize("way", UPLOADERS)
@pytest.mark.parametrize("case", GOOD)
def test_a_real_image_of_an_allowed_type_becomes_the_avatar(owner, media_root, way, case):
    filename, content, content_type, real_format = GOOD[case]

    response = UPLOADERS[way](owner, filename, content, content_type)

    assert accepted(way, response), response.content[:500]
    path = stored_avatar(owner, media_root)
    assert path is not None and path.read_bytes() == content
    assert path.relative_to(media_root.resolve()).parts[0] == "avatars"
    with Image.open(path) as image:
        assert image.format == real_format


# --- Refused: anything else, and never with a 500 -----------------------------------------------------------


def corrupted_png() -> bytes:
    damaged = bytearray(PNG)
    start = PNG.index(b"IDAT") + 8
    damaged[start : start + 8] = b"\xff" * 8  # the pixel data no longer matches its checksum
    return bytes(damaged)


BAD = {
    "html_named_png": ("me.png", HTML, "image/png"),
    "svg": ("me.svg", SVG, "image/svg+xml"),
    "svg_named_png": ("me.png", SVG, "image/png"),
    "png_named_svg": ("me.svg", PNG, "image/svg+xml"),
    "png_named_html": ("me.html", PNG + HTML, "text/html"),
    "bmp": ("me.bmp", image_bytes("BMP"), "image/bmp"),
    "tiff": ("me.tiff", image_bytes("TIFF"), "image/tiff"),
    "webp": ("me.webp", image_bytes("WEBP"), "image/webp"),
    "empty": ("me.png", b"", "image/png"),
    "random_bytes": ("me.jpg", bytes(range(256)) * 8, "image/jpeg"),
    "png_cut_in_half": ("me.png", photo_bytes("PNG")[: len(photo_bytes("PNG")) // 2], "image/png"),
    "png_header_only": ("me.png", PNG[:33], "image/png"),
    "png_bad_checksum": ("me.png", corrupted_png(), "image/png"),
    "decompression_bomb": ("me.png", png_claiming(60_000, 60_000), "image/png"),
}

# Django's forms.ImageField (used by DRF's ImageField too) only calls Image.verify(), which does not decode
# JPEG or GIF pixel data: "load() could spot a truncated JPEG, but it loads the entire image in memory".
TRUNCATED = {
    "jpeg_cut_in_half": ("me.jpg", photo_bytes("JPEG")[: len(photo_bytes("JPEG")) // 2], "image/jpeg"),
    "gif_cut_in_half": ("me.gif", photo_bytes("GIF")[: len(photo_bytes("GIF")) // 2], "image/gif"),
}


@pytest.mark.parametrize("way", UPLOADERS)
@pytest.mark.parametrize("case", BAD)
def test_anything_but_a_whole_image_of_an_allowed_type_is_refused(owner, media_root, way, case):
    filename, content, content_type = BAD[case]

    response = UPLOADERS[way](owner, filename, content, content_type)

    assert response.status_code != 500
    assert refused(way, response), (response.status_code, response.content[:500])
    assert stored_avatar(owner, media_root) is None
    assert list(media_root.rglob("*.*")) == []


@pytest.mark.parametrize("way", UPLOADERS)
@pytest.mark.parametrize("case", TRUNCATED)
def test_a_truncated_jpeg_or_gif_is_refused(owner, media_root, way, case):
    filename, content, content_type = TRUNCATED[case]

    response = UPLOADERS[way](owner, filename, content, content_type)

    assert response.status_code != 500
    assert refused(way, response), (response.status_code, response.content[:500])
    assert stored_avatar(owner, media_root) is None


@pytest.mark.parametrize("way", UPLOADERS)
def test_a_name_too_long_for_the_avatar_column_is_refused_or_shortened_never_a_500(owner, media_root, way):
    response = UPLOADERS[way](owner, "a" * 240 + ".png", PNG, "image/png")

    assert response.status_code != 500
    if refused(way, response):
        assert stored_avatar(owner, media_root) is None
    else:
        assert accepted(way, response)
        name = User.objects.get(pk=owner.pk).avatar.name
        assert len(name) <= User._meta.get_field("avatar").max_length and name.endswith(".png")


@pytest.mark.parametrize("way", UPLOADERS)
@pytest.mark.parametrize("limit", ["lowered", "default"])
def test_a_file_over_max_file_size_is_refused(owner, media_root, settings, way, limit):
    if limit == "lowered":
        settings.MAX_FILE_SIZE = len(PNG) - 1
        content = PNG
    else:
        # A valid PNG padded past the default limit with bytes after its end, which Pillow ignores.
        assert settings.MAX_FILE_SIZE == 5 * 1024 * 1024
        content = PNG + b"\x00" * (settings.MAX_FILE_SIZE + 1 - len(PNG))

    response = UPLOADERS[way](owner, "big.png", content, "image/png")

    assert refused(way, response), (response.status_code, response.content[:500])
    assert stored_avatar(owner, media_root) is None


@pytest.mark.parametrize("way", UPLOADERS)
def test_a_file_of_exactly_max_file_size_is_accepted(owner, media_root, settings, way):
    settings.MAX_FILE_SIZE = len(PNG)

    assert accepted(way, UPLOADERS[way](owner, "me.png", PNG, "image/png"))


@pytest.mark.parametrize("way", UPLOADERS)
def test_a_refused_upload_keeps_the_avatar_there_was(owner, media_root, way):
    assert accepted(way, UPLOADERS[way](owner, "me.png", PNG, "image/png"))
    before = stored_avatar(owner, media_root)

    assert refused(way, UPLOADERS[way](owner, "me.png", HTML, "image/png"))

    assert stored_avatar(owner, media_root) == before
