"""Every screen is translated: each literal UI string in the code and templates has a Chinese entry."""

import re
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "config" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
APPS = ("accounts", "cases", "negotiation", "plans", "compliance", "reporting", "config")

TEMPLATE_TAG = re.compile(r"""\{%\s*(?:translate|trans)\s+(?P<q>["'])(?P<text>.+?)(?P=q)""")
PYTHON_CALL = re.compile(
    r"""(?<![\w.])(?:_|gettext|gettext_lazy|pgettext|pgettext_lazy)\(\s*"""
    r"""(?:["'][^"']*["']\s*,\s*(?=["']))?"""  # pgettext's context comes first
    r"""(?P<q>["'])(?P<text>(?:(?!(?P=q)).)+)(?P=q)\s*[,)]"""
)


def _literal_strings() -> set[tuple[str, str]]:
    found = set()
    for template in (ROOT / "templates").rglob("*.html"):
        for match in TEMPLATE_TAG.finditer(template.read_text(encoding="utf-8")):
            # {% translate %} looks a text up with its % signs doubled, as makemessages stores it.
            found.add((str(template.relative_to(ROOT)), match["text"].replace("%", "%%")))
    for app in APPS:
        for module in (ROOT / app).rglob("*.py"):
            if "migrations" in module.parts:
                continue
            for match in PYTHON_CALL.finditer(module.read_text(encoding="utf-8")):
                found.add(
                    (
                        str(module.relative_to(ROOT)),
                        match["text"].encode().decode("unicode_escape") if "\\" in match["text"] else match["text"],
                    )
                )
    return found


@pytest.fixture(scope="module")
def catalogue():
    return polib.pofile(str(CATALOGUE))


def test_the_chinese_catalogue_has_no_untranslated_or_fuzzy_entry(catalogue):
    missing = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert missing == [] and fuzzy == []


def test_every_literal_ui_string_is_in_the_chinese_catalogue(catalogue):
    translated = {entry.msgid for entry in catalogue.translated_entries()}
    absent = sorted(f"{where}: {text}" for where, text in _literal_strings() if text not in translated)
    assert absent == [], "run `make messages` and translate:\n" + "\n".join(absent)


def test_placeholders_survive_translation(catalogue):
    placeholder = re.compile(r"%\(\w+\)[sd]|%[sd]")
    broken = [
        entry.msgid
        for entry in catalogue.translated_entries()
        if sorted(placeholder.findall(entry.msgid))
        != sorted(placeholder.findall(entry.msgstr or entry.msgstr_plural.get(0, "")))
    ]
    assert broken == []
