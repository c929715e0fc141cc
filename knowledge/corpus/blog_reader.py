"""Reading a blog folder: find the posts and turn each file into a `Post`.

Handles Jekyll sites (a `_posts/` folder or the site root holding it, `_config.yml`), Hugo sites
(`hugo.toml`/`config.*`: posts under `contentDir`), Zola sites (`config.toml` with `base_url`: posts under
`content/`) and plain folders of markdown files. A folder inside a Hugo or Zola content folder is read as
part of its site. Each post's address is the one its generator publishes (`knowledge.corpus.site_generators`).
Bad files never raise: `read_post` returns the post (possibly repaired) or None, plus warning lines
naming the file and the reason.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from knowledge.corpus import site_generators as gen
from knowledge.settings import SiteSettings
from knowledge.corpus.site_generators import slugify

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MARKDOWN_SUFFIXES = {".md", ".markdown", ".mdown", ".mkd"}
# Front matter: YAML (---) or TOML (+++), after an optional BOM and blank lines (Hugo accepts those).
_FRONT_MATTER = re.compile(r"\A\ufeff?(?:[ \t]*\r?\n)*(---|\+\+\+)[ \t]*\r?\n(.*?)^\1[ \t]*(?:\r?\n|\Z)", re.S | re.M)
_LEADING_BLANKS = re.compile(r"\A\ufeff?\s*")
_NAME_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[-_ ]+|$)")


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
    authors: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)   # other addresses the site answers for it (redirects)


@dataclass
class Blog:
    """A blog folder: where its posts are and how their addresses are built."""

    root: Path
    kind: str              # jekyll | hugo | zola | folder
    base_url: str
    permalink_pattern: str  # Jekyll / plain folders: the pattern for posts that name no permalink
    files: list[Path]
    title: str = ""        # the site's title and author, from its config file (may be empty)
    author: str = ""
    content_dir: Path | None = None   # Hugo / Zola: where the generator reads content
    rules: object = None               # the generator's address rules (site_generators)
    languages: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)   # about the site itself (its configuration)
    byline: re.Pattern | None = None   # a byline among a post's first lines (`byline_pattern`)

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    @property
    def rules_signature(self) -> str:
        """Changes whenever the addresses of unchanged files could change (for ingest's fingerprints)."""
        content = self.content_dir.relative_to(self.root).as_posix() if self.content_dir else ""
        byline = self.byline.pattern if self.byline else ""
        return f"{self.kind}|{content}|{self.rules!r}|{byline}"

    def page(self, path: Path) -> gen.PageFile:
        """Where a file sits, as the generators see it."""
        base = self.content_dir if self.content_dir and path.is_relative_to(self.content_dir) else self.root
        rel = PurePosixPath(path.relative_to(base).as_posix())
        stem, _ = gen.language_of(path.stem, self.languages)
        try:
            mtime = path.stat().st_mtime
        except OSError:
            mtime = 0.0
        if stem == "index" and (len(rel.parts) > 1 or self.kind in ("jekyll", "folder")):
            return gen.PageFile(rel, path.parent.name, tuple(rel.parts[:-2]), True, mtime)
        return gen.PageFile(rel, stem, tuple(rel.parts[:-1]), False, mtime)


def _read_site_config(root: Path) -> dict:
    """Jekyll or plain folder: the first config file found (YAML, then TOML), {} when unreadable."""
    for name in ("_config.yml", "_config.yaml", "hugo.yaml", "hugo.yml", "config.yaml", "config.yml",
                 "hugo.toml", "config.toml"):
        path = root / name
        if path.is_file():
            return gen.load_config_file(path)[0]
    return {}


def _locate(path: Path) -> tuple[gen.Site, list[Path]]:
    """The site `path` belongs to and the folders of it to read: a Jekyll site with its `_config.yml`
    (its root or `_posts/`), else a Hugo or Zola site whose root or content folder is `path` or holds it
    (Kubernetes keeps posts in content/en/blog/_posts/), else a Jekyll `_posts/` without a config, else
    a plain folder."""
    jekyll_root = path if (path / "_posts").is_dir() else path.parent if path.name == "_posts" else None
    if jekyll_root is not None and any((jekyll_root / name).is_file() for name in gen.JEKYLL_CONFIGS):
        return gen.Site("jekyll", jekyll_root, jekyll_root / "_posts", _read_site_config(jekyll_root)), \
            [jekyll_root / "_posts"]
    for root in (path, *path.parents):
        site = gen.generator_site(root)
        if site is None or not site.content_dir.is_dir():
            continue
        if path.is_relative_to(site.content_dir) and path != site.content_dir:
            return site, [path]
        if site.content_dir.is_relative_to(path):   # the root, or a folder between it and the content
            return site, [site.content_dir]
    if jekyll_root is not None:
        return gen.Site("jekyll", jekyll_root, jekyll_root / "_posts", _read_site_config(jekyll_root)), \
            [jekyll_root / "_posts"]
    if (path / "content").is_dir():     # a Hugo-style site without a config file
        return gen.Site("hugo", path, path / "content", {}), [path / "content"]
    if path.name == "content":
        return gen.Site("hugo", path.parent, path, {}), [path]
    return gen.Site("folder", path, path, _read_site_config(path)), [path]


def _find_files(site: gen.Site, dirs: list[Path], skip_names: set[str], languages: set[str],
                default_language: str) -> list[Path]:
    ignored = gen.hugo_ignored(site.config) if site.kind == "hugo" else []
    candidates = []
    for folder in dirs:
        for p in folder.rglob("*"):
            if p.suffix.lower() not in MARKDOWN_SUFFIXES or not p.is_file():
                continue
            rel = p.relative_to(site.root).as_posix()
            if any(part.startswith(".") for part in PurePosixPath(rel).parts):
                continue
            if p.name.lower() in skip_names or p.name.startswith("_index."):   # _index: a section's list page
                continue
            if ignored and any(r.search(rel) or r.search(p.as_posix()) for r in ignored):
                continue
            if languages and gen.language_of(p.stem, languages)[1] not in (None, default_language):
                continue    # a translation into another language
            candidates.append(p)
    if site.kind not in ("hugo", "zola"):
        return sorted(candidates)
    # A page bundle (`<dir>/index.md`) owns everything below its folder: other markdown there is a
    # resource of that page, not a page of its own (Hugo leaf bundles; Zola colocated assets).
    bundles = {p.parent for p in candidates if gen.language_of(p.stem, languages)[0] == "index"
               and p.parent != site.content_dir}

    def in_bundle(p: Path) -> bool:
        start = p.parent.parent if gen.language_of(p.stem, languages)[0] == "index" else p.parent
        for folder in (start, *start.parents):
            if folder == site.content_dir or not folder.is_relative_to(site.content_dir):
                return False
            if folder in bundles:
                return True
        return False
    return sorted(p for p in candidates if not in_bundle(p))


def open_blog(path: str | Path, site: SiteSettings) -> Blog:
    """Locate the posts of the blog at `path` (site root, `_posts/`, Hugo/Zola site or content folder, plain folder)."""
    path = Path(path).expanduser()
    if not path.exists():
        raise BlogError(f"no such folder: {path}")
    if not path.is_dir():
        raise BlogError(f"not a folder: {path}")
    path = path.resolve()
    found, dirs = _locate(path)
    config = found.config
    languages, default_language = gen.site_languages(found) if found.kind in ("hugo", "zola") else (set(), "")

    pattern = site.permalink or (str(config["permalink"]) if isinstance(config.get("permalink"), str) else "")
    pattern = gen.JEKYLL_STYLES.get(pattern or "", pattern) or site.default_permalink
    pattern = gen.JEKYLL_STYLES.get(pattern, pattern)
    base_url = site.base_url or gen.base_url_of(found)

    skip_names = {name.lower() for name in site.skip_files}
    files = _find_files(found, dirs, skip_names, languages, default_language)
    if not files:
        raise BlogError(f"no markdown posts found in {path}")
    params = config.get("params") if isinstance(config.get("params"), dict) else {}
    extra = config.get("extra") if isinstance(config.get("extra"), dict) else {}     # Zola
    author = config.get("author") or params.get("author") or extra.get("author") or ""
    if isinstance(author, dict):
        author = author.get("name") or ""
    if isinstance(author, list):
        author = ", ".join(str(a) for a in author)
    return Blog(root=found.root, kind=found.kind, base_url=base_url.rstrip("/"), permalink_pattern=pattern,
                files=files, title=str(config.get("title") or ""), author=str(author or ""),
                content_dir=found.content_dir if found.kind in ("hugo", "zola") else None,
                rules=gen.rules_for(found, pattern), languages=languages, warnings=list(found.warnings),
                byline=byline_pattern(site.byline_labels))


# Where each generator keeps a site's about page, relative to its root (Jekyll) or content folder.
_ABOUT_FILES = {
    "jekyll": ("about.md", "about.markdown", "about.html", "about/index.md", "about/index.html", "_pages/about.md"),
    "hugo": ("about.md", "about/index.md", "about/_index.md"),
    "zola": ("about.md", "about/index.md", "about/_index.md", "pages/about.md"),
}


def about_page(blog: Blog, max_bytes: int) -> str:
    """The address of the site's about page, or "" without one (or without the site's own address).
    Hugo and Zola publish it like any other page (its own `url`, `slug` or `path` included); Jekyll
    at its `permalink`, else at /about/ (an about/index page, or posts with folder addresses) or
    /about.html. Jekyll publishes `_pages/` only where a page names its permalink."""
    if not blog.base_url:
        return ""
    base = blog.content_dir or blog.root
    for name in _ABOUT_FILES.get(blog.kind, _ABOUT_FILES["jekyll"]):
        path = base / name
        if not path.is_file():
            continue
        if blog.kind in ("hugo", "zola"):
            page, _ = read_post(blog, path, max_bytes)
            if page is None:
                continue
            return _link_safe(page.url)
        try:
            meta, _, error = split_front_matter(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
        meta = meta if error is None else {}
        if meta.get("published") is False:
            continue
        explicit = blog.rules.explicit_path(meta, blog.page(path), None)
        if explicit:
            return _link_safe(blog.base_url + explicit)
        if name.startswith("_pages/"):
            continue
        folder = name.startswith("about/") or blog.permalink_pattern.endswith("/")
        return _link_safe(blog.base_url + ("/about/" if folder else "/about.html"))
    return ""


def _link_safe(url: str) -> str:
    """The address with the characters that would end a Markdown link encoded."""
    return url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")


def _decode(raw: bytes) -> tuple[str | None, str | None]:
    """Text of a file, or (None, reason) for a binary one; a second value is a warning."""
    if b"\x00" in raw[:8192]:
        return None, "binary file"
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), "not UTF-8; read as Windows-1252"


def _as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        parts = re.split(r"[,\s]+", value) if "," in value or " " in value else [value]
        return [p.strip() for p in parts if p.strip()]
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    return [str(value)]


def _authors(meta: dict) -> list[str]:
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


def _not_published(meta: dict, kind: str) -> str | None:
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

    meta, body, error = split_front_matter(text, json_allowed=blog.kind == "hugo")
    broken = error is not None   # invalid front matter: reported, with title and date from the file name
    if error is not None:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        warnings.append(f"{name}: front matter is not valid{where}: {reason}; indexed with title and date from the file name")
    if blog.kind == "hugo":
        meta = gen.lower_keys(meta)     # Hugo's front matter keys are case-insensitive

    skip = _not_published(meta, blog.kind)
    if skip:
        return None, warnings + [f"{name}: skipped: {skip}"]
    if not body.strip():
        return None, warnings + [f"{name}: skipped: no text after the front matter"]

    rules = blog.rules
    page = blog.page(path)
    raw_title = meta.get("title")
    raw_title = "" if raw_title is None or isinstance(raw_title, (dict, list)) else str(raw_title)
    title = html.unescape(raw_title.strip())
    if not title:
        undated = _NAME_DATE.sub("", page.name) or page.name
        title = undated.replace("-", " ").replace("_", " ").strip().capitalize() or name
        if not broken:
            warnings.append(f"{name}: no title; using '{title}' from the file name")

    date, name_slug = rules.date(meta, page)
    explicit = rules.explicit_path(meta, page, date)
    if date is None:    # no date key: the one in the address, else the one in the file name
        dated = _NAME_DATE.match(page.name)
        date = gen.date_in_path(explicit or "") or (gen.valid_date(*dated.groups()) if dated else None)
    if date is None:
        date = dt.date.fromtimestamp(page.mtime or path.stat().st_mtime).isoformat()
        warnings.append(f"{name}: no date; using the file's modification date {date}")

    tags = _as_list(meta.get("tags"))
    categories = _as_list(meta.get("categories") or meta.get("category"))
    slug = rules.slug(meta, page) or name_slug or ""
    permalink = explicit or rules.pattern_path(meta, page, date, raw_title, slug, categories)
    return Post(
        source=name, title=title, date=date, permalink=permalink, url=blog.base_url + permalink,
        tags=tags, categories=categories, body=body, authors=_authors(meta) or byline_authors(body, blog.byline),
        aliases=[blog.base_url + a for a in rules.aliases(meta, page)],
    ), warnings


def distinct_urls(posts: list, taken: dict[str, str] | None = None) -> list[str]:
    """Give every post an address of its own, in order; `taken` maps addresses already used to their
    source. Two posts at one address mean the site publishes one over the other (or a rule here is
    wrong): the later one keeps the address plus a `#fragment` naming its file, so the link still
    opens the page the site serves, and one warning line says so. Works on anything with
    `source`, `url` and `permalink` (Post, index.NewPost)."""
    owners = dict(taken or {})
    warnings: list[str] = []
    for post in posts:
        other = owners.setdefault(post.url, post.source)
        if other == post.source:
            continue
        source = PurePosixPath(post.source)
        tag = slugify(source.parent.name if source.stem == "index" else source.stem) or "post"
        candidate, number = f"{post.url.split('#')[0]}#{tag}", 1
        while candidate in owners:
            number += 1
            candidate = f"{post.url.split('#')[0]}#{tag}-{number}"
        warnings.append(f"{post.source}: same address as {other} ({post.url}); cited as {candidate}")
        post.permalink = post.permalink.split("#")[0] + candidate[len(post.url.split("#")[0]):]
        post.url = candidate
        owners[candidate] = post.source
    return warnings


def read_blog(blog: Blog, max_bytes: int) -> tuple[list[Post], list[str]]:
    """Every post of a blog, each with an address of its own, and all warnings (the site's first)."""
    posts: list[Post] = []
    warnings = list(blog.warnings)
    for path in blog.files:
        post, lines = read_post(blog, path, max_bytes)
        warnings.extend(lines)
        if post is not None:
            posts.append(post)
    warnings.extend(distinct_urls(posts))
    return posts, warnings
