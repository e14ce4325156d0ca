"""Requests QuickPoll sends to addresses its users typed: the SSRF guard and the one way to POST.

A URL is refused when its host resolves to an address inside the server's own networks (loopback,
private, link-local, the cloud metadata service, multicast, reserved), unless WEBHOOKS_ALLOW_PRIVATE.
The connection then goes to the very address that was checked (pinned), so a name cannot resolve
to a public address for the check and a private one for the request. Redirects are never followed
(http.client does not), each request has a short timeout and at most RESPONSE_LIMIT bytes are read.
"""

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext_lazy as _

# Enough for an error message; a receiver's answer is logged, never kept whole.
RESPONSE_LIMIT = 64 * 1024
USER_AGENT = "QuickPoll-Webhooks/1"
# Named on top of is_global: the metadata service lives at a link-local address most clouds share.
METADATA_ADDRESSES = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


class UnsafeUrl(Exception):
    """The URL may not be called: its message says why, for the endpoint's owner."""


class Unresolvable(UnsafeUrl):
    """The host name does not resolve (now): the worker tries again later."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    duration_ms: int


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast and address not in METADATA_ADDRESSES


def check_url(url: str) -> None:
    """Refuse what is not an http(s) URL with a host; the address check itself waits for resolve()."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise UnsafeUrl(_("Use an http:// or https:// URL with a host name."))
    if parts.username or parts.password:
        raise UnsafeUrl(_("Leave user names and passwords out of the URL; the signature proves who sends."))
    try:
        parts.port
    except ValueError:
        raise UnsafeUrl(_("The URL's port is not a number between 0 and 65535.")) from None


def resolve(url: str) -> str:
    """The address to connect to for `url`, refused (UnsafeUrl) if any address of its host is not public."""
    check_url(url)
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Unresolvable(_("The URL's host name does not resolve.")) from None
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in found]
    if not settings.WEBHOOKS_ALLOW_PRIVATE and not all(_is_public(address) for address in addresses):
        # Every address, not the first: a name with one public and one private address is refused too.
        raise UnsafeUrl(_("The URL points to a private, loopback or link-local address, which QuickPoll does not call."))
    return str(addresses[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, *, address: str, **kwargs):
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, *, address: str, **kwargs):
        super().__init__(host, port, context=ssl.create_default_context(), **kwargs)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the host name, while the socket goes to the checked address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST `body` to a checked, pinned address; raises UnsafeUrl, or OSError/HTTPException on network trouble."""
    address = resolve(url)
    parts = urlsplit(url)
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(parts.hostname, parts.port, address=address, timeout=settings.WEBHOOKS_TIMEOUT_SECONDS)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    started = time.monotonic()
    try:
        connection.request(
            "POST",
            path,
            body=body,
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
        )
        response = connection.getresponse()
        answer_body = response.read(RESPONSE_LIMIT)
    finally:
        connection.close()
    return Answer(status=response.status, body=answer_body, duration_ms=round((time.monotonic() - started) * 1000))
