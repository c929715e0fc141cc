"""A post file's front matter and the metadata read from it: the YAML/TOML/JSON block, whether the
post is published, its authors (from the front matter or a byline at the top of the text)."""

from __future__ import annotations

import html
import json
import re
import tomllib

import yaml

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_FRONT_MATTER = re.compile(r"\A\ufeff?(?:[ \t]*\r?\n)*(---|\+\+\+)[ \t]*\r?\n(.*?)^\1[ \t]*(?:\r?\n|\Z)", re.S | re.M)
_LEADING_BLANKS = re.compile(r"\A\ufeff?\s*")


def decode_text(raw: bytes) -> tuple[str | None, str | None]:
    """Text of a file, or (None, reason) for a binary one; a second value is a warning."""
    if b"\x00" in raw[:8192]:
        return None, "binary file"
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), "not UTF-8; read as Windows-1252"


def as_list(value: object) -> list[str]:
    """Tags or categories as a list: a list, one value, or a string of comma- or space-separated ones."""
    if value is None:
        return []
    if isinstance(value, str):
        parts = re.split(r"[,\s]+", value) if "," in value or " " in value else [value]
        return [p.strip() for p in parts if p.strip()]
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    return [str(value)]


def front_matter_authors(meta: dict) -> list[str]:
    """`authors` (a list or one name) and `author` (a name, a list, or a mapping with a name), in order."""
    names: list[str] = []
    for key in ("authors", "author"):
        value = next((v for k, v in meta.items() if str(k).lower() == key), None)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                item = item.get("name") or item.get("display_name")
            if isinstance(item, (str, int, float)) and not isinstance(item, bool) and str(item).strip():
                name = str(item).strip()
                if name not in names:
                    names.append(name)
    return names


_MARKUP = r"(?:\*\*|__|<b>|</b>|<strong>|</strong>|\*|_)?"
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_BYLINE_LINES = 3     # a byline comes first: it is looked for among the first three lines with text


def byline_pattern(labels: list[str]) -> re.Pattern | None:
    """A line that starts with one of `labels` (bold or not) and a colon: "**Authors:** A (X), B"."""
    labels = [re.escape(label.strip()).replace("\\ ", r"\s+") for label in labels if label.strip()]
    if not labels:
        return None
    return re.compile(rf"^\s*{_MARKUP}\s*(?:{'|'.join(sorted(labels, key=len, reverse=True))})\s*{_MARKUP}\s*:"
                      rf"\s*{_MARKUP}\s*(.*)$", re.I)


def byline_authors(body: str, pattern: re.Pattern | None) -> list[str]:
    """The names of a byline among the body's first lines ("**Author:** Jane Doe (Example Corp)"),
    with affiliations and links dropped; names on the lines after a bare "**Authors:**" count too."""
    if pattern is None:
        return []
    lines = body.splitlines()
    seen = 0
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        seen += 1
        if seen > _BYLINE_LINES:
            return []
        match = pattern.match(line)
        if not match:
            continue
        text = match.group(1).strip()
        if not text:      # the names follow, up to the next blank line
            rest = []
            for following in lines[number + 1:]:
                if not following.strip():
                    break
                rest.append(following.strip().lstrip("-*+ ").strip())
            text = "; ".join(rest)
        return _names(text)
    return []


def _names(text: str) -> list[str]:
    """"A (X), B and C (Y)" -> [A, B, C]; "A, Title, Org; B, Title, Org" -> [A, B]; "A, Org" -> [A]
    (without parentheses a comma ends the name, as in "Name, Title, Company"); "A and B" -> [A, B];
    "A, Org & B, Org" -> [A, B]."""
    text = _LINK.sub(r"\1", html.unescape(text)).replace("*", "").replace("<br>", ";")
    names: list[str] = []
    parts = [p for p in re.split(r";", text) if p.strip()]
    for part in parts:
        if "(" in part:
            items = re.split(r",(?![^(]*\))|\s+and\s+|\s+&\s+", part)
        else:      # "Name, Title, Org": the name comes first, in each of "A, Org & B, Org"
            items = [group.split(",")[0] for group in re.split(r"\s+and\s+|\s+&\s+", part)]
        for item in items:
            name = " ".join(re.sub(r"\([^)]*\)?", " ", item).strip(" _.:").split())
            if name and name[0].isalpha() and len(name.split()) <= 5 and name not in names:
                names.append(name)
    return names


def split_front_matter(text: str, json_allowed: bool = False) -> tuple[dict, str, Exception | None]:
    """(front matter, body, the error when the front matter is there but not valid)."""
    match = _FRONT_MATTER.match(text)
    if match:
        fence, block = match.group(1), match.group(2)
        body = text[match.end():]
        try:
            loaded = tomllib.loads(block) if fence == "+++" else yaml.load(block, Loader=_YAML_LOADER)
            if loaded is None:
                loaded = {}
            if not isinstance(loaded, dict):
                raise ValueError("front matter is not a mapping")
            return loaded, body, None
        except (yaml.YAMLError, tomllib.TOMLDecodeError, ValueError) as exc:
            return {}, body, exc
    start = _LEADING_BLANKS.match(text).end()
    if json_allowed and text.startswith("{", start):     # Hugo: JSON front matter, `{ ... }`
        try:
            loaded, end = json.JSONDecoder().raw_decode(text, start)
            if isinstance(loaded, dict):
                return loaded, text[end:].lstrip("\r\n"), None
        except ValueError:
            pass
    return {}, text, None


def not_published(meta: dict, kind: str) -> str | None:
    """Why the generator would not publish this post (draft, headless, build.render), or None."""
    if meta.get("published") is False or meta.get("draft") is True:
        return "marked as draft / not published"
    if kind == "hugo":
        if meta.get("headless") is True:
            return "a headless bundle (Hugo does not publish it)"
        for key in ("build", "_build"):
            build = meta.get(key)
            if isinstance(build, dict) and str(build.get("render", "")).lower() in ("never", "false"):
                return f"{key}.render says it is not published"
    return None
