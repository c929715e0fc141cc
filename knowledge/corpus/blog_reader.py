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
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from knowledge.corpus import site_generators as gen
from knowledge.corpus.front_matter import (
    as_list, byline_authors, byline_pattern, decode_text, front_matter_authors, not_published, split_front_matter)
from knowledge.corpus.site_generators.common import (
    PageFile, date_in_path, load_config_file, lower_keys, slugify, valid_date)
from knowledge.corpus.site_generators.hugo import hugo_ignored
from knowledge.corpus.site_generators.jekyll import JEKYLL_CONFIGS, JEKYLL_STYLES
from knowledge.settings import SiteSettings

MARKDOWN_SUFFIXES = {".md", ".markdown", ".mdown", ".mkd"}
# Front matter: YAML (---) or TOML (+++), after an optional BOM and blank lines (Hugo accepts those).
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
        """A file's path relative to the blog's root, with forward slashes: how warnings and the index name it."""
        return path.relative_to(self.root).as_posix()

    @property
    def rules_signature(self) -> str:
        """Changes whenever the addresses of unchanged files could change (for ingest's fingerprints)."""
        content = self.content_dir.relative_to(self.root).as_posix() if self.content_dir else ""
        byline = self.byline.pattern if self.byline else ""
        return f"{self.kind}|{content}|{self.rules!r}|{byline}"

    def page(self, path: Path) -> PageFile:
        """Where a file sits, as the generators see it."""
        base = self.content_dir if self.content_dir and path.is_relative_to(self.content_dir) else self.root
        rel = PurePosixPath(path.relative_to(base).as_posix())
        stem, _ = gen.language_of(path.stem, self.languages)
        try:
            mtime = path.stat().st_mtime
        except OSError:
            mtime = 0.0
        if stem == "index" and (len(rel.parts) > 1 or self.kind in ("jekyll", "folder")):
            return PageFile(rel, path.parent.name, tuple(rel.parts[:-2]), True, mtime)
        return PageFile(rel, stem, tuple(rel.parts[:-1]), False, mtime)


def _read_site_config(root: Path) -> dict:
    """Jekyll or plain folder: the first config file found (YAML, then TOML), {} when unreadable."""
    for name in ("_config.yml", "_config.yaml", "hugo.yaml", "hugo.yml", "config.yaml", "config.yml",
                 "hugo.toml", "config.toml"):
        path = root / name
        if path.is_file():
            return load_config_file(path)[0]
    return {}


def _locate(path: Path) -> tuple[gen.Site, list[Path]]:
    """The site `path` belongs to and the folders of it to read: a Jekyll site with its `_config.yml`
    (its root or `_posts/`), else a Hugo or Zola site whose root or content folder is `path` or holds it
    (Kubernetes keeps posts in content/en/blog/_posts/), else a Jekyll `_posts/` without a config, else
    a plain folder."""
    jekyll_root = path if (path / "_posts").is_dir() else path.parent if path.name == "_posts" else None
    if jekyll_root is not None and any((jekyll_root / name).is_file() for name in JEKYLL_CONFIGS):
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
    ignored = hugo_ignored(site.config) if site.kind == "hugo" else []
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
    pattern = JEKYLL_STYLES.get(pattern or "", pattern) or site.default_permalink
    pattern = JEKYLL_STYLES.get(pattern, pattern)
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



def read_post(blog: Blog, path: Path, max_bytes: int, raw: bytes | None = None) -> tuple[Post | None, list[str]]:
    """Parse one file. Returns (post or None when skipped, warnings)."""
    name = blog.relative(path)
    text, warnings = _read_text(name, path, max_bytes, raw)
    if text is None:
        return None, warnings

    meta, body, error = split_front_matter(text, json_allowed=blog.kind == "hugo")
    broken = error is not None   # invalid front matter: reported, with title and date from the file name
    if error is not None:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        warnings.append(f"{name}: front matter is not valid{where}: {reason}; indexed with title and date from the file name")
    if blog.kind == "hugo":
        meta = lower_keys(meta)     # Hugo's front matter keys are case-insensitive

    skip = not_published(meta, blog.kind)
    if skip:
        return None, warnings + [f"{name}: skipped: {skip}"]
    if not body.strip():
        return None, warnings + [f"{name}: skipped: no text after the front matter"]
    return _post(blog, path, name, meta, body, broken, warnings), warnings


def _read_text(name: str, path: Path, max_bytes: int, raw: bytes | None) -> tuple[str | None, list[str]]:
    """(the file's text, warnings), or (None, [why it is skipped]): too big, unreadable, empty, binary."""
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
    text, problem = decode_text(raw)
    if text is None:
        return None, [f"{name}: skipped: {problem}"]
    return text, [f"{name}: {problem}"] if problem else []


def _post(blog: Blog, path: Path, name: str, meta: dict, body: str, broken: bool, warnings: list[str]) -> Post:
    """The post of a published file: title, date and address by the site's rules (a missing title or
    date taken from the file, with a line added to `warnings`)."""
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
        date = date_in_path(explicit or "") or (valid_date(*dated.groups()) if dated else None)
    if date is None:
        date = dt.date.fromtimestamp(page.mtime or path.stat().st_mtime).isoformat()
        warnings.append(f"{name}: no date; using the file's modification date {date}")

    tags = as_list(meta.get("tags"))
    categories = as_list(meta.get("categories") or meta.get("category"))
    slug = rules.slug(meta, page) or name_slug or ""
    permalink = explicit or rules.pattern_path(meta, page, date, raw_title, slug, categories)
    return Post(
        source=name, title=title, date=date, permalink=permalink, url=blog.base_url + permalink,
        tags=tags, categories=categories, body=body, authors=front_matter_authors(meta) or byline_authors(body, blog.byline),
        aliases=[blog.base_url + a for a in rules.aliases(meta, page)],
    )


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
