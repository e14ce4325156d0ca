"""The apps depend on each other in one direction: quickpoll's shared modules ← accounts ← polls ← webhooks ← realtime.

A lower layer never imports a higher one; it announces what happened through polls/announce.py
(or, for accounts, the hooks in accounts/services.py), and the layer above registers itself from
its AppConfig.ready(). The project's own entry points (settings, URLs, ASGI/WSGI, the home page)
sit on top of everything. Tests and migrations are not read.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ["quickpoll", "accounts", "polls", "webhooks", "realtime"]
# Modules of the project package that wire everything together, so they may import any app.
ON_TOP = {"quickpoll.settings", "quickpoll.urls", "quickpoll.asgi", "quickpoll.wsgi", "quickpoll.views"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str) -> set[str]:
    """Every module a source file imports, at any depth (imports inside functions count too)."""
    package = module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against the importing package
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                name = f"{base}.{node.module}" if node.module else base
            else:
                name = node.module
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
    return found


def layer_of(module: str) -> int | None:
    top = module.split(".", 1)[0]
    return LAYERS.index(top) if top in LAYERS else None


def upward_imports(module: str, source: str) -> list[str]:
    """The imports of `module` that reach a layer above its own."""
    if module in ON_TOP:
        return []
    own = layer_of(module)
    return sorted(
        name
        for name in imported_modules(source, module)
        if (layer := layer_of(name)) is not None and layer > own
    )


def _app_modules():
    for app in LAYERS:
        for path in sorted((ROOT / app).rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            if "tests" in parts or "migrations" in parts:
                continue
            yield _module_name(path), path


def test_no_app_imports_a_layer_above_its_own():
    offences = {
        module: wrong
        for module, path in _app_modules()
        if (wrong := upward_imports(module, path.read_text()))
    }
    assert offences == {}


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("accounts.services", "from polls import services", ["polls", "polls.services"]),
        ("polls.services", "def later():\n    from realtime import events", ["realtime", "realtime.events"]),
        ("quickpoll.ratelimits", "import accounts.backends", ["accounts.backends"]),
        ("polls.selectors", "from .models import Poll\nfrom accounts.models import User", []),
        ("quickpoll.urls", "from realtime.routing import websocket_urlpatterns", []),
    ],
)
def test_the_check_sees_upward_imports_wherever_they_are(module, source, expected):
    assert upward_imports(module, source) == expected
