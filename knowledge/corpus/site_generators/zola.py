"""Zola: `config.toml` with `base_url`, `content/`, `path`, `slug`, dated file names, `[slugify] paths`.

Follows getzola.org/documentation/content/page and `components/content/src/page.rs`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from knowledge.corpus.site_generators.common import (
    URL_SAFE, PageFile, as_strings, clean_path, first_config, load_config_file, parse_date)

ZOLA_CONFIGS = ("config.toml", "zola.toml")
# Keys only Zola's config has (Hugo's would be camelCase or absent): used when `base_url` is missing.
_ZOLA_ONLY_KEYS = {"base_url", "compile_sass", "build_search_index", "generate_feeds", "generate_feed",
                   "feed_filenames", "default_language", "slugify", "link_checker"}
# Zola: a file or bundle name starting with a date (RFC 3339) then `_` or `-` (page.rs RFC3339_DATE).
_ZOLA_DATED = re.compile(
    r"^(?P<datetime>(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])(T([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9]|60)"
    r"(\.[0-9]+)?(Z|(\+|-)([01][0-9]|2[0-3]):([0-5][0-9])))?)(\s?(_|-)(?P<slug>.+$))?")


def zola_slugify(text: str, strategy: str) -> str:
    """Zola's slugify_paths: on = ASCII, lower case, hyphens; safe = only unsafe characters dropped; off."""
    if strategy == "off":
        return text
    if strategy == "safe":
        return re.sub(r"[<>:/|?*#()\[\]\"\\]", "", text.rstrip(" ."))
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


@dataclass
class ZolaRules:
    """Zola: `path` (verbatim), else the page's folders plus its slug; dated file names give date and slug."""

    slugify: str = "on"
    keep_dates: bool = False
    kind: str = "zola"

    def _dated(self, page: PageFile):
        return _ZOLA_DATED.match(page.name)

    def date(self, meta: dict, page: PageFile) -> tuple[str | None, str | None]:
        """(the front matter's date, else the dated file name's, None): Zola has no second source."""
        date = parse_date(meta.get("date"))
        match = self._dated(page)
        if date is None and match:
            date = parse_date(match.group("datetime"))
        return date, None

    def explicit_path(self, meta: dict, page: PageFile, date: str | None) -> str | None:
        """The front matter's `path`, verbatim, else None."""
        value = meta.get("path")
        if not isinstance(value, str) or not value.strip():
            return None
        path = value.strip()
        path = path if path.startswith("/") else "/" + path
        return quote(path if path.endswith("/") else path + "/", safe=URL_SAFE)

    def slug(self, meta: dict, page: PageFile) -> str:
        """The front matter's `slug`, else the file name without its date (unless kept), slugified as configured."""
        if isinstance(meta.get("slug"), str) and meta["slug"].strip():
            return zola_slugify(meta["slug"].strip(), self.slugify)
        match = self._dated(page)
        if match and match.group("slug") and not self.keep_dates:
            return zola_slugify(match.group("slug"), self.slugify)
        return zola_slugify(page.name, self.slugify)

    def pattern_path(self, meta: dict, page: PageFile, date: str, raw_title: str, slug: str,
                     categories: list[str]) -> str:
        """`/<folders>/<slug>/`."""
        return quote(clean_path("/" + "/".join([*page.dirs, slug]) + "/"), safe=URL_SAFE)

    def aliases(self, meta: dict, page: PageFile) -> list[str]:
        """Redirects, relative to base_url; a name not ending in .html is a folder (Zola's render_alias)."""
        out = []
        for alias in as_strings(meta.get("aliases")):
            path = "/" + alias.strip().lstrip("/")
            out.append(quote(path if path.endswith((".html", "/")) else path + "/", safe=URL_SAFE))
        return out


def zola_config(root: Path) -> tuple[dict, str | None] | None:
    """(the Zola config at `root`, None) when there is one (a Hugo config file there wins), else None."""
    path = first_config(root, ZOLA_CONFIGS)
    if path is None or first_config(root, ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json")):
        return None
    data, problem = load_config_file(path)
    if problem or not (_ZOLA_ONLY_KEYS & set(data)):
        return None
    return data, None
