"""Static site generators: where a site keeps its posts and the address it publishes each one at.

Jekyll (`_config.yml`, `_posts/`), Hugo (`hugo.toml`/`config.*`, `contentDir`, `[permalinks]`) and Zola
(`config.toml` with `base_url`, `content/`, `path`). Each rule follows the generator's documentation and,
where that is silent, its source:
- Hugo: gohugo.io/content-management/urls (`url`, `slug`, `aliases`), /configuration/permalinks (map,
  `[permalinks.page]` and array forms, tokens), /configuration/front-matter (`[frontmatter] date`,
  `:filename`); `paths.Sanitize` (what urlize keeps) and `page.CreateTargetPaths` (lower case, ugly URLs).
- Zola: getzola.org/documentation/content/page (`path`, `slug`, dated file names, `[slugify] paths`);
  `components/content/src/page.rs`.
- Jekyll: jekyllrb.com/docs/permalinks.

Generator defaults (Hugo's `content` folder, its date keys, Zola's slug strategy) are facts about those
tools, not tuning knobs, so they are constants here rather than settings.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath
from urllib.parse import quote

import yaml

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

JEKYLL_CONFIGS = ("_config.yml", "_config.yaml")
# Hugo reads the first of these at the site root (gohugo.io/configuration/introduction).
HUGO_CONFIGS = ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json", "config.toml", "config.yaml", "config.yml", "config.json")
HUGO_DEFAULT_CONTENT_DIR = "content"
# Hugo's default `[frontmatter] date` sources, with the aliases it adds (page_frontmatter.go).
HUGO_DEFAULT_DATE_KEYS = ["date", "publishdate", "pubdate", "published", "lastmod", "modified"]
_HUGO_DATE_ALIASES = {"publishdate": ["pubdate", "published"], "lastmod": ["modified"], "expirydate": ["unpublishdate"]}
ZOLA_CONFIGS = ("config.toml", "zola.toml")
# Keys only Zola's config has (Hugo's would be camelCase or absent): used when `base_url` is missing.
_ZOLA_ONLY_KEYS = {"base_url", "compile_sass", "build_search_index", "generate_feeds", "generate_feed",
                   "feed_filenames", "default_language", "slugify", "link_checker"}

JEKYLL_STYLES = {
    "date": "/:categories/:year/:month/:day/:title.html",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title.html",
    "none": "/:categories/:title.html",
}
# Zola: a file or bundle name starting with a date (RFC 3339) then `_` or `-` (page.rs RFC3339_DATE).
_ZOLA_DATED = re.compile(
    r"^(?P<datetime>(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])(T([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9]|60)"
    r"(\.[0-9]+)?(Z|(\+|-)([01][0-9]|2[0-3]):([0-5][0-9])))?)(\s?(_|-)(?P<slug>.+$))?")
_JEKYLL_DATED = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})-(.+)$")
_PATH_DATE = re.compile(r"(?:^|/)(\d{4})/(\d{1,2})/(\d{1,2})(?:/|$)")
_URL_SAFE = "/#%+~._-!$&'()*,;=:@"


def load_config_file(path: Path) -> tuple[dict, str | None]:
    """A TOML, YAML or JSON config file as a mapping, or ({}, the reason it cannot be read)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".toml":
            data = tomllib.loads(text)
        elif path.suffix == ".json":
            data = json.loads(text)
        else:
            data = yaml.load(text, Loader=_YAML_LOADER)
    except (OSError, ValueError, yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        return {}, (str(exc).splitlines() or [type(exc).__name__])[0]
    return (data, None) if isinstance(data, dict) else ({}, None)


def lower_keys(value):
    """Hugo's configuration and front matter keys are case-insensitive: `baseURL` is `baseurl`."""
    if isinstance(value, dict):
        return {str(k).lower(): lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [lower_keys(v) for v in value]
    return value


def slugify(text: str) -> str:
    """Lowercase, words joined by hyphens: the way Jekyll slugs names."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def valid_date(year, month, day) -> str | None:
    try:
        return dt.date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return None


def date_in_path(path: str) -> str | None:
    """YYYY-MM-DD of a `/YYYY/MM/DD/` run in an address, if any."""
    match = _PATH_DATE.search(path or "")
    return valid_date(*match.groups()) if match else None


def clean_path(path: str) -> str:
    """/-rooted, no empty or `.` segments, `..` resolved; a trailing slash is kept."""
    trailing = path.endswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    joined = "/" + "/".join(parts)
    return joined + "/" if trailing and joined != "/" else joined


def has_extension(path: str) -> bool:
    return "." in PurePosixPath(path.rstrip("/")).name and not path.endswith("/")


@dataclass
class PageFile:
    """Where a content file sits: what the generators build addresses and dates from."""

    rel: PurePosixPath        # path relative to the content folder
    name: str                 # base name: file stem without language suffix, or the bundle's folder name
    dirs: tuple[str, ...]     # folders from the content folder to the page (a bundle's own folder excluded)
    bundle: bool              # `<name>/index.md`
    mtime: float = 0.0


# -- Jekyll and plain folders ---------------------------------------------------------------------


@dataclass
class JekyllRules:
    """Jekyll (and plain folders): `permalink` / `custom_permalink`, else the site's pattern."""

    pattern: str
    kind: str = "jekyll"

    def dated_name(self, page: PageFile) -> tuple[str | None, str]:
        match = _JEKYLL_DATED.match(page.name)
        if not match:
            return None, page.name
        return valid_date(*match.groups()[:3]), match.group(4)

    def date(self, meta: dict, page: PageFile) -> tuple[str | None, str | None]:
        """(date from front matter else from the file name, None): Jekyll has no second source."""
        return parse_date(meta.get("date")) or self.dated_name(page)[0], None

    def explicit_path(self, meta: dict, page: PageFile, date: str | None) -> str | None:
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
        return str(meta.get("slug") or "").strip() or slugify(self.dated_name(page)[1]) or "post"

    def pattern_path(self, meta: dict, page: PageFile, date: str, raw_title: str, slug: str,
                     categories: list[str]) -> str:
        return expand_jekyll(self.pattern, date, slug, categories)

    def aliases(self, meta: dict, page: PageFile) -> list[str]:
        """jekyll-redirect-from's `redirect_from`."""
        return ["/" + a.lstrip("/") for a in as_strings(meta.get("redirect_from"))]


def expand_jekyll(pattern: str, date: str, slug: str, categories: list[str]) -> str:
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


# -- Hugo -----------------------------------------------------------------------------------------


def hugo_sanitize(text: str) -> str:
    """Hugo's paths.Sanitize: letters, digits, marks and `./\\_#+~` (and %XX) kept; runs of spaces and
    hyphens become one hyphen between kept characters; everything else dropped."""
    out: list[str] = []
    hyphen = False
    for i, ch in enumerate(text):
        category = unicodedata.category(ch)
        allowed = ch != " " and (category[0] in "LM" or category == "Nd" or ch in "./\\_#+~" or (
            ch == "%" and re.fullmatch(r"[0-9A-Fa-f]{2}", text[i + 1:i + 3] or "") is not None))
        if allowed:
            if hyphen:
                out.append("-")
                hyphen = False
            out.append(ch)
        elif out and (ch == "-" or ch.isspace()):
            hyphen = True
    return "".join(out)


_GO_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December"]
_GO_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
# Go time-layout elements (time.Format), longest first; a date has no time of day, so those are zero.
_GO_LAYOUT = re.compile(r"January|Monday|2006|Jan|Mon|002|_2|01|02|06|15|03|04|05|PM|pm|1|2|3|4|5")


def go_time_format(layout: str, date: dt.date) -> str:
    def element(match: re.Match) -> str:
        token = match.group(0)
        return {
            "January": _GO_MONTHS[date.month - 1], "Jan": _GO_MONTHS[date.month - 1][:3],
            "Monday": _GO_DAYS[date.weekday()], "Mon": _GO_DAYS[date.weekday()][:3],
            "2006": f"{date.year:04d}", "06": f"{date.year % 100:02d}", "01": f"{date.month:02d}",
            "1": str(date.month), "02": f"{date.day:02d}", "2": str(date.day), "_2": f"{date.day:>2}",
            "002": f"{date.timetuple().tm_yday:03d}", "15": "00", "03": "12", "3": "12", "04": "00",
            "4": "0", "05": "00", "5": "0", "PM": "AM", "pm": "am",
        }[token]
    return _GO_LAYOUT.sub(element, layout)


def _glob_regex(glob: str) -> re.Pattern:
    """A Hugo page-matcher glob (gobwas: `**`, `*`, `?`, `{a,b}`, `[...]`) as a regex."""
    out, i, depth = [], 0, 0
    while i < len(glob):
        ch = glob[i]
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "{":
            out.append("(?:")
            depth += 1
        elif ch == "}" and depth:
            out.append(")")
            depth -= 1
        elif ch == "," and depth:
            out.append("|")
        elif ch == "[":
            end = glob.find("]", i)
            if end > i:
                out.append("[" + glob[i + 1:end].replace("!", "^", 1) + "]")
                i = end + 1
                continue
            out.append(re.escape(ch))
        else:
            out.append(re.escape(ch))
        i += 1
    try:
        return re.compile("".join(out) + "$")
    except re.error:
        return re.compile(re.escape(glob) + "$")


@dataclass
class PermalinkRule:
    pattern: str
    section: tuple[str, ...] | None = None   # map forms: the section it applies to (() = root pages)
    path: re.Pattern | None = None           # array form: target.path
    kind: re.Pattern | None = None           # array form: target.kind

    def matches(self, page: PageFile, page_path: str) -> bool:
        if self.section is not None:
            dirs = tuple(d.lower() for d in page.dirs)
            return dirs == () if self.section == () else dirs[:len(self.section)] == self.section
        if self.kind is not None and not self.kind.match("page"):
            return False
        return self.path is None or bool(self.path.match(page_path))


def hugo_permalink_rules(config: dict) -> list[PermalinkRule]:
    """`[permalinks]` in all three forms: section -> pattern, `[permalinks.page]`, `[[permalinks]]`."""
    value = config.get("permalinks")
    rules: list[PermalinkRule] = []
    if isinstance(value, list):
        for entry in value:
            if not isinstance(entry, dict) or not isinstance(entry.get("pattern"), str):
                continue
            target = entry.get("target") if isinstance(entry.get("target"), dict) else {}
            path, kind = target.get("path"), target.get("kind")
            rules.append(PermalinkRule(entry["pattern"], path=_glob_regex(path) if isinstance(path, str) else None,
                                       kind=_glob_regex(kind) if isinstance(kind, str) else None))
        return rules
    if not isinstance(value, dict):
        return rules
    sections = {k: v for k, v in value.items() if isinstance(v, str)}
    if isinstance(value.get("page"), dict):
        sections.update({k: v for k, v in value["page"].items() if isinstance(v, str)})
    for section, pattern in sections.items():
        key = tuple(p for p in str(section).lower().strip(" /").split("/") if p)
        rules.append(PermalinkRule(pattern, section=key))
    rules.sort(key=lambda r: len(r.section or ()), reverse=True)   # the most specific section first
    return rules


def hugo_date_sources(config: dict) -> list[str]:
    """`[frontmatter] date`, with `:default` expanded and Hugo's aliases added."""
    front = config.get("frontmatter")
    wanted = front.get("date") if isinstance(front, dict) else None
    if isinstance(wanted, str):
        wanted = [wanted]
    if not isinstance(wanted, list) or not wanted:
        return list(HUGO_DEFAULT_DATE_KEYS)
    sources: list[str] = []
    for item in (str(w).lower() for w in wanted):
        for key in (HUGO_DEFAULT_DATE_KEYS if item == ":default" else [item, *_HUGO_DATE_ALIASES.get(item, [])]):
            if key not in sources:
                sources.append(key)
    return sources


@dataclass
class HugoRules:
    """Hugo: `url` (overrides all), else the section's permalink pattern, else `/<folders>/<slug or name>/`."""

    content_dir: Path = field(repr=False)     # for :sections (which folders have an _index page)
    permalinks: list[PermalinkRule] = field(default_factory=list)
    date_sources: list[str] = field(default_factory=lambda: list(HUGO_DEFAULT_DATE_KEYS))
    ugly: bool | dict = False
    lower: bool = True
    remove_accents: bool = False
    prefix: str = ""          # /<lang> when defaultContentLanguageInSubdir
    kind: str = "hugo"

    def urlize(self, text: str) -> str:
        text = hugo_sanitize(text)
        if self.remove_accents:
            text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
        return text.lower() if self.lower else text

    def _filename_date(self, page: PageFile) -> tuple[str | None, str]:
        """Hugo's `:filename`: the first 10 characters of the base name as a date, the rest the slug.
        A bundle's base name is its folder's, less what looks like an extension (Hugo's FileAndExt)."""
        name = page.name
        suffix = PurePosixPath(name).suffix if page.bundle else ""
        stem = name[: -len(suffix)] if suffix else name
        match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", stem[:10])
        date = valid_date(*match.groups()) if match else None
        return date, stem[10:].strip(" -_")

    def date(self, meta: dict, page: PageFile) -> tuple[str | None, str | None]:
        """(date, slug from the file name when `:filename` gave the date and no `slug` is set)."""
        for source in self.date_sources:
            if source == ":filename":
                date, slug = self._filename_date(page)
                if date:
                    return date, (None if "slug" in meta else slug)
            elif source == ":filemodtime":
                if page.mtime:
                    return dt.date.fromtimestamp(page.mtime).isoformat(), None
            elif not source.startswith(":") and not isinstance(meta.get(source), bool):
                date = parse_date(meta.get(source))
                if date:
                    return date, None
        return None, None

    def _finish(self, link: str, sanitize: bool) -> str:
        link = clean_path(link)
        if sanitize:
            link = hugo_sanitize(link)
            link = link if link.startswith("/") else "/" + link
        if self.lower:
            link = link.lower()
        return quote(clean_path(self.prefix + link), safe=_URL_SAFE)

    def explicit_path(self, meta: dict, page: PageFile, date: str | None) -> str | None:
        value = meta.get("url")
        if not isinstance(value, str) or not value.strip():
            return None
        url = value.strip()
        if ":" in url:
            url = self._expand(url, meta, page, date, str(meta.get("title") or ""), str(meta.get("slug") or ""))
        if not has_extension(url):     # `/about` is a folder, `/feeds/x.html` a file
            url = url.rstrip("/") + "/"
        return self._finish("/" + url.lstrip("/"), sanitize=False)

    def slug(self, meta: dict, page: PageFile) -> str:
        value = meta.get("slug")
        return str(value).strip() if value not in (None, "") else ""

    def _is_ugly(self, page: PageFile) -> bool:
        if isinstance(self.ugly, dict):
            return bool(self.ugly.get(page.dirs[0].lower() if page.dirs else "", False))
        return bool(self.ugly)

    def pattern_path(self, meta: dict, page: PageFile, date: str, raw_title: str, slug: str,
                     categories: list[str]) -> str:
        page_path = "/" + "/".join([*page.dirs, page.name]).lower()
        rule = next((r for r in self.permalinks if r.matches(page, page_path)), None)
        if rule is not None:
            link = self._expand(rule.pattern, meta, page, date, raw_title, slug)
        else:
            link = "/" + "/".join([*page.dirs, slug or page.name])
        if has_extension(link):
            return self._finish(link, sanitize=True)
        link = link.rstrip("/")
        return self._finish(link + ".html" if self._is_ugly(page) else link + "/", sanitize=True)

    def _sections(self, page: PageFile) -> list[str]:
        """The page's section folders: the first one, then each nested one that has an `_index` page."""
        sections: list[str] = []
        for depth, folder in enumerate(page.dirs):
            if depth and not _has_section_page(self.content_dir.joinpath(*page.dirs[:depth + 1])):
                break
            sections.append(folder)
        return sections

    def _expand(self, pattern: str, meta: dict, page: PageFile, date: str | None, raw_title: str, slug: str) -> str:
        day = dt.date.fromisoformat(date) if date else dt.date(1, 1, 1)
        title = self.urlize(raw_title)
        slug_or_title = self.urlize(slug) if slug else title
        name = self.urlize(page.name)
        sections = self._sections(page)

        def token(match: re.Match) -> str:
            attr, cut = match.group(1), match.group(2)
            simple = {
                "year": str(day.year), "month": f"{day.month:02d}", "monthname": _GO_MONTHS[day.month - 1],
                "day": f"{day.day:02d}", "weekday": str((day.weekday() + 1) % 7),
                "weekdayname": _GO_DAYS[day.weekday()], "yearday": str(day.timetuple().tm_yday),
                "section": page.dirs[0] if page.dirs else "", "sectionslug": self.urlize(page.dirs[0]) if page.dirs else "",
                "title": title, "slug": slug_or_title, "filename": name, "contentbasename": name,
                "slugorfilename": self.urlize(slug) if slug else name,
                "slugorcontentbasename": self.urlize(slug) if slug else name,
            }
            if attr in ("sections", "sectionslugs"):
                parts = sections if attr == "sections" else [self.urlize(s) for s in sections]
                return "/".join(_slice(parts, cut) if cut else parts)
            if attr in simple and not cut:
                return simple[attr]
            formatted = go_time_format(attr, day)
            return formatted if formatted != attr else match.group(0)

        text = pattern.replace("\\:", "\x00")
        return re.sub(r":(\w+)(\[[^\]]*\])?", token, text).replace("\x00", ":")

    def aliases(self, meta: dict, page: PageFile) -> list[str]:
        """Redirects: site-relative, or relative to the page's folder; a name not ending in .html is a folder."""
        base = "/" + "/".join(page.dirs) + "/"
        out = []
        for alias in as_strings(meta.get("aliases")):
            path = alias if alias.startswith("/") else base + alias
            path = clean_path(path if path.endswith(".html") else path.rstrip("/") + "/")
            out.append(quote(self.prefix + (path.lower() if self.lower else path), safe=_URL_SAFE))
        return out


@lru_cache(maxsize=4096)
def _has_section_page(folder: Path) -> bool:
    return any(folder.glob("_index.*"))


def _slice(parts: list[str], cut: str) -> list[str]:
    """Hugo's `:sections[...]` slices: [n], [a:b], [last], [:last], lenient out of range."""
    spec = cut.strip("[] ").lower()

    def index(text: str, low: bool) -> int:
        if text == "":
            return 0 if low else len(parts)
        if text == "last":
            return len(parts) - 1
        try:
            return min(max(int(text), 0), len(parts))
        except ValueError:
            return 0
    if ":" not in spec:
        i = index(spec, True)
        return parts[i:i + 1] if 0 <= i < len(parts) else []
    low, high = spec.split(":", 1)
    return parts[index(low, True):index(high, False)]


# -- Zola -----------------------------------------------------------------------------------------


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
        date = parse_date(meta.get("date"))
        match = self._dated(page)
        if date is None and match:
            date = parse_date(match.group("datetime"))
        return date, None

    def explicit_path(self, meta: dict, page: PageFile, date: str | None) -> str | None:
        value = meta.get("path")
        if not isinstance(value, str) or not value.strip():
            return None
        path = value.strip()
        path = path if path.startswith("/") else "/" + path
        return quote(path if path.endswith("/") else path + "/", safe=_URL_SAFE)

    def slug(self, meta: dict, page: PageFile) -> str:
        if isinstance(meta.get("slug"), str) and meta["slug"].strip():
            return zola_slugify(meta["slug"].strip(), self.slugify)
        match = self._dated(page)
        if match and match.group("slug") and not self.keep_dates:
            return zola_slugify(match.group("slug"), self.slugify)
        return zola_slugify(page.name, self.slugify)

    def pattern_path(self, meta: dict, page: PageFile, date: str, raw_title: str, slug: str,
                     categories: list[str]) -> str:
        return quote(clean_path("/" + "/".join([*page.dirs, slug]) + "/"), safe=_URL_SAFE)

    def aliases(self, meta: dict, page: PageFile) -> list[str]:
        """Redirects, relative to base_url; a name not ending in .html is a folder (Zola's render_alias)."""
        out = []
        for alias in as_strings(meta.get("aliases")):
            path = "/" + alias.strip().lstrip("/")
            out.append(quote(path if path.endswith((".html", "/")) else path + "/", safe=_URL_SAFE))
        return out


# -- shared helpers -------------------------------------------------------------------------------


def as_strings(value) -> list[str]:
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if isinstance(v, (str, int, float)) and str(v).strip()]
    return []


def parse_date(value) -> str | None:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (int, float, bool)) or value is None:
        return None
    text = str(value).strip().strip("'\"")
    if not text:
        return None
    match = re.match(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if match:
        return valid_date(*match.groups())
    import dateparser  # slow import, only for unusual date strings

    parsed = dateparser.parse(text, settings={"PREFER_DAY_OF_MONTH": "first", "RETURN_AS_TIMEZONE_AWARE": False})
    return parsed.date().isoformat() if parsed else None


def _first_config(root: Path, names: tuple[str, ...]) -> Path | None:
    return next((root / n for n in names if (root / n).is_file()), None)


@dataclass
class Site:
    """A site: its generator, its root, where the generator reads content and its configuration."""

    kind: str                   # jekyll | hugo | zola | folder
    root: Path
    content_dir: Path           # Hugo/Zola content folder; Jekyll: _posts; folder: the folder
    config: dict
    warnings: list[str] = field(default_factory=list)


def read_hugo_config(root: Path) -> tuple[dict, list[str], bool]:
    """(lower-cased config, warnings, found): the root config file merged with `config/_default/`."""
    warnings: list[str] = []
    config: dict = {}
    found = False
    path = _first_config(root, HUGO_CONFIGS)
    if path is not None:
        found = True
        config, problem = load_config_file(path)
        if problem:
            warnings.append(f"{path.name}: cannot read the site configuration ({problem}); using Hugo's defaults")
    default_dir = root / "config" / "_default"
    if default_dir.is_dir():
        for file in sorted(default_dir.iterdir()):
            if file.suffix not in (".toml", ".yaml", ".yml", ".json") or not file.is_file():
                continue
            found = True
            data, problem = load_config_file(file)
            if problem:
                warnings.append(f"config/_default/{file.name}: cannot read it ({problem}); ignored")
            elif file.stem in ("hugo", "config"):
                config = {**data, **config}
            else:   # one file per top-level key: permalinks.toml, languages.toml, params.toml ...
                config.setdefault(file.stem, data)
    return lower_keys(config), warnings, found


def _zola_config(root: Path) -> tuple[dict, str | None] | None:
    path = _first_config(root, ZOLA_CONFIGS)
    if path is None or _first_config(root, ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json")):
        return None
    data, problem = load_config_file(path)
    if problem or not (_ZOLA_ONLY_KEYS & set(data)):
        return None
    return data, None


def hugo_content_dir(root: Path, config: dict) -> Path:
    language = str(config.get("defaultcontentlanguage") or "en").lower()
    languages = config.get("languages") if isinstance(config.get("languages"), dict) else {}
    own = languages.get(language) if isinstance(languages.get(language), dict) else {}
    return root / str(config.get("contentdir") or own.get("contentdir") or HUGO_DEFAULT_CONTENT_DIR)


def generator_site(root: Path) -> Site | None:
    """The Hugo or Zola site whose configuration is at `root`, if any."""
    zola = _zola_config(root)
    if zola is not None:
        return Site("zola", root, root / "content", zola[0])
    config, warnings, found = read_hugo_config(root)
    if not found:
        return None
    return Site("hugo", root, hugo_content_dir(root, config), config, warnings)


def language_of(stem: str, languages: set[str]) -> tuple[str, str | None]:
    """(stem without a `.lang` suffix, that language) for `post.fr` when `fr` is a configured language."""
    base, dot, lang = stem.rpartition(".")
    if dot and lang.lower() in languages:
        return base, lang.lower()
    return stem, None


def site_languages(site: Site) -> tuple[set[str], str]:
    """(configured languages, the default one) of a Hugo or Zola site."""
    config = site.config
    if site.kind == "zola":
        default = str(config.get("default_language") or "en").lower()
        others = config.get("languages") if isinstance(config.get("languages"), dict) else {}
        return {default, *(str(k).lower() for k in others)}, default
    default = str(config.get("defaultcontentlanguage") or "en").lower()
    languages = config.get("languages") if isinstance(config.get("languages"), dict) else {}
    return ({default, *(str(k).lower() for k in languages)} if languages else set()), default


def rules_for(site: Site, jekyll_pattern: str):
    """The address rules of a site."""
    config = site.config
    if site.kind == "hugo":
        language = str(config.get("defaultcontentlanguage") or "en").lower()
        languages = config.get("languages") if isinstance(config.get("languages"), dict) else {}
        own = languages.get(language) if isinstance(languages.get(language), dict) else {}
        permalinks = hugo_permalink_rules(own if "permalinks" in own else config)
        ugly = config.get("uglyurls", False)
        return HugoRules(
            content_dir=site.content_dir, permalinks=permalinks, date_sources=hugo_date_sources(config),
            ugly=ugly if isinstance(ugly, dict) else bool(ugly), lower=not config.get("disablepathtolower", False),
            remove_accents=bool(config.get("removepathaccents", False)),
            prefix=f"/{language}" if config.get("defaultcontentlanguageinsubdir") else "")
    if site.kind == "zola":
        slug_config = config.get("slugify") if isinstance(config.get("slugify"), dict) else {}
        return ZolaRules(slugify=str(slug_config.get("paths", "on")).lower(),
                         keep_dates=bool(slug_config.get("paths_keep_dates", False)))
    return JekyllRules(pattern=jekyll_pattern, kind=site.kind)


def base_url_of(site: Site) -> str:
    config = site.config
    if site.kind == "hugo":
        return str(config.get("baseurl") or "")
    if site.kind == "zola":
        return str(config.get("base_url") or "")
    return str(config.get("baseURL") or "") or (str(config.get("url") or "") + str(config.get("baseurl") or ""))


def hugo_ignored(config: dict) -> list[re.Pattern]:
    """Hugo's `ignoreFiles` (regular expressions on the file's path)."""
    patterns = []
    for text in as_strings(config.get("ignorefiles")):
        try:
            patterns.append(re.compile(text))
        except re.error:
            pass
    return patterns
