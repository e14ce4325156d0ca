"""Real-browser tests: Playwright driving Debian's Chromium against a live QuickPoll.

The server is the real ASGI application (pages, API and WebSockets) served by
uvicorn in a thread of the test process, so it shares the test database.
"""

import shutil
import socket
import threading
import time

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # No phoning home: this machine's network is closed, and tests must not wait on it.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium_path():
    path = shutil.which("chromium")
    if path is None:
        pytest.skip("Chromium is not installed: `apt-get install chromium` (.ci/run installs it)")
    return path


# Package scope: Playwright's event loop must stop before other packages' async tests run.
@pytest.fixture(scope="package")
def browser(chromium_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _orm_beside_playwright(monkeypatch):
    # Playwright's sync API keeps an event loop in this thread; the tests' own ORM calls are
    # still plain synchronous code, so Django's "called from async" guard does not apply.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="package")
def server_url(django_db_setup):
    uvicorn = pytest.importorskip("uvicorn")
    from quickpoll.asgi import application

    port = _free_port()
    # The WebSocket protocol bin/sockets runs, so that Chromium reads the compression it does (realtime.deflate).
    config = uvicorn.Config(
        application, host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="realtime.deflate:WebSocketProtocol"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the live server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def live_url(server_url, transactional_db):
    """The server's URL, during a test whose data the server can see (committed, not rolled back)."""
    return server_url


@pytest.fixture
def new_page(browser):
    """Opens pages in fresh browser contexts (separate cookies, like separate people)."""
    contexts = []

    def open_page(**options):
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
