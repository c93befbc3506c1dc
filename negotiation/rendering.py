"""Message templates as plain text. Pure: no database, no settings.

The rule: SMS and email bodies are plain text, so nothing is HTML-escaped. A template may hold only
`{{ variable }}` placeholders from VARIABLES (no tags, no filters), so an editor cannot reach anything
else. Values are data: they are never parsed as a template (a name written `{{ x }}` or `<script>` is
inserted as those characters), control characters are removed and each value is cut to VALUE_MAX."""

import re
import unicodedata

from django.template import Context, Engine
from django.utils.translation import gettext as _

VARIABLES = (
    "name", "card_last4", "overdue_total", "bank_phone", "case_number",
    # Filled by plans for its own messages: the portal link, a one-time code, an installment, an agreement.
    "link", "code", "due_date", "amount", "agreement_number",
)
VALUE_MAX = 160

_PLACEHOLDER = re.compile(r"{{(.*?)}}", re.S)
_ALLOWED = re.compile(r"^\s*([a-z_0-9]+)\s*$")
# No autoescape (plain text) and no libraries beyond the built-ins: the check above forbids tags anyway.
_ENGINE = Engine(autoescape=False, libraries={}, debug=False)


class TemplateProblem(ValueError):
    """A template text that is not allowed; the message says why."""


def template_check(text: str) -> None:
    """Raise TemplateProblem unless `text` uses only the known `{{ variable }}` placeholders."""
    if "{%" in text or "%}" in text or "{#" in text:
        raise TemplateProblem(_("Only {{ variable }} placeholders are allowed; remove the {% … %} or {# … #}."))
    for found in _PLACEHOLDER.finditer(text):
        name = _ALLOWED.match(found.group(1))
        if name is None or name.group(1) not in VARIABLES:
            raise TemplateProblem(
                _("Unknown placeholder %(placeholder)s; use one of: %(names)s.")
                % {"placeholder": found.group(0), "names": ", ".join(f"{{{{ {v} }}}}" for v in VARIABLES)}
            )
    leftover = _PLACEHOLDER.sub("", text)
    if "{{" in leftover or "}}" in leftover:
        raise TemplateProblem(_("A placeholder is not closed: write {{ name }}."))


def clean_value(value) -> str:
    """A value as it is inserted: text without control characters, at most VALUE_MAX characters."""
    text = "" if value is None else str(value)
    text = "".join(" " if ch in "\r\n\t" else ch for ch in text if ch in "\r\n\t" or unicodedata.category(ch) != "Cc")
    return text.strip()[:VALUE_MAX]


def render_plain(text: str, values: dict) -> str:
    """Render a checked template text with the values inserted literally."""
    template_check(text)
    context = {name: clean_value(values.get(name, "")) for name in VARIABLES}
    return _ENGINE.from_string(text).render(Context(context, autoescape=False))
