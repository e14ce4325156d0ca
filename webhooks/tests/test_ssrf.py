"""The SSRF guard: endpoints on the server's own networks are refused, when saved and when called."""

import socket

import pytest

from webhooks import delivery, errors, outbound, services
from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db

REFUSED = [
    "http://127.0.0.1/hook",
    "http://localhost:8000/hook",
    "http://10.0.0.5/hook",
    "http://172.16.3.4/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data/",  # the cloud metadata service
    "http://[::1]/hook",
    "http://[fe80::1]/hook",
    "http://[fd00:ec2::254]/hook",
    "http://[::ffff:127.0.0.1]/hook",  # loopback written as an IPv4-mapped IPv6 address
    "http://0.0.0.0/hook",
    "http://100.64.0.1/hook",  # carrier-grade NAT
    "http://224.0.0.1/hook",
]


@pytest.mark.parametrize("url", REFUSED)
def test_private_addresses_are_refused_when_an_endpoint_is_saved(owner, url):
    with pytest.raises(errors.InvalidEndpoint) as refusal:
        services.create_endpoint(owner=owner, url=url, events=["poll.closed"])

    assert "url" in refusal.value.fields
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize("url", ["ftp://example.com/hook", "file:///etc/passwd", "http://user:pw@93.184.215.14/"])
def test_other_schemes_and_credentials_are_refused(owner, url):
    with pytest.raises(errors.InvalidEndpoint):
        services.create_endpoint(owner=owner, url=url, events=["poll.closed"])


def test_a_public_address_is_accepted(owner):
    endpoint = services.create_endpoint(owner=owner, url="https://93.184.215.14/hook", events=["poll.closed"])

    assert endpoint.secret.startswith("whsec_")


def test_a_name_that_resolves_to_a_private_address_later_is_refused_at_sending(owner, monkeypatch, settings):
    """Saved while public, the name points inward at sending time (DNS rebinding): nothing is sent."""
    endpoint = services.create_endpoint(owner=owner, url="https://hooks.example.com/in", events=["poll.closed"])
    services.send_test(endpoint=endpoint, actor=owner)
    connected = []
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda *args, **kwargs: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 443))]
    )
    monkeypatch.setattr(socket, "create_connection", lambda *args, **kwargs: connected.append(args))

    delivery.deliver_due()

    attempt = Delivery.objects.get()
    assert attempt.status == "failed" and "private" in attempt.error
    assert connected == []


def test_a_name_with_one_public_and_one_private_address_is_refused(monkeypatch):
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda *args, **kwargs: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", 443)),
        ],
    )

    with pytest.raises(outbound.UnsafeUrl):
        outbound.resolve("https://two-faced.example.com/")


def test_the_setting_allows_private_addresses(owner, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True

    endpoint = services.create_endpoint(owner=owner, url="http://10.0.0.5/hook", events=["poll.closed"])

    assert outbound.resolve(endpoint.url) == "10.0.0.5"
