"""Language screening: does a text contain a forbidden word or phrase? Pure; no database, no settings.

How a term matches:

- Text and terms are normalised first: NFKC (full-width ｐｏｌｉｃｅ and ＡＢＣ become ASCII), case-folded,
  zero-width characters dropped.
- A term containing a Chinese character matches as a substring of the text with every whitespace and
  filler symbol (* · . - _ | / ~ and the like) removed, so "逮 捕" and "逮*捕" are caught. Sentence
  punctuation (，。！？) is kept, so it still separates words.
- Any other term matches whole words, case-insensitively: it may not start inside a word, and it must end
  at a word's end or before one of the inflections -s, -es, -d, -ed, -ing, -er, -ers. So "arrest" matches
  "Arrest", "arrests" and "arrested" but not "rearrest" or "arrestable", and "kill" does not match
  "skill". Whitespace inside a term matches any run of whitespace. Letters spelled apart with spaces or
  filler symbols ("a r r e s t", "a.r.r.e.s.t") are joined before matching.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

EXCERPT_LIMIT = 300

ZERO_WIDTH = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"}
# Symbols people put between characters to slip past a filter; dropped in the compact view.
FILLERS = set("*·•・._-~|/\\+^`'\"#=")
ENGLISH_SUFFIX = r"(?:s|es|d|ed|ing|er|ers)?"
# A run of three or more single letters or digits separated by spaces or fillers: "a r r e s t".
SPELLED_APART = re.compile(r"(?<![a-z0-9])(?:[a-z0-9][\s*·•・._\-~|/\\+^`'\"#=]+){2,}[a-z0-9](?![a-z0-9])")


@dataclass(frozen=True)
class Term:
    term: str
    category: str
    language: str = ""


@dataclass(frozen=True)
class Match:
    term: str
    category: str
    language: str
    start: int  # offsets in the original text
    end: int


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return (
        0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x2FA1F
    )


def has_cjk(text: str) -> bool:
    return any(_is_cjk(char) for char in text)


def normalise(text: str) -> str:
    """What a term is compared as: NFKC, case-folded, whitespace collapsed, trimmed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(char for char in text if char not in ZERO_WIDTH)
    return " ".join(text.split())


def clean_term(term: str) -> str:
    """How a term is stored: NFKC (no full-width duplicates), whitespace collapsed; case kept."""
    return " ".join(unicodedata.normalize("NFKC", term).split())


class _View:
    """A normalised copy of the text that remembers where each of its characters came from."""

    def __init__(self, chars: list[str], origins: list[int]) -> None:
        self.text = "".join(chars)
        self.origins = origins

    def span(self, start: int, end: int) -> tuple[int, int]:
        return self.origins[start], self.origins[end - 1] + 1


def _normalised_chars(text: str) -> Iterable[tuple[str, int]]:
    for index, char in enumerate(text):
        if char in ZERO_WIDTH:
            continue
        for out in unicodedata.normalize("NFKC", char).casefold():
            yield out, index


def _compact_view(text: str) -> _View:
    chars, origins = [], []
    for char, index in _normalised_chars(text):
        if char.isspace() or char in FILLERS:
            continue
        chars.append(char)
        origins.append(index)
    return _View(chars, origins)


def _spaced_view(text: str) -> _View:
    chars, origins = [], []
    for char, index in _normalised_chars(text):
        if char.isspace():
            if chars and chars[-1] == " ":
                continue
            char = " "
        chars.append(char)
        origins.append(index)
    view = _View(chars, origins)
    return _join_spelled_apart(view)


def _join_spelled_apart(view: _View) -> _View:
    if not SPELLED_APART.search(view.text):
        return view
    chars, origins = [], []
    position = 0
    for found in SPELLED_APART.finditer(view.text):
        chars.extend(view.text[position : found.start()])
        origins.extend(view.origins[position : found.start()])
        for offset in range(found.start(), found.end()):
            char = view.text[offset]
            if char.isalnum():
                chars.append(char)
                origins.append(view.origins[offset])
        position = found.end()
    chars.extend(view.text[position:])
    origins.extend(view.origins[position:])
    return _View(chars, origins)


@lru_cache(maxsize=4096)
def _word_pattern(term: str) -> re.Pattern:
    words = [re.escape(word) for word in term.split(" ")]
    return re.compile(r"(?<![a-z0-9])" + r"\s+".join(words) + ENGLISH_SUFFIX + r"(?![a-z0-9])")


def screen(text: str, terms: Iterable[Term]) -> list[Match]:
    """The terms found in `text`, each once at its first place, in the order they appear."""
    if not text or not text.strip():
        return []
    compact = spaced = None
    matches = []
    for term in terms:
        wanted = normalise(term.term)
        if not wanted:
            continue
        if has_cjk(wanted):
            compact = compact or _compact_view(text)
            wanted = "".join(char for char in wanted if not (char.isspace() or char in FILLERS))
            start = compact.text.find(wanted)
            if start < 0:
                continue
            span = compact.span(start, start + len(wanted))
        else:
            spaced = spaced or _spaced_view(text)
            found = _word_pattern(wanted).search(spaced.text)
            if found is None:
                continue
            span = spaced.span(found.start(), found.end())
        matches.append(Match(term.term, term.category, term.language, start=span[0], end=span[1]))
    return sorted(matches, key=lambda match: (match.start, match.end, match.term))


def excerpt(text: str, match: Match, limit: int = EXCERPT_LIMIT) -> str:
    """Up to `limit` characters of `text` around a match (whitespace collapsed), with an ellipsis where cut."""
    budget = limit - 2  # room for the two ellipses
    start = max(0, match.start - budget // 3)
    end = min(len(text), start + budget)
    start = max(0, end - budget)
    window = " ".join(text[start:end].split())
    return ("…" if start > 0 else "") + window + ("…" if end < len(text) else "")
