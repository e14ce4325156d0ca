import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from polls.tests.factories import PollFactory
from webhooks import services


class Receiver:
    """A local webhook receiver: answers with the statuses it is given in turn (the last one repeats)."""

    def __init__(self):
        self.statuses = [204]
        self.received: list[tuple[dict, bytes]] = []
        self.extra_headers: dict[str, str] = {}
        self.body = b""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                receiver.received.append((dict(self.headers.items()), self.rfile.read(length)))
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status)
                for name, value in receiver.extra_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(receiver.body)))
                self.end_headers()
                self.wfile.write(receiver.body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True  # the receiver listens on loopback
    receiving = Receiver()
    yield receiving
    receiving.close()


@pytest.fixture
def poll(owner):
    """Single choice, public, results always shown: Red, Green, Blue."""
    return PollFactory(author=owner, title="Favourite colour?")


@pytest.fixture
def make_endpoint(owner, settings):
    def make(url="http://127.0.0.1:9/hook", events=("results.changed",), user=None, **options):
        settings.WEBHOOKS_ALLOW_PRIVATE = True
        return services.create_endpoint(owner=user or owner, url=url, events=list(events), **options)

    return make
