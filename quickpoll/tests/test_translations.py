"""The German and Spanish catalogues: complete, nothing fuzzy, placeholders intact, compiled without gettext."""

import shutil
from pathlib import Path

import pytest
from babel.messages.checkers import python_format
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management import call_command

LANGUAGES = [code for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
CATALOGUES = [
    Path(settings.LOCALE_PATHS[0]) / language / "LC_MESSAGES" / f"{domain}.po"
    for language in LANGUAGES
    for domain in ("django", "djangojs")
]


def read(path: Path):
    with path.open("rb") as po_file:
        return read_po(po_file, locale=path.parent.parent.name)


def test_every_language_but_the_default_has_both_catalogues():
    assert LANGUAGES == ["de", "es"]
    assert all(path.exists() for path in CATALOGUES), [str(path) for path in CATALOGUES if not path.exists()]


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda path: f"{path.parent.parent.name}/{path.name}")
def test_no_entry_is_untranslated_or_fuzzy(path):
    catalogue = read(path)
    untranslated = [message.id for message in catalogue if message.id and not all(_forms(message))]
    fuzzy = [message.id for message in catalogue if message.id and message.fuzzy]
    assert not untranslated, f"untranslated in {path}: {untranslated}"
    assert not fuzzy, f"fuzzy in {path}: {fuzzy}"
    assert len(catalogue) > (40 if path.stem == "djangojs" else 400)


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda path: f"{path.parent.parent.name}/{path.name}")
def test_placeholders_survive_translation(path):
    catalogue = read(path)
    problems = []
    for message in catalogue:
        if not message.id or not message.python_format:
            continue
        try:
            python_format(catalogue, message)
        except Exception as problem:  # babel's TranslationError: a placeholder lost, renamed or added
            problems.append(f"{message.id!r}: {problem}")
    assert not problems, "\n".join(problems)


def test_compiled_without_system_gettext(tmp_path, settings, monkeypatch):
    """A machine with Python only (no msgfmt on PATH) still gets its .mo files."""
    for path in CATALOGUES:
        target = tmp_path / path.parent.parent.name / "LC_MESSAGES"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / path.name)
    settings.LOCALE_PATHS = [tmp_path]
    monkeypatch.setenv("PATH", "")
    call_command("compile_translations", verbosity=0)
    with (tmp_path / "de" / "LC_MESSAGES" / "django.mo").open("rb") as mo_file:
        compiled = read_mo(mo_file)
    assert compiled.get("Create a poll").string == "Umfrage erstellen"


def _forms(message):
    return message.string if isinstance(message.string, tuple) else (message.string,)
