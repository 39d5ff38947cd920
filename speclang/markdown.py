"""The spec's Markdown as a tree of heading sections holding paragraphs, tables and items."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token

from speclang.errors import SpecError


@dataclass
class Cell:
    """One table cell: its Markdown source and its text with code spans kept whole."""

    source: str
    parts: list[tuple[str, bool]]  # (text, is_code) in order

    @property
    def text(self) -> str:
        return "".join(text for text, _ in self.parts).strip()

    def split(self, separator: str) -> list[str]:
        """Split on `separator` outside code spans (so a pattern may contain it)."""
        pieces = [""]
        for text, is_code in self.parts:
            if is_code:
                pieces[-1] += text
                continue
            chunks = text.split(separator)
            pieces[-1] += chunks[0]
            pieces.extend(chunks[1:])
        return [piece.strip() for piece in pieces if piece.strip()]


@dataclass
class Row:
    line: int
    cells: dict[str, Cell]

    def text(self, column: str) -> str:
        return self.cells[column].text


@dataclass
class Table:
    line: int
    columns: list[str]
    rows: list[Row]


@dataclass
class Item:
    line: int
    text: str
    source: str = ""  # the item's Markdown, code spans and emphasis kept
    code: list[str] = field(default_factory=list)  # the text of its code spans


@dataclass
class Fence:
    """A fenced code block: its info string (`json request`) and its text."""

    line: int
    info: str
    content: str


@dataclass
class Section:
    level: int
    title: str
    line: int
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    fences: list[Fence] = field(default_factory=list)
    children: list[Section] = field(default_factory=list)

    def child(self, title: str) -> Section | None:
        return next((s for s in self.children if s.title.lower() == title.lower()), None)

    def require_child(self, title: str) -> Section:
        found = self.child(title)
        if found is None:
            raise SpecError(self.line, f"missing required section '{title}' under '{self.title}'")
        return found

    def table(self, columns: Sequence[str]) -> Table:
        """The section's one table, which must have exactly these columns."""
        if not self.tables:
            raise SpecError(
                self.line,
                f"section '{self.title}' needs a table with columns {' | '.join(columns)}",
            )
        if len(self.tables) > 1:
            raise SpecError(self.tables[1].line, f"section '{self.title}' has a second table")
        table = self.tables[0]
        if [c.lower() for c in table.columns] != [c.lower() for c in columns]:
            raise SpecError(
                table.line,
                f"table columns are {' | '.join(table.columns)}; expected {' | '.join(columns)}",
            )
        # Column names match case-insensitively; key the cells by the names callers use.
        rows = [Row(r.line, dict(zip(columns, r.cells.values(), strict=True))) for r in table.rows]
        return Table(table.line, list(columns), rows)

    def options(self) -> dict[str, Item]:
        """`- Key: value` bullet items, by lower-case key."""
        found: dict[str, Item] = {}
        for item in self.items:
            key, colon, value = item.text.partition(":")
            if not colon or not value.strip():
                raise SpecError(item.line, f"list item '{item.text}' is not 'Key: value'")
            found[key.strip().lower()] = Item(item.line, value.strip())
        return found


def inline_parts(token: Token) -> list[tuple[str, bool]]:
    parts: list[tuple[str, bool]] = []
    for child in token.children or []:
        if child.type == "code_inline":
            parts.append((child.content, True))
        elif child.type in ("text", "html_inline"):
            parts.append((child.content, False))
        elif child.type in ("softbreak", "hardbreak"):
            parts.append((" ", False))
    return parts


def count_cells(source_line: str) -> int:
    """Cells of a pipe-table row as GFM splits it: on pipes not escaped by a backslash."""
    stripped = source_line.strip()
    pipes = [m.start() for m in re.finditer(r"(?<!\\)\|", stripped)]
    count = len(pipes) + 1
    if stripped.startswith("|"):
        count -= 1
    if stripped.endswith("|") and not stripped.endswith("\\|"):
        count -= 1
    return count


def read_sections(text: str) -> Section:
    """Parse Markdown into a tree of heading sections holding paragraphs, tables and items."""
    md = MarkdownIt("commonmark").enable("table")
    tokens = md.parse(text)
    # Split lines as markdown-it does: str.splitlines() also breaks on form feeds and U+2028,
    # which would shift the source lines that count_cells() reads.
    lines = re.split(r"\r\n?|\n", text)
    root = Section(level=0, title="(document)", line=1)
    stack = [root]
    index = 0
    while index < len(tokens):
        token = tokens[index]
        line = token.map[0] + 1 if token.map else 0
        if token.type == "heading_open":
            level = int(token.tag[1])
            title = "".join(text for text, _ in inline_parts(tokens[index + 1])).strip()
            section = Section(level=level, title=title, line=line)
            while stack[-1].level >= level:
                stack.pop()
            stack[-1].children.append(section)
            stack.append(section)
            index += 3
            continue
        if token.type == "paragraph_open" and token.level == 0:
            if tokens[index + 1].content.startswith("|"):
                # A blank line inside a table ends it; the rows after it become a paragraph.
                raise SpecError(
                    line,
                    "table row outside a table (a blank line inside the "
                    "table, or a missing |---| line under its header?)",
                )
            # Soft line breaks are spaces in Markdown; keep paragraphs as one line each.
            stack[-1].paragraphs.append(" ".join(tokens[index + 1].content.split("\n")).strip())
            index += 3
            continue
        if token.type == "bullet_list_open" and token.level == 0:
            index = read_items(tokens, index, stack[-1])
            continue
        if token.type == "table_open":
            index = read_table(tokens, index, lines, stack[-1])
            continue
        if token.type == "fence" and token.level == 0:
            stack[-1].fences.append(Fence(line, token.info.strip(), token.content))
        index += 1
    return root


def read_items(tokens: list[Token], index: int, section: Section) -> int:
    depth = 0
    while True:
        token = tokens[index]
        if token.type == "bullet_list_open":
            depth += 1
        elif token.type == "bullet_list_close":
            depth -= 1
            if depth == 0:
                return index + 1
        elif token.type == "inline" and depth == 1:
            line = token.map[0] + 1 if token.map else 0
            parts = inline_parts(token)
            section.items.append(
                Item(
                    line,
                    "".join(text for text, _ in parts).strip(),
                    source=" ".join(token.content.split("\n")).strip(),
                    code=[text for text, is_code in parts if is_code],
                )
            )
        index += 1


def read_table(tokens: list[Token], index: int, lines: list[str], section: Section) -> int:
    start = tokens[index]
    table = Table(line=start.map[0] + 1 if start.map else 0, columns=[], rows=[])
    row_cells: list[Cell] = []
    row_line = 0
    in_head = False
    while tokens[index].type != "table_close":
        token = tokens[index]
        if token.type == "thead_open":
            in_head = True
        elif token.type == "thead_close":
            in_head = False
        elif token.type == "tr_open":
            row_cells = []
            row_line = token.map[0] + 1 if token.map else 0
        elif token.type == "inline":
            row_cells.append(Cell(token.content, inline_parts(token)))
        elif token.type == "tr_close":
            if in_head:
                table.columns = [cell.text for cell in row_cells]
            else:
                found = count_cells(lines[row_line - 1])
                if found != len(table.columns):
                    raise SpecError(
                        row_line,
                        f"malformed table row: {found} cells, "
                        f"the table has {len(table.columns)} columns",
                    )
                table.rows.append(Row(row_line, dict(zip(table.columns, row_cells, strict=True))))
        index += 1
    section.tables.append(table)
    return index + 1
