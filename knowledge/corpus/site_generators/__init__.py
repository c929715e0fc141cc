"""Static site generators: where a site keeps its posts and the address it publishes each one at.

Jekyll (`_config.yml`, `_posts/`), Hugo (`hugo.toml`/`config.*`, `contentDir`, `[permalinks]`) and Zola
(`config.toml` with `base_url`, `content/`, `path`), one module each, following each generator's
documentation and, where that is silent, its source. This module finds which generator a folder is
built with and gives its address rules; `common` holds what they share.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from knowledge.corpus.site_generators.hugo import (
    HugoRules, hugo_content_dir, hugo_date_sources, hugo_permalink_rules, read_hugo_config)
from knowledge.corpus.site_generators.jekyll import JekyllRules
from knowledge.corpus.site_generators.zola import ZolaRules, zola_config

AddressRules = JekyllRules | HugoRules | ZolaRules


@dataclass
class Site:
    """A site: its generator, its root, where the generator reads content and its configuration."""

    kind: str                   # jekyll | hugo | zola | folder
    root: Path
    content_dir: Path           # Hugo/Zola content folder; Jekyll: _posts; folder: the folder
    config: dict
    warnings: list[str] = field(default_factory=list)


def generator_site(root: Path) -> Site | None:
    """The Hugo or Zola site whose configuration is at `root`, if any."""
    zola = zola_config(root)
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


def rules_for(site: Site, jekyll_pattern: str) -> AddressRules:
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
    """The address the site is published at, from its configuration ("" when it names none)."""
    config = site.config
    if site.kind == "hugo":
        return str(config.get("baseurl") or "")
    if site.kind == "zola":
        return str(config.get("base_url") or "")
    return str(config.get("baseURL") or "") or (str(config.get("url") or "") + str(config.get("baseurl") or ""))
