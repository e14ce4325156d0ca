import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.services import make_moderator
from accounts.tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The production hasher takes a noticeable fraction of a second per user; tests make many.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache_without_rate_limits(settings):
    # Rate limits get their own tests; everywhere else many requests come from one IP.
    settings.RATE_LIMIT_ENABLED = False
    settings.RATELIMIT_ENABLE = False
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def owner(db):
    return UserFactory(username="owner")


@pytest.fixture
def other_user(db):
    return UserFactory(username="other")


@pytest.fixture
def staff_user(db):
    return UserFactory(username="staff", is_staff=True)


@pytest.fixture
def moderator(db):
    return make_moderator(user=UserFactory(username="mod"))


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def owner_client(owner):
    client = APIClient()
    client.force_authenticate(user=owner)
    return client


@pytest.fixture
def client_for(db):
    """Makes API clients: signed in as the given user, or anonymous with None."""

    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user=user)
        return client

    return make


@pytest.fixture
def other_client(client_for, other_user):
    return client_for(other_user)


@pytest.fixture
def staff_api_client(client_for, staff_user):
    return client_for(staff_user)
