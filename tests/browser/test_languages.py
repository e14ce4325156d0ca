"""The home, poll and create pages in German and Spanish, as a browser shows them: no English left.

Visitors get the language from their browser (Accept-Language, from the context's locale); members from
their account. The check reads the visible text and the words assistive technology reads (labels, titles,
placeholders, confirmations) and looks for common English words; names, the brand and what users wrote
are allowed.
"""

import re

import pytest
from django.conf import settings
from django.test import Client

from accounts.tests.factories import UserFactory
from polls import services
from polls.tests.factories import PollFactory, pick
from polls.voters import Voter

# Common English words that are not also German or Spanish words ("in", "an", "no", "so", "Link",
# "Name", "Option", "Live", "Like", "Version", "System", "Moderation", "total", "was", "will" are, so they are left out).
ENGLISH = set(
    """
    the and or of to your you yours our we with without for from this that these those is are were be been
    has have had it its by on at as not all any more most new now only up out off over here there when where which
    who what how why will can may must should would next previous back see show hide view open closed close start
    started ended share copy create created sign log browse search vote votes voted voting voter voters poll polls
    result results options answer answers liked views manage edit delete report send save change settings
    profile notifications unread theme light dark language account password minutes hours days ago today yesterday
    week first last every one two three add remove move question title description choose pick people anyone
    monday tuesday wednesday thursday friday saturday sunday january february march june july october december
    mon tue wed thu fri sat sun dec
    """.split()
)
# What users wrote and the brand: never translated, so never counted.
ALLOWED = ["QuickPoll", "Pizza", "Ramen", "Tacos", "mara", "Mara", "lino", "Lino"]

READ_ALOUD = """() => {
  const words = [document.title];
  for (const element of document.querySelectorAll("[aria-label], [title], [placeholder], [alt], [data-confirm]")) {
    for (const name of ["aria-label", "title", "placeholder", "alt", "data-confirm"]) {
      if (element.hasAttribute(name)) words.push(element.getAttribute(name));
    }
  }
  return words.join("\\n");
}"""


def english_words_on(page) -> list[str]:
    text = page.locator("body").inner_text() + "\n" + page.evaluate(READ_ALOUD)
    for allowed in ALLOWED:
        text = text.replace(allowed, " ")
    text = re.sub(r"\b[A-Z]\w*/[\w/+-]+", " ", text)  # time zones' names (Europe/Berlin) stay as IANA spells them
    found = []
    for line in text.splitlines():
        words = {word.lower() for word in re.findall(r"[^\W\d_]+", line)}
        if words & ENGLISH:
            found.append(f"{sorted(words & ENGLISH)} in {line.strip()[:120]!r}")
    return found


@pytest.fixture
def people_and_poll(live_url):
    author = UserFactory(username="mara", display_name="Mara")
    voter = UserFactory(username="lino", display_name="Lino")
    poll = PollFactory(author=author, title="Pizza, Ramen, Tacos?", options=["Pizza", "Ramen", "Tacos"])
    services.cast_vote(poll=poll, voter=Voter(user=voter), option_ids=pick(poll, "Ramen"))
    services.like_poll(poll=poll, voter=Voter(user=voter))
    PollFactory(author=voter, title="Tacos?", options=["Pizza", "Tacos"])
    return author, poll


def session_of(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.mark.parametrize("language, locale", [("de", "de-DE"), ("es", "es-ES")])
def test_a_visitor_reads_the_home_and_poll_pages_in_their_browsers_language(
    live_url, new_page, people_and_poll, language, locale
):
    _author, poll = people_and_poll
    page = new_page(locale=locale)
    for path in ("/", f"/p/{poll.slug}/"):
        page.goto(f"{live_url}{path}")
        page.wait_for_load_state("networkidle")
        assert page.locator("html").get_attribute("lang") == language
        assert english_words_on(page) == [], path


@pytest.mark.parametrize("language", ["de", "es"])
def test_a_member_reads_every_page_of_a_poll_in_their_accounts_language(
    live_url, new_page, people_and_poll, language
):
    author, poll = people_and_poll
    author.language = language
    author.save(update_fields=["language"])
    page = new_page(locale="en-GB")  # the account's language wins over the browser's
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session_of(author), "url": live_url}])
    # The share panel and presenter screen come with the poll; settings with the account.
    for path in ("/", f"/p/{poll.slug}/", "/polls/new/", f"/p/{poll.slug}/share/", f"/p/{poll.slug}/present/", "/accounts/settings/"):
        page.goto(f"{live_url}{path}")
        page.wait_for_load_state("networkidle")
        assert page.locator("html").get_attribute("lang") == language
        assert english_words_on(page) == [], path
