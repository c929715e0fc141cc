"""Settings from `config/settings.yml`, with defaults for every key, and the environment's overrides
(`BLOGBOT_<SECTION>__<KEY>`) on top.

The config folder is the one that ships with the package (`knowledge/default_config`: in a source
checkout, a link to the repo's `config/`) unless `BLOGBOT_CONFIG_DIR` names another one.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, fields, is_dataclass
from pathlib import Path
from typing import Any

import yaml

from knowledge.settings_schema import (  # noqa: F401 - the sections are imported from here
    SiteSettings, IngestSettings, EmbedderSettings, RetrievalSettings, AdaptSettings, RemoteGeneratorSettings,
    GeneratorSettings, AnswerSettings, TopicSettings, NluSettings, DialogSettings, WebSettings, AnalyticsSettings,
    Settings)

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parent / "default_config"


class SettingsError(ValueError):
    """The settings file is unreadable or holds a value of the wrong kind."""


def read_config_file(path: Path) -> dict:
    """A YAML mapping from the config folder; unreadable, invalid or not a mapping is a SettingsError."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SettingsError(f"{path}: {exc}") from None
    if not isinstance(raw, dict):
        raise SettingsError(f"{path}: must be a mapping")
    return raw


def config_dir() -> Path:
    """The folder holding the assistant's configuration."""
    return Path(os.environ.get("BLOGBOT_CONFIG_DIR") or DEFAULT_CONFIG_DIR)


def _section(cls, values: Any, name: str):
    if values is None:
        return cls()
    if not isinstance(values, dict):
        raise SettingsError(f"settings: section '{name}' must be a mapping")
    unknown = set(values) - {f.name for f in fields(cls)}
    if unknown:
        raise SettingsError(f"settings: unknown key(s) in '{name}': {', '.join(sorted(unknown))}")
    converted = {}
    for key, value in values.items():
        default = getattr(cls(), key)
        if is_dataclass(default):
            converted[key] = _section(type(default), value, f"{name}.{key}")
        else:
            converted[key] = _typed(default, value, f"settings: {name}.{key}")
    return cls(**converted)


def _typed(default: Any, value: Any, where: str) -> Any:
    """`value` as the type of `default` (None: the default; a list also from "a, b"), else a SettingsError."""
    if value is None:
        return default
    kind = type(default)
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is bool and isinstance(value, bool):
        return value
    if kind is int and number and float(value).is_integer():
        return int(value)
    if kind is float and (number or isinstance(value, str) and _FLOAT.fullmatch(value.strip())):
        return float(value)            # "2e-5": YAML 1.1 reads an exponent without a dot as text
    if kind is str and (number or isinstance(value, str)):
        return str(value)
    if kind is list and isinstance(value, (list, str)):
        items = value if isinstance(value, list) else [item.strip() for item in value.split(",") if item.strip()]
        if all(isinstance(item, (str, int, float)) and not isinstance(item, bool) for item in items):
            return [str(item) for item in items]         # every list setting is a list of texts
        raise SettingsError(f"{where} must be a list of texts, not {value!r}")
    wanted = {bool: "true or false", int: "a whole number", float: "a number", str: "a text"}.get(kind, "a list")
    raise SettingsError(f"{where} must be {wanted}, not {value!r}")


ENVIRONMENT_PREFIX = "BLOGBOT_"
_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def environment_overrides(environ: dict[str, str] | None = None) -> dict[str, dict]:
    """BLOGBOT_<SECTION>__<KEY> (and __<SUB>__<KEY>) variables as {section: {key: value}}, read as YAML and
    type-checked; one naming no setting or ill-typed is a SettingsError naming it. Other BLOGBOT_ variables
    (no double underscore, e.g. BLOGBOT_CONFIG_DIR) are not settings."""
    environ = os.environ if environ is None else environ
    overrides: dict[str, dict] = {}
    for variable, text in sorted(environ.items()):
        if not variable.startswith(ENVIRONMENT_PREFIX) or "__" not in variable:
            continue
        path = variable[len(ENVIRONMENT_PREFIX):].lower().split("__")
        name = ".".join(path)
        target: Any = Settings()
        for part in path:
            if not is_dataclass(target) or part not in {f.name for f in fields(target)}:
                raise SettingsError(f"{variable}: no such setting ({name})")
            target = getattr(target, part)
        if is_dataclass(target):
            raise SettingsError(f"{variable}: names a section, not a setting ({name})")
        try:
            value = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError:          # e.g. "[::1, 10.0.0.1]": a list of plain texts in brackets
            inner = text.strip()
            value = inner[1:-1] if isinstance(target, list) and inner[:1] == "[" and inner[-1:] == "]" else text
        if isinstance(target, str) and not isinstance(value, str):
            value = text                    # a text setting keeps "0123" or "1e3" as given
        if value is None:
            raise SettingsError(f"{variable} ({name}) is empty (null); unset it to keep the file's value")
        node = overrides
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = _typed(target, value, f"{variable} ({name})")
    return overrides


