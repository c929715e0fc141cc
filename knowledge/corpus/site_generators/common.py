"""What every site generator shares: config files, dates, paths and where a content file sits."""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PATH_DATE = re.compile(r"(?:^|/)(\d{4})/(\d{1,2})/(\d{1,2})(?:/|$)")
URL_SAFE = "/#%+~._-!$&'()*,;=:@"   # characters kept unescaped in a published address


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


def lower_keys(value: object) -> object:
    """Hugo's configuration and front matter keys are case-insensitive: `baseURL` is `baseurl`."""
    if isinstance(value, dict):
        return {str(k).lower(): lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [lower_keys(v) for v in value]
    return value


def slugify(text: str) -> str:
    """Lowercase, words joined by hyphens: the way Jekyll slugs names."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def valid_date(year: str | int, month: str | int, day: str | int) -> str | None:
    """YYYY-MM-DD of a real day, else None."""
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
    """Whether an address names a file (`/feeds/x.html`) rather than a folder (`/about`, `/about/`)."""
    return "." in PurePosixPath(path.rstrip("/")).name and not path.endswith("/")


@dataclass
class PageFile:
    """Where a content file sits: what the generators build addresses and dates from."""

    rel: PurePosixPath        # path relative to the content folder
    name: str                 # base name: file stem without language suffix, or the bundle's folder name
    dirs: tuple[str, ...]     # folders from the content folder to the page (a bundle's own folder excluded)
    bundle: bool              # `<name>/index.md`
    mtime: float = 0.0


def as_strings(value: object) -> list[str]:
    """A front matter value that may be one string or a list of them, as a list of non-empty strings."""
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if isinstance(v, (str, int, float)) and str(v).strip()]
    return []


def parse_date(value: object) -> str | None:
    """YYYY-MM-DD of a front matter date (a date, a datetime or a string in any common format), else None."""
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


def first_config(root: Path, names: tuple[str, ...]) -> Path | None:
    """The first of these config files that exists at `root`."""
    return next((root / n for n in names if (root / n).is_file()), None)
