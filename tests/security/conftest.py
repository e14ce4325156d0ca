"""Shared by the security tests: the cast with a fourth person, bearer clients, and the matrix summary line."""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import UserFactory
from tests.ci_summary import report

# The WebSocket tests' fixtures: sockets on the real application, realtime state reset around each test,
# a channel layer prefix of their own on a shared Redis, and database connections closed at the end.
from realtime.tests.conftest import (  # noqa: F401
    _close_database_connections_left_open,
    _fresh_realtime_state,
    _own_channel_layer_prefix,
    session_cookie,
    sockets,
)

# How many authorization matrix cells the run checked, and how many answered wrong, for CI's summary.
MATRIX_CELLS = pytest.StashKey[tuple[int, int]]()


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


def pytest_terminal_summary(terminalreporter, config):
    cells = config.stash.get(MATRIX_CELLS, None)
    if cells is not None:
        checked, wrong = cells
        report(terminalreporter, f"matrix: {checked} authorization cells checked, {wrong} wrong")
