"""Markdown (with Liquid and HTML fragments) to clean text, split into sections by heading."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser

from markdown_it import MarkdownIt

_MD = MarkdownIt("commonmark").enable("table")
# {{ "/article/x/" | relative_url }} -> /article/x/   ({{ site.url }} etc. -> nothing)
_LIQUID_OUTPUT = re.compile(r"\{\{\s*(?:(['\"])(.*?)\1)?[^}]*\}\}")
_LIQUID_HIGHLIGHT = re.compile(r"\{%-?\s*highlight\s+(\w+)[^%]*-?%\}")
_LIQUID_END_HIGHLIGHT = re.compile(r"\{%-?\s*endhighlight\s*-?%\}")
_LIQUID_RAW = re.compile(r"\{%-?\s*(?:end)?raw\s*-?%\}")
_LIQUID_RAW_BLOCK = re.compile(r"\{%-?\s*raw\s*-?%\}(.*?)\{%-?\s*endraw\s*-?%\}", re.S)
_LIQUID_TAG = re.compile(r"\{%.*?%\}", re.S)
_SPACES = re.compile(r"[ \t\u00a0]+")


@dataclass
class Block:
    """A paragraph, list item, table row, HTML fragment or code block, as plain text."""

    text: str
    is_code: bool = False
    further_reading: bool = False   # a line of link titles only


@dataclass
class Section:
    """A heading (empty before the first one) and the text blocks under it."""

    heading: str
    blocks: list[Block] = field(default_factory=list)


_CELL_END = "\x1f"
_INLINE_SKIP = re.compile(r"<(script|style)\b[^>]*>", re.I)   # inline tags whose contents are not text


class _HTMLText(HTMLParser):
    """Collects an HTML fragment's visible text in `parts`, a line break at block tags and a cell mark at cells."""

    _SKIP = {"script", "style", "iframe", "noscript", "svg"}
    _BREAKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "table"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Start skipping (scripts, styles…), break the line, mark a cell, or take an image's alt text."""
        if tag in self._SKIP:
            self.skipping += 1
        elif tag in self._BREAKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):       # a cell may leave out its end tag
            self.parts.append(_CELL_END)
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.parts.append(alt)

    def handle_endtag(self, tag: str) -> None:
        """Stop skipping, break the line or mark the cell's end."""
        if tag in self._SKIP and self.skipping:
            self.skipping -= 1
        elif tag in self._BREAKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(_CELL_END)

    def handle_data(self, data: str) -> None:
        """Keep the text unless inside a skipped element."""
        if not self.skipping:
            self.parts.append(data)


def html_to_text(fragment: str) -> str:
    """Visible text of an HTML fragment (scripts, styles and iframes dropped)."""
    parser = _HTMLText()
    parser.feed(fragment)
    parser.close()
    lines = ("".join(parser.parts)).splitlines()
    # Cells of a row on one line, as " | " between them (like a markdown table's rows).
    lines = (" | ".join(c for c in (_SPACES.sub(" ", cell).strip() for cell in line.split(_CELL_END)) if c)
             for line in lines)
    return "\n".join(line for line in lines if line)


def resolve_liquid(markdown: str) -> str:
    """Replace Jekyll Liquid: quoted link values kept, highlight blocks made fences, other tags dropped.

    Text between {% raw %} and {% endraw %} is kept as written, as Jekyll prints it.
    """
    parts = _LIQUID_RAW_BLOCK.split(markdown)   # odd items: the insides of raw blocks
    return "".join(part if number % 2 else _resolve_liquid_outside_raw(part) for number, part in enumerate(parts))


def _resolve_liquid_outside_raw(markdown: str) -> str:
    markdown = _LIQUID_HIGHLIGHT.sub(lambda m: f"```{m.group(1)}", markdown)
    markdown = _LIQUID_END_HIGHLIGHT.sub("```", markdown)
    markdown = _LIQUID_RAW.sub("", markdown)
    markdown = _LIQUID_OUTPUT.sub(lambda m: m.group(2) or "", markdown)
    return _LIQUID_TAG.sub("", markdown)