def load_settings(path: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """settings.yml (missing file: all defaults) with the environment's overrides on top."""
    return settings_sources(path, environ)[0]


def settings_sources(path: Path | None = None,
                     environ: dict[str, str] | None = None) -> tuple[Settings, dict[str, str]]:
    """The settings and where each key's value came from ("environment: BLOGBOT_WEB__WORKERS", "file", "default")."""
    path = path or config_dir() / "settings.yml"
    raw: dict = {}
    if path.exists():
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise SettingsError(f"{path}: not valid YAML: {exc}") from None
        if not isinstance(raw, dict):
            raise SettingsError(f"{path}: must be a mapping of sections")
        unknown = set(raw) - set(_SECTIONS)
        if unknown:
            raise SettingsError(f"{path}: unknown section(s): {', '.join(sorted(unknown))}")
    environment = environment_overrides(environ)
    merged = _merged(raw, environment)
    settings = _consistent(Settings(**{name: _section(cls, merged.get(name), name) for name, cls in _SECTIONS.items()}))
    from_file, from_environment = _leaves(raw), _leaves(environment)
    return settings, {key: f"environment: {ENVIRONMENT_PREFIX}{key.upper().replace('.', '__')}"
                      if key in from_environment else "file" if key in from_file else "default"
                      for key in sorted(_leaves(asdict(settings)))}


def _leaves(values: dict, prefix: str = "") -> set[str]:
    """The dotted names of the values of nested mappings that are not mappings themselves."""
    return set().union(*(_leaves(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}"}
                         for key, value in values.items()))


def _merged(base: dict, extra: dict) -> dict:
    """`base` with `extra`'s values put in, nested mappings merged."""
    merged = dict(base)
    for key, value in extra.items():
        merged[key] = _merged(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return merged


def _consistent(settings: Settings) -> Settings:
    """Settings whose values fit together, else a SettingsError naming them."""
    if settings.dialog.redis_lease_s <= 0:
        raise SettingsError(f"settings: dialog.redis_lease_s must be above 0, not {settings.dialog.redis_lease_s:g}")
    if settings.dialog.skill_fallback not in ("none", "blog"):
        raise SettingsError(f"settings: dialog.skill_fallback must be none or blog, not {settings.dialog.skill_fallback!r}")
    budget, timeout = settings.generator.time_budget_s, settings.dialog.action_timeout_s
    if budget >= timeout:
        raise SettingsError(f"settings: generator.time_budget_s ({budget:g}) must be shorter than "
                            f"dialog.action_timeout_s ({timeout:g}), or a slow generator loses the answer")
    adapt = settings.adapt
    for key, value, valid, rule in (("adapt.batch_size", adapt.batch_size, adapt.batch_size >= 2, "at least 2"),
                                    ("adapt.epochs", adapt.epochs, adapt.epochs > 0, "above 0"),
                                    ("adapt.max_seq_length", adapt.max_seq_length, adapt.max_seq_length >= 8, "at least 8"),
                                    ("adapt.checkpoint_steps", adapt.checkpoint_steps, adapt.checkpoint_steps >= 1, "at least 1"),
                                    ("adapt.min_pairs", adapt.min_pairs, adapt.min_pairs >= 2, "at least 2"),
                                    ("adapt.learning_rate", adapt.learning_rate, adapt.learning_rate > 0, "above 0"),
                                    ("adapt.warmup_share", adapt.warmup_share, 0 <= adapt.warmup_share < 1,
                                     "at least 0 and below 1"),
                                    ("retrieval.adapted_weight", settings.retrieval.adapted_weight,
                                     0 <= settings.retrieval.adapted_weight <= 1, "between 0 and 1"),
                                    ("generator.keep_window", settings.generator.keep_window,
                                     settings.generator.keep_window >= 1, "at least 1"),
                                    ("generator.min_keep_rate", settings.generator.min_keep_rate,
                                     0 <= settings.generator.min_keep_rate <= 1, "between 0 and 1"),
                                    ("generator.explore_every", settings.generator.explore_every,
                                     settings.generator.explore_every >= 1, "at least 1"),
                                    ("web.max_queue_wait_s", settings.web.max_queue_wait_s,
                                     settings.web.max_queue_wait_s >= 0, "at least 0"),
                                    ("analytics.retention_days", settings.analytics.retention_days,
                                     settings.analytics.retention_days >= 0, "at least 0"),
                                    ("analytics.cluster_distance", settings.analytics.cluster_distance,
                                     0 < settings.analytics.cluster_distance <= 2, "above 0 and at most 2"),
                                    ("analytics.examples_per_cluster", settings.analytics.examples_per_cluster,
                                     settings.analytics.examples_per_cluster >= 1, "at least 1"),
                                    ("analytics.clusters_shown", settings.analytics.clusters_shown,
                                     settings.analytics.clusters_shown >= 1, "at least 1"),
                                    ("analytics.digest_days", settings.analytics.digest_days,
                                     settings.analytics.digest_days >= 1, "at least 1"),
                                    ("analytics.admin_session_hours", settings.analytics.admin_session_hours,
                                     settings.analytics.admin_session_hours > 0, "above 0"),
                                    ("nlu.out_of_domain_share", settings.nlu.out_of_domain_share,
                                     0 <= settings.nlu.out_of_domain_share < 1, "at least 0 and below 1")):
        if not valid:
            raise SettingsError(f"settings: {key} must be {rule}, not {value:g}")
    return settings


def apply_overrides(settings: Settings, overrides: dict) -> Settings:
    """Settings with some keys replaced ({section: {key: value}}); unknown keys are SettingsErrors."""
    if not overrides:
        return settings
    if not isinstance(overrides, dict):
        raise SettingsError("settings overrides must be a mapping of sections")
    unknown = set(overrides) - set(_SECTIONS)
    if unknown:
        raise SettingsError(f"settings: unknown section(s): {', '.join(sorted(unknown))}")
    current = asdict(settings)
    return _consistent(Settings(**{name: _section(cls, _merged(current[name], overrides.get(name) or {}), name)
                                   for name, cls in _SECTIONS.items()}))


_SECTIONS = {f.name: f.default_factory for f in fields(Settings)}
