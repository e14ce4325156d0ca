"""What each request's log lines say of its client."""

import pytest


@pytest.mark.django_db
def test_request_lines_name_the_address_the_server_took_not_a_forwarding_header_a_client_sent(client, caplog):
    with caplog.at_level("INFO"):
        client.get("/health", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.66")

    lines = [record.msg for record in caplog.records if isinstance(record.msg, dict) and "request" in record.msg]
    assert {line["event"] for line in lines} == {"request_started", "request_finished"}
    assert {line["ip"] for line in lines} == {"203.0.113.9"}
