"""Structured JSON logs: a request id on every line of a request, and no secrets in them."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import django, os
django.setup()
from django.core.management import call_command
from django.test.utils import setup_test_environment
setup_test_environment()
call_command("migrate", verbosity=0)
from rest_framework.test import APIClient
client = APIClient()
session = client.post("/api/users/register", {"username": "ana", "email": "ana@example.com",
                      "password": "Correct-Horse-42"}, format="json").json()
client.credentials(HTTP_AUTHORIZATION="Bearer " + session["access"])
poll = client.post("/api/polls", {"title": "Lunch?", "options": ["Soup", "Salad"]}, format="json").json()
vote = client.post("/api/votes", {"poll_id": poll["id"], "option_ids": [poll["options"][0]["id"]]}, format="json")
print("RESULT", vote.status_code, vote["X-Request-ID"], session["access"], session["refresh"], flush=True)
"""


def test_a_vote_can_be_traced_by_its_request_id_and_no_secret_is_logged(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    env |= {
        "DJANGO_SETTINGS_MODULE": "quickpoll.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'logs.sqlite3'}",
        "LOG_FORMAT": "json",
        "RATE_LIMIT_ENABLED": "false",
    }
    run = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr

    result = next(line for line in run.stdout.splitlines() if line.startswith("RESULT")).split()
    status, request_id, access, refresh = result[1], result[2], result[3], result[4]
    assert status == "201"

    lines = [json.loads(line) for line in run.stderr.splitlines() if line.startswith("{")]
    of_the_vote = [line for line in lines if line.get("request_id") == request_id]
    events = {line["event"] for line in of_the_vote}
    assert {"request_started", "vote_cast", "request_finished"} <= events
    assert all("timestamp" in line and "level" in line for line in of_the_vote)

    for secret in ("Correct-Horse-42", access, refresh):
        assert secret not in run.stderr
