"""Markdown written safely: text that came from a reader, put into a message, stays text.

Every message the assistant sends is Markdown. A reader's words that the assistant echoes (a topic,
a title asked for) are escaped with `escape_markdown`, so `[win](https://evil.example)` or `<b>` is
shown as typed and never becomes a link or markup in any channel; each channel's renderer honours
the backslash escapes (`unescape_markdown` for plain text).
"""

from __future__ import annotations

import re

# ASCII punctuation that can start Markdown markup (CommonMark lets a backslash escape any of it).
_MARKUP = re.compile(r"([\\`*_\[\]()<>!#|~&])")
# A Python string holds astral characters whole, so any surrogate code point in it is unpaired.
_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def escape_markdown(text: str) -> str:
    """`text` as literal Markdown: whitespace runs collapsed to one space, markup characters escaped."""
    return _MARKUP.sub(r"\\\1", " ".join(str(text).split()))


def unescape_markdown(text: str) -> str:
    """Markdown's backslash escapes removed (for channels that show plain text)."""
    return _ESCAPED.sub(r"\1", text)


def unicode_problem(text: str) -> str | None:
    """Why `text` is not valid Unicode (a lone surrogate such as \\ud800), or None when it is."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"the text is not valid Unicode (an unpaired surrogate at character {exc.start})"
    return None


def valid_unicode(text: str) -> str:
    """`text` with anything that is not valid Unicode replaced by U+FFFD: the last guard before a
    tokenizer, which raises on lone surrogates."""
    return _SURROGATE.sub("\ufffd", text)
