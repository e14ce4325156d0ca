"""/docs and /redoc: served whole from our origin, inside our Content-Security-Policy, headed by resource."""

import re

import pytest
import yaml
from django.conf import settings as django_settings

pytestmark = pytest.mark.django_db

DOCS = ["/docs", "/redoc"]


def directive(policy: str, name: str) -> list[str]:
    for part in policy.split(";"):
        words = part.split()
        if words and words[0] == name:
            return words[1:]
    return []


def loaded_urls(html: str) -> list[str]:
    """What a page asks the browser to fetch: src and href attributes, and url() in inline styles."""
    return re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"url\(['\"]?([^'\")]+)", html)


@pytest.mark.parametrize("path", DOCS)
def test_the_docs_pages_load_nothing_from_another_origin(client, path):
    response = client.get(path)
    html = response.content.decode()

    urls = loaded_urls(html)
    assert urls, "the page loads its viewer"
    assert [url for url in urls if re.match(r"^(?:[a-z]+:)?//", url)] == []
    assert "fonts.googleapis.com" not in html and "fonts.gstatic.com" not in html


def test_the_swagger_start_up_script_loads_nothing_from_another_origin(client):
    html = client.get("/docs").content.decode()
    [script_url] = [url for url in re.findall(r'<script src="([^"]+)"', html) if "script" in url.split("/")[-1]]

    script = client.get(script_url.replace("&amp;", "&")).content.decode()

    assert script and not re.search(r"https?://", script)


@pytest.mark.parametrize("path", DOCS)
def test_the_csp_header_allows_what_the_docs_load(client, path):
    response = client.get(path)
    policy = response["Content-Security-Policy"]

    assert directive(policy, "script-src") == ["'self'"]
    assert directive(policy, "font-src") == ["'self'"]
    assert set(directive(policy, "style-src")) == {"'self'", "'unsafe-inline'"}  # the viewers style elements inline
    assert "blob:" in directive(policy, "worker-src")  # ReDoc renders in a worker
    assert not [source for source in policy.split() if "://" in source]
    for url in re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', response.content.decode()):
        assert url.startswith("/"), url  # so 'self' covers it


def test_redoc_uses_system_fonts_through_its_element_without_inline_script(client):
    html = client.get("/redoc").content.decode()

    assert "<script>" not in html
    assert re.search(r'<redoc spec-url="/api/schema" theme="[^"]*system-ui', html)


def operations(schema: dict) -> list[dict]:
    return [
        operation
        for item in schema["paths"].values()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def test_operations_are_tagged_by_resource_not_all_as_api(api_client):
    schema = yaml.safe_load(api_client.get("/api/schema").content)

    declared = [tag["name"] for tag in schema["tags"]]
    used = {tag for operation in operations(schema) for tag in operation["tags"]}
    assert len(used) > 1 and "api" not in used
    assert all(len(operation["tags"]) == 1 for operation in operations(schema))
    assert used == set(declared) == {tag["name"] for tag in django_settings.SPECTACULAR_SETTINGS["TAGS"]}


PLACES = [
    ("post", "/api/votes", "Votes"),
    ("post", "/api/likes", "Likes"),
    ("get", "/api/polls/trending", "Polls"),
    ("post", "/api/polls/{id}/report", "Moderation"),
    ("post", "/api/polls/{id}/hold", "Moderation"),
    ("get", "/api/polls/{id}/receipts/{code}", "Votes"),
    ("post", "/api/polls/{poll_id}/invites", "Invites"),
    ("post", "/api/users/login", "Accounts"),
    ("get", "/api/users/me", "Accounts"),
    ("get", "/api/users/{id}", "Users"),
    ("get", "/api/notifications", "Notifications"),
]


def test_each_operation_sits_under_its_resource(api_client):
    schema = yaml.safe_load(api_client.get("/api/schema").content)

    assert [(method, path, schema["paths"][path][method]["tags"]) for method, path, _ in PLACES] == [
        (method, path, [tag]) for method, path, tag in PLACES
    ]
