"""Reading a blog folder: find the posts and turn each file into a `Post`.

Handles Jekyll sites (a `_posts/` folder or the site root holding it, `_config.yml`),
Hugo sites (`content/`, `hugo.toml`/`config.toml`/`config.yaml`) and plain folders of
markdown files. Bad files never raise: `read_post` returns the post (possibly repaired)
or None, plus warning lines naming the file and the reason.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from knowledge.settings import SiteSettings

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MARKDOWN_SUFFIXES = {".md", ".markdown", ".mdown", ".mkd"}
_FRONT_MATTER = re.compile(r"\A(?:\ufeff)?(---|\+\+\+)[ \t]*\r?\n(.*?)^\1[ \t]*(?:\r?\n|\Z)", re.S | re.M)
_DATED_NAME = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})-(.+)$")
_JEKYLL_STYLES = {
    "date": "/:categories/:year/:month/:day/:title.html",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title.html",
    "none": "/:categories/:title.html",
}


class BlogError(Exception):
    """The blog folder cannot be read at all (missing, empty, not a folder)."""


@dataclass
class Post:
    """One post: its metadata and its markdown body."""

    source: str            # path relative to the blog root
    title: str
    date: str              # YYYY-MM-DD
    permalink: str
    url: str
    tags: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    body: str = ""


@dataclass
class Blog:
    """A blog folder: where its posts are and how their addresses are built."""

    root: Path
    kind: str              # jekyll | hugo | folder
    base_url: str
    permalink_pattern: str
    files: list[Path]
    title: str = ""        # the site's title and author, from its config file (may be empty)
    author: str = ""

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()


def _read_site_config(root: Path) -> dict:
    for name in ("_config.yml", "_config.yaml", "hugo.yaml", "hugo.yml", "config.yaml", "config.yml"):
        path = root / name
        if path.is_file():
            try:
                data = yaml.load(path.read_text(encoding="utf-8", errors="replace"), Loader=_YAML_LOADER)
            except yaml.YAMLError:
                return {}
            return data if isinstance(data, dict) else {}
    for name in ("hugo.toml", "config.toml"):
        path = root / name
        if path.is_file():
            try:
                return tomllib.loads(path.read_text(encoding="utf-8", errors="replace"))
            except tomllib.TOMLDecodeError:
                return {}
    return {}


def open_blog(path: str | Path, site: SiteSettings) -> Blog:
    """Locate the posts of the blog at `path` (site root, `_posts/`, Hugo site or plain folder)."""
    path = Path(path).expanduser()
    if not path.exists():
        raise BlogError(f"no such folder: {path}")
    if not path.is_dir():
        raise BlogError(f"not a folder: {path}")
    path = path.resolve()
    if (path / "_posts").is_dir():
        root, kind, post_dirs = path, "jekyll", [path / "_posts"]
    elif path.name == "_posts":
        root, kind, post_dirs = path.parent, "jekyll", [path]
    elif (path / "content").is_dir():
        root, kind, post_dirs = path, "hugo", [path / "content"]
    else:
        root, kind, post_dirs = path, "folder", [path]
        if path.parent.name == "content" or (path.parent / "content" == path):
            kind = "hugo"

    config = _read_site_config(root) or (_read_site_config(root.parent) if kind == "hugo" else {})
    base_url = site.base_url or str(config.get("baseURL") or "") or (
        str(config.get("url") or "") + str(config.get("baseurl") or ""))
    pattern = site.permalink or (str(config["permalink"]) if isinstance(config.get("permalink"), str) else "")
    pattern = _JEKYLL_STYLES.get(pattern or "", pattern) or site.default_permalink
    pattern = _JEKYLL_STYLES.get(pattern, pattern)

    files = sorted(
        p for d in post_dirs for p in d.rglob("*")
        if p.suffix.lower() in MARKDOWN_SUFFIXES and p.is_file() and p.name != "_index.md"
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )
    if not files:
        raise BlogError(f"no markdown posts found in {path}")
    author = config.get("author") or (config.get("params") or {}).get("author") or ""
    if isinstance(author, dict):
        author = author.get("name") or ""
    return Blog(root=root, kind=kind, base_url=base_url.rstrip("/"), permalink_pattern=pattern, files=files,
                title=str(config.get("title") or ""), author=str(author or ""))


def _decode(raw: bytes) -> tuple[str | None, str | None]:
    """Text of a file, or (None, reason) for a binary one; a second value is a warning."""
    if b"\x00" in raw[:8192]:
        return None, "binary file"
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), "not UTF-8; read as Windows-1252"


def _parse_date(value) -> str | None:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (int, float)) or value is None:
        return None
    text = str(value).strip().strip("'\"")
    match = re.match(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if match:
        try:
            return dt.date(*map(int, match.groups())).isoformat()
        except ValueError:
            return None
    import dateparser  # slow import, only for unusual date strings

    parsed = dateparser.parse(text, settings={"PREFER_DAY_OF_MONTH": "first", "RETURN_AS_TIMEZONE_AWARE": False})
    return parsed.date().isoformat() if parsed else None


def _as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        parts = re.split(r"[,\s]+", value) if "," in value or " " in value else [value]
        return [p.strip() for p in parts if p.strip()]
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    return [str(value)]


def slugify(text: str) -> str:
    """Lowercase, words joined by hyphens: the way Jekyll and Hugo slug names."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _expand_permalink(pattern: str, date: str, slug: str, categories: list[str]) -> str:
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
    pattern = re.sub(r"/{2,}", "/", "/" + pattern)
    return pattern