def _inline_text(token) -> str:
    parts: list[str] = []
    skipping = ""     # inside an inline <script> or <style>: its contents are code, not text
    for child in token.children or []:
        if skipping:
            if child.type == "html_inline" and child.content.lower().startswith(f"</{skipping}"):
                skipping = ""
            continue
        if child.type == "html_inline" and (opened := _INLINE_SKIP.match(child.content)) \
                and not child.content.rstrip().endswith("/>"):
            skipping = opened.group(1).lower()
        elif child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)  # the alt text
        elif child.type == "html_inline":
            if child.content.lower().startswith("<br"):
                parts.append(" ")
    return _SPACES.sub(" ", unescape("".join(parts))).strip()


_LINK_SEPARATORS = " \t,;:.-\u2013\u2014|/\u00b7\u2022()"
FURTHER_READING_WORDS = 3   # link text of this many words or more is a title to read elsewhere


def _further_reading(token, tokens: list, index: int) -> bool:
    """Whether an inline (at `index` in `tokens`) is only the titles of links, as in a list of
    further reading: without their addresses such a line tells a reader nothing. Kept: short link
    texts (they name a thing: "[Tekton](…)"), a link that is a whole sentence, a bare address
    (<https://…>), and a list item with items of its own under it."""
    depth, linked = 0, []
    for child in token.children or []:
        if child.type == "link_open":
            if child.markup == "autolink":
                return False
            depth += 1
        elif child.type == "link_close":
            depth -= 1
        elif child.type == "image":
            return False
        elif child.type in ("text", "code_inline") and child.content.strip(_LINK_SEPARATORS):
            if not depth:
                return False
            linked.append(child.content)
    text = " ".join(linked).strip()
    if len(text.split()) < FURTHER_READING_WORDS or text.endswith((".", "!", "?")):
        return False
    after = [t.type for t in tokens[index + 1:index + 3]]
    return not ("bullet_list_open" in after or "ordered_list_open" in after)


def markdown_sections(markdown: str) -> list[Section]:
    """Clean text of a post body, grouped by heading. Code blocks are kept verbatim; lines that are
    only link titles (further reading) are left out, unless the post has nothing else."""
    tokens = _MD.parse(resolve_liquid(markdown))
    sections = [Section(heading="")]
    row: list[str] = []
    in_heading = in_list_item = in_cell = False
    for index, token in enumerate(tokens):
        kind = token.type
        if kind == "heading_open":
            in_heading = True
        elif kind == "heading_close":
            in_heading = False
        elif kind == "list_item_open":
            in_list_item = True
        elif kind == "list_item_close":
            in_list_item = False
        elif kind in ("th_open", "td_open"):
            in_cell = True
        elif kind in ("th_close", "td_close"):
            in_cell = False
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close":
            if any(row):
                sections[-1].blocks.append(Block(" | ".join(row)))
        elif kind == "inline":
            text = _inline_text(token)
            if in_heading:
                sections.append(Section(heading=text))
            elif in_cell:
                row.append(text)
            elif text:
                sections[-1].blocks.append(Block(f"- {text}" if in_list_item else text,
                                                 further_reading=_further_reading(token, tokens, index)))
        elif kind in ("fence", "code_block"):
            code = token.content.strip("\n")
            if code.strip():
                sections[-1].blocks.append(Block(code, is_code=True))
        elif kind == "html_block":
            text = html_to_text(token.content)
            if text:
                sections[-1].blocks.append(Block(text))
    if any(not b.further_reading for s in sections for b in s.blocks):   # a post of links only keeps them
        for section in sections:
            section.blocks = [b for b in section.blocks if not b.further_reading]
    return [s for s in sections if s.blocks or s.heading]

