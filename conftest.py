import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.services import make_moderator
from accounts.tests.factories import UserFactory
from polls import public_bodies
from tests.ci_summary import SUMMARY_PROPERTY, report

# The slow families, marked `slow` here and nowhere else: `bin/test --fast` (-m "not slow") leaves
# them out of the inner loop, while `bin/test` and CI run everything. Slow for a reason: they fuzz,
# drive a browser, search for counterexamples, start servers, or race threads on PostgreSQL.
SLOW_PATHS = (
    "tests/fuzz/",
    "tests/clients/",  # a client generated from the schema, against a live server
    "tests/browser/",
    "polls/tests/test_properties.py",
    "realtime/tests/test_end_to_end.py",  # a server process, its migrations and a socket
    "quickpoll/tests/test_logs.py",  # a server process, traced through its logs
    "polls/tests/test_seed_demo.py",  # the whole demo seeded for each test
)
SLOW_MARKERS = ("postgres",)
FAST = "not slow"  # the marker expression `bin/test --fast` passes


def _in_slow_path(path, config) -> bool:
    return path.is_relative_to(config.rootpath) and path.relative_to(config.rootpath).as_posix().startswith(SLOW_PATHS)


def pytest_ignore_collect(collection_path, config):
    # A fast run does not even import the slow modules: the fuzzer builds the whole API schema on import.
    if config.getoption("markexpr") == FAST and _in_slow_path(collection_path, config):
        return True
    return None


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _in_slow_path(item.path, config) or any(item.get_closest_marker(name) for name in SLOW_MARKERS):
            item.add_marker(pytest.mark.slow)


def pytest_terminal_summary(terminalreporter, config):
    # The summary lines tests handed over (tests/ci_summary.py), from whichever worker ran them.
    if hasattr(config, "workerinput"):
        return  # a pytest-xdist worker: its reports reach the controller, which prints them
    for reports in terminalreporter.stats.values():
        for test_report in reports:
            if getattr(test_report, "when", None) == "call":
                for name, line in test_report.user_properties:
                    if name == SUMMARY_PROPERTY:
                        report(terminalreporter, line)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The production hasher takes a noticeable fraction of a second per user; tests make many.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _static_files_looked_up_on_request(settings):
    # Every test client builds its own middleware; indexing all static files each time (the sidecar's
    # Swagger and ReDoc among them) took a fifth of a page test. No test but the browser's fetches them.
    settings.WHITENOISE_AUTOREFRESH = True


@pytest.fixture(autouse=True)
def _fresh_cache_without_rate_limits(settings):
    # Rate limits get their own tests; everywhere else many requests come from one IP.
    settings.RATE_LIMIT_ENABLED = False
    settings.RATELIMIT_ENABLE = False
    cache.clear()
    public_bodies.clear_local()
    yield
    cache.clear()
    public_bodies.clear_local()


@pytest.fixture(autouse=True)
def _bot_defence_thresholds_out_of_reach(settings):
    # Many tests vote anonymously from one address; polls/tests/test_bot_defence.py lowers these where it
    # tests them. Challenges stay on, at the least work, so a test can solve one in microseconds.
    settings.BOT_DEFENCE_ADDRESS_THRESHOLD = 1_000_000
    settings.BOT_DEFENCE_POLL_THRESHOLD = 1_000_000
    settings.ALTCHA_COST = 1
    settings.ALTCHA_MAX_NUMBER = 50


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
    return _signed_in(APIClient(), owner)


def _signed_in(client: APIClient, user) -> APIClient:
    client.force_authenticate(user=user)
    # Its requests carry credentials, as a real client's do (requests without any may be answered from
    # a cache before authentication: polls.voters.carries_no_identity). DRF never reads this one.
    client.credentials(HTTP_AUTHORIZATION="Bearer forced-by-the-test-client")
    return client


@pytest.fixture
def client_for(db):
    """Makes API clients: signed in as the given user, or anonymous with None."""

    def make(user=None) -> APIClient:
        client = APIClient()
        return client if user is None else _signed_in(client, user)

    return make


@pytest.fixture
def other_client(client_for, other_user):
    return client_for(other_user)


@pytest.fixture
def staff_api_client(client_for, staff_user):
    return client_for(staff_user)
