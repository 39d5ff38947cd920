"""backend.tasks.search.fold as a PostgreSQL function, for the triggers of online migrations.

fold(text) is NFC(casefold(NFD(text))); casefold maps each character on its own, so the
function applies the same per-character table, taken from Python at migration time:
`translate` for the characters folding to one character, `replace` for the few folding
to several. ASCII text (most of it) takes a shortcut. tests/api/test_online_migrations.py
compares it with `fold` over every character.
"""

from __future__ import annotations

import sys
from typing import Final

FOLD_FUNCTION: Final = "migration_fold"


def _mappings() -> tuple[dict[str, str], dict[str, str]]:
    single: dict[str, str] = {}
    multiple: dict[str, str] = {}
    for code in range(1, sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue
        character = chr(code)
        folded = character.casefold()
        if folded != character:
            (single if len(folded) == 1 else multiple)[character] = folded
    return single, multiple


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def create_fold_function() -> str:
    """CREATE OR REPLACE FUNCTION migration_fold(text): fold() in SQL."""
    single, multiple = _mappings()
    folded = f"translate(normalize($1, NFD), {_literal(''.join(single))}, "
    folded += f"{_literal(''.join(single.values()))})"
    for character, replacement in multiple.items():
        folded = f"replace({folded}, {_literal(character)}, {_literal(replacement)})"
    upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    ascii_folded = f"translate($1, '{upper}', '{upper.lower()}')"
    return (
        f"CREATE OR REPLACE FUNCTION {FOLD_FUNCTION}(text) RETURNS text"
        " LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fold$ SELECT CASE"
        f" WHEN octet_length($1) = char_length($1) THEN {ascii_folded}"
        f" ELSE normalize({folded}, NFC) END $fold$"
    )


def drop_fold_function() -> str:
    return f"DROP FUNCTION IF EXISTS {FOLD_FUNCTION}(text)"