def _front_permalink(meta: dict, kind: str) -> str | None:
    for key in ("permalink", "url") if kind == "hugo" else ("permalink",):
        value = meta.get(key)
        if isinstance(value, str) and value.strip():
            return "/" + value.strip().lstrip("/")
    custom = meta.get("custom_permalink")
    if isinstance(custom, list) and custom:
        custom = custom[0]
    if isinstance(custom, str) and custom.strip():
        return "/" + custom.strip().lstrip("/")
    return None


def read_post(blog: Blog, path: Path, max_bytes: int, raw: bytes | None = None) -> tuple[Post | None, list[str]]:
    """Parse one file. Returns (post or None when skipped, warnings)."""
    name = blog.relative(path)
    warnings: list[str] = []
    try:
        if raw is None:
            if path.stat().st_size > max_bytes:
                return None, [f"{name}: skipped: file is {path.stat().st_size / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit"]
            raw = path.read_bytes()
    except OSError as exc:
        return None, [f"{name}: skipped: cannot read ({exc.strerror or exc})"]
    if len(raw) > max_bytes:
        return None, [f"{name}: skipped: file is {len(raw) / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit"]
    if not raw.strip():
        return None, [f"{name}: skipped: empty file"]
    text, problem = _decode(raw)
    if text is None:
        return None, [f"{name}: skipped: {problem}"]
    if problem:
        warnings.append(f"{name}: {problem}")

    meta: dict = {}
    broken = False   # invalid front matter: already reported, with title and date from the file name
    body = text
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
            meta = loaded
        except (yaml.YAMLError, tomllib.TOMLDecodeError, ValueError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 2})" if mark is not None else ""
            warnings.append(f"{name}: front matter is not valid{where}: {reason}; indexed with title and date from the file name")
            broken = True

    if meta.get("published") is False or meta.get("draft") is True:
        return None, warnings + [f"{name}: skipped: marked as draft / not published"]
    if not body.strip():
        return None, warnings + [f"{name}: skipped: no text after the front matter"]

    stem = path.parent.name if path.stem == "index" else path.stem
    dated = _DATED_NAME.match(stem)
    slug_source = dated.group(4) if dated else stem
    slug = str(meta.get("slug") or "").strip() or slugify(slug_source) or "post"

    title = html.unescape(str(meta.get("title") or "").strip())
    if not title:
        title = slug_source.replace("-", " ").replace("_", " ").strip().capitalize() or name
        if not broken:
            warnings.append(f"{name}: no title; using '{title}' from the file name")

    date = _parse_date(meta.get("date"))
    if date is None and dated:
        try:
            date = dt.date(*map(int, dated.groups()[:3])).isoformat()
        except ValueError:
            date = None
    if date is None:
        date = dt.date.fromtimestamp(path.stat().st_mtime).isoformat()
        warnings.append(f"{name}: no date; using the file's modification date {date}")

    tags = _as_list(meta.get("tags"))
    categories = _as_list(meta.get("categories") or meta.get("category"))
    permalink = _front_permalink(meta, blog.kind)
    if permalink is None:
        if blog.kind == "hugo":
            section = path.relative_to(blog.root).parts
            section = [p for p in section[:-1] if p != "content"]
            if path.stem == "index":
                section = section[:-1]
            permalink = "/" + "/".join([*section, slug]) + "/"
            permalink = re.sub(r"/{2,}", "/", permalink)
        else:
            permalink = _expand_permalink(blog.permalink_pattern, date, slug, categories)
    return Post(
        source=name, title=title, date=date, permalink=permalink, url=blog.base_url + permalink,
        tags=tags, categories=categories, body=body,
    ), warnings
