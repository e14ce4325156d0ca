"""Assertions on API responses that every endpoint test module shares."""


def assert_error(response, status: int, code: str, *, fields=None) -> dict:
    """The API's one error shape: exactly `code` and `detail`, and `fields` (by name) on validation errors."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["detail"], str) and body["detail"], body
    if fields is None:
        assert set(body) == {"code", "detail"}, body
    else:
        assert set(body) == {"code", "detail", "fields"}, body
        assert set(body["fields"]) == set(fields), body
        # A list of messages, or for a list field the messages by item index.
        assert all(isinstance(messages, (list, dict)) and messages for messages in body["fields"].values()), body
    return body
