"""Keyword search: the case folding both databases compare, and the words of a query."""

from __future__ import annotations

import unicodedata
from typing import Final

# A trigram index finds substrings of three characters or more; shorter words are matched by
# scanning the rows the other conditions leave.
TRIGRAM: Final = 3


def fold(text: str) -> str:
    """Canonical caseless form (Unicode D145), recomposed: "ÉTÉ" and "été" fold alike."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", text).casefold())


def query_words(query: str) -> tuple[str, ...]:
    """The folded words of `q`, each once, in a stable order (white space separates them)."""
    return tuple(sorted({fold(word) for word in query.split()}))


def like_pattern(word: str) -> str:
    """A LIKE pattern (escape character `\\`) matching `word` anywhere in the text."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def fts_query(words: tuple[str, ...]) -> str | None:
    """An FTS5 query for the words a trigram index can find (all must occur); None if none."""
    phrases = ['"' + word.replace('"', '""') + '"' for word in words if len(word) >= TRIGRAM]
    return " AND ".join(phrases) or None
