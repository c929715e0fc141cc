"""Hugo: `hugo.toml`/`config.*`, `contentDir`, `[permalinks]`, `url`, `slug`, `aliases`, dates.

Follows gohugo.io/content-management/urls, /configuration/permalinks (map, `[permalinks.page]` and
array forms, tokens), /configuration/front-matter (`[frontmatter] date`, `:filename`) and, where they
are silent, Hugo's source: `paths.Sanitize` (what urlize keeps) and `page.CreateTargetPaths` (lower
case, ugly URLs). Hugo's defaults (its `content` folder, its date keys) are facts about the tool, not
tuning knobs, so they are constants here rather than settings.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from knowledge.corpus.site_generators.common import (
    URL_SAFE, PageFile, as_strings, clean_path, first_config, has_extension, load_config_file, lower_keys,
    parse_date, valid_date)

# Hugo reads the first of these at the site root (gohugo.io/configuration/introduction).
HUGO_CONFIGS = ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json", "config.toml", "config.yaml", "config.yml", "config.json")
HUGO_DEFAULT_CONTENT_DIR = "content"
# Hugo's default `[frontmatter] date` sources, with the aliases it adds (page_frontmatter.go).
HUGO_DEFAULT_DATE_KEYS = ["date", "publishdate", "pubdate", "published", "lastmod", "modified"]
_HUGO_DATE_ALIASES = {"publishdate": ["pubdate", "published"], "lastmod": ["modified"], "expirydate": ["unpublishdate"]}


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
    """A date written with a Go time layout ("2006-01-02", "Jan 2"), as Hugo's permalink tokens allow."""
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
    """One `[permalinks]` entry: its pattern and which pages it applies to."""

    pattern: str
    section: tuple[str, ...] | None = None   # map forms: the section it applies to (() = root pages)
    path: re.Pattern | None = None           # array form: target.path
    kind: re.Pattern | None = None           # array form: target.kind

    def matches(self, page: PageFile, page_path: str) -> bool:
        """Whether the rule applies to this page (by section, or by path and kind)."""
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
        """Hugo's urlize: sanitized, accents removed if configured, lower case unless disabled."""
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
        return quote(clean_path(self.prefix + link), safe=URL_SAFE)

    def explicit_path(self, meta: dict, page: PageFile, date: str | None) -> str | None:
        """The address the front matter's `url` gives (tokens expanded), else None."""
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
        """The front matter's `slug`, or "" (the permalink rules then use the file name)."""
        value = meta.get("slug")
        return str(value).strip() if value not in (None, "") else ""

    def _is_ugly(self, page: PageFile) -> bool:
        if isinstance(self.ugly, dict):
            return bool(self.ugly.get(page.dirs[0].lower() if page.dirs else "", False))
        return bool(self.ugly)

    def pattern_path(self, meta: dict, page: PageFile, date: str, raw_title: str, slug: str,
                     categories: list[str]) -> str:
        """The address by the section's permalink pattern, else `/<folders>/<slug or name>/`."""
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
            out.append(quote(self.prefix + (path.lower() if self.lower else path), safe=URL_SAFE))
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


def read_hugo_config(root: Path) -> tuple[dict, list[str], bool]:
    """(lower-cased config, warnings, found): the root config file merged with `config/_default/`."""
    warnings: list[str] = []
    config: dict = {}
    found = False
    path = first_config(root, HUGO_CONFIGS)
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


def hugo_content_dir(root: Path, config: dict) -> Path:
    """Where Hugo reads content: `contentDir`, the default language's own, else `content/`."""
    language = str(config.get("defaultcontentlanguage") or "en").lower()
    languages = config.get("languages") if isinstance(config.get("languages"), dict) else {}
    own = languages.get(language) if isinstance(languages.get(language), dict) else {}
    return root / str(config.get("contentdir") or own.get("contentdir") or HUGO_DEFAULT_CONTENT_DIR)


def hugo_ignored(config: dict) -> list[re.Pattern]:
    """Hugo's `ignoreFiles` (regular expressions on the file's path)."""
    patterns = []
    for text in as_strings(config.get("ignorefiles")):
        try:
            patterns.append(re.compile(text))
        except re.error:
            pass
    return patterns
