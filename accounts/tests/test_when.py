"""Dates in words (accounts/templatetags/when.py): what the server writes before the browser moves it to its zone."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template

from accounts.templatetags.when import date_words, relative_words

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def render(source: str, **context) -> str:
    return Template("{% load when %}" + source).render(Context(context))


def test_a_date_is_words_in_utc_said_plainly_with_the_iso_time_only_in_the_attribute(settings):
    closes = datetime(2026, 12, 3, 15, 0, tzinfo=ZoneInfo("Europe/Paris"))

    shown = render("{{ closes|when }}", closes=closes)

    assert shown.startswith('<time datetime="2026-12-03T14:00:00Z" data-when="date" title="')
    assert shown.endswith(">Thu 3 Dec, 14:00 UTC</time>") or shown.endswith(">Thu 3 Dec 2026, 14:00 UTC</time>")


def test_the_year_shows_only_when_it_is_not_this_one():
    assert date_words(datetime(2026, 12, 3, 14, 0, tzinfo=UTC), now=NOW) == "Thu 3 Dec, 14:00 UTC"
    assert date_words(datetime(2027, 1, 4, 9, 5, tzinfo=UTC), now=NOW) == "Mon 4 Jan 2027, 09:05 UTC"


@pytest.mark.parametrize(
    "offset, words",
    [
        (timedelta(seconds=-20), "now"),
        (timedelta(minutes=-5), "5 minutes ago"),
        (timedelta(minutes=1), "in 1 minute"),
        (timedelta(hours=3), "in 3 hours"),
        (timedelta(days=-1), "yesterday"),
        (timedelta(days=2), "in 2 days"),
        (timedelta(days=7), "next week"),
        (timedelta(days=-21), "3 weeks ago"),
        (timedelta(days=90), "in 3 months"),
        (timedelta(days=-800), "2 years ago"),
    ],
)
def test_relative_words_match_the_browsers_wording(offset, words):
    assert relative_words(NOW + offset, now=NOW) == words


def test_relative_and_day_styles_keep_the_full_date_as_a_tooltip(settings):
    moment = datetime(2020, 2, 29, 8, 30, tzinfo=UTC)

    relative = render('{{ moment|when:"relative" }}', moment=moment)
    day = render('{{ moment|when:"day" }}', moment=moment)

    assert 'data-when="relative" title="Sat 29 Feb 2020, 08:30 UTC">' in relative and "years ago</time>" in relative
    assert day.endswith('data-when="day" title="Sat 29 Feb 2020, 08:30 UTC">Sat 29 Feb 2020</time>')


def test_nothing_is_written_for_no_date_and_a_naive_one_is_read_as_utc():
    assert render("{{ moment|when }}", moment=None) == ""
    assert 'datetime="2026-12-03T14:00:00Z"' in render("{{ moment|when }}", moment=datetime(2026, 12, 3, 14, 0))


def test_an_unknown_style_is_a_mistake_in_the_template():
    with pytest.raises(ValueError, match="style 'soon'"):
        render('{{ moment|when:"soon" }}', moment=NOW)
