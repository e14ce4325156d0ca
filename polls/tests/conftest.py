import pytest

from polls.tests.factories import PollFactory


@pytest.fixture
def poll(owner):
    """Single choice, public, anonymous voting, results always shown: Red, Green, Blue."""
    return PollFactory(author=owner, title="Favourite colour?")


@pytest.fixture
def multi_poll(owner):
    """Multiple choice, at most two of Red, Green, Blue."""
    return PollFactory(author=owner, title="Colours you like", allow_multiple=True, max_choices=2)
