"""Shared by the security tests: the cast with a fourth person and bearer clients."""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import UserFactory

# The WebSocket tests' fixtures: sockets on the real application, realtime state reset around each test,
# a channel layer prefix of their own on a shared Redis, and database connections closed at the end.
from realtime.tests.conftest import (  # noqa: F401
    _close_database_connections_left_open,
    _fresh_realtime_state,
    _own_channel_layer_prefix,
    session_cookie,
    sockets,
)


def bearer_client(user=None) -> APIClient:
    """An API client that sends a real JWT access token for `user` (or nothing, for None)."""
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


@pytest.fixture
def third_user(db):
    """Someone else again: the author of the poll when the owner is its voter or liker."""
    return UserFactory(username="third")


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path

