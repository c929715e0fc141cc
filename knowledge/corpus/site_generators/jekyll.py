"""Jekyll (and plain folders of Markdown): `permalink`, the site's pattern, dated file names.

Follows jekyllrb.com/docs/permalinks.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from knowledge.corpus.site_generators.common import PageFile, as_strings, parse_date, slugify, valid_date

JEKYLL_CONFIGS = ("_config.yml", "_config.yaml")
JEKYLL_STYLES = {
    "date": "/:categories/:year/:month/:day/:title.html",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title.html",
    "none": "/:categories/:title.html",
}
_JEKYLL_DATED = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})-(.+)$")


@dataclass
class JekyllRules:
    """Jekyll (and plain folders): `permalink` / `custom_permalink`, else the site's pattern."""

    pattern: str
    kind: str = "jekyll"

    def dated_name(self, page: PageFile) -> tuple[str | None, str]:
        """(the date of a `YYYY-MM-DD-name` file name or None, the name without it)."""
        match = _JEKYLL_DATED.match(page.name)
        if not match:
            return None, page.name
        return valid_date(*match.groups()[:3]), match.group(4)

    def date(self, meta: dict, page: PageFile) -> tuple[str | None, str | None]:
        """(date from front matter else from the file name, None): Jekyll has no second source."""
        return parse_date(meta.get("date")) or self.dated_name(page)[0], None

    def explicit_path(self, meta: dict, page: PageFile, date: str | None) -> str | None:
        """The front matter's `permalink` (or `custom_permalink`), else None."""
        value = meta.get("permalink")
        if isinstance(value, str) and value.strip():
            return "/" + value.strip().lstrip("/")
        custom = meta.get("custom_permalink")
        if isinstance(custom, list) and custom:
            custom = custom[0]
        if isinstance(custom, str) and custom.strip():
            return "/" + custom.strip().lstrip("/")
        return None

    def slug(self, meta: dict, page: PageFile) -> str:
        """The front matter's `slug`, else the file name without its date, slugged."""
        return str(meta.get("slug") or "").strip() or slugify(self.dated_name(page)[1]) or "post"

    def pattern_path(self, meta: dict, page: PageFile, date: str, raw_title: str, slug: str,
                     categories: list[str]) -> str:
        """The address by the site's permalink pattern."""
        return expand_jekyll(self.pattern, date, slug, categories)

    def aliases(self, meta: dict, page: PageFile) -> list[str]:
        """jekyll-redirect-from's `redirect_from`."""
        return ["/" + a.lstrip("/") for a in as_strings(meta.get("redirect_from"))]


def expand_jekyll(pattern: str, date: str, slug: str, categories: list[str]) -> str:
    """A Jekyll permalink pattern (`/:categories/:year/:month/:day/:title.html`) filled in."""
    year, month, day = date.split("-")
    day_of_year = dt.date.fromisoformat(date).timetuple().tm_yday
    values = {
        ":categories": "/".join(slugify(c) for c in categories),
        ":year": year, ":month": month, ":i_month": str(int(month)), ":day": day,
        ":i_day": str(int(day)), ":y_day": f"{day_of_year:03d}",
        ":short_year": year[2:], ":title": slug, ":slug": slug, ":output_ext": ".html",
    }
    for key in sorted(values, key=len, reverse=True):
        pattern = pattern.replace(key, values[key])
    return re.sub(r"/{2,}", "/", "/" + pattern)
