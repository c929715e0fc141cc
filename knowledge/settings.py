"""Settings from `config/settings.yml`, with defaults for every key, and the environment's overrides
(`BLOGBOT_<SECTION>__<KEY>`) on top.

The config folder is the one that ships with the package (`knowledge/default_config`: in a source
checkout, a link to the repo's `config/`) unless `BLOGBOT_CONFIG_DIR` names another one.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parent / "default_config"


class SettingsError(ValueError):
    """The settings file is unreadable or holds a value of the wrong kind."""


@dataclass
class SiteSettings:
    """The `site` section of config/settings.yml: the blog's address, permalinks, skipped files, bylines, authors."""

    base_url: str = ""
    permalink: str = ""
    default_permalink: str = "/:categories/:year/:month/:day/:title.html"
    skip_files: list = field(default_factory=lambda: [
        "README.md", "SOURCE.md", "LICENSE.md", "CHANGELOG.md", "CONTRIBUTING.md", "CODE_OF_CONDUCT.md",
        "SECURITY.md", "SUPPORT.md"])
    byline_labels: list = field(default_factory=lambda: ["author", "authors", "written by", "by"])
    main_author_share: float = 0.8
    authors_shown: int = 3


@dataclass
class IngestSettings:
    """The `ingest` section of config/settings.yml: file size limit, passage size and embedding batches."""

    max_file_bytes: int = 2_000_000
    chunk_chars: int = 900
    embed_batch_size: int = 64
    pad_to_tokens: int = 64


@dataclass
class EmbedderSettings:
    """The `embedder` section of config/settings.yml: the embedding model, its device, dtype and kernel caches."""

    model: str = "packaged"
    device: str = "auto"
    dtype: str = "auto"
    kernel_cache_entries: int = 64


@dataclass
class RetrievalSettings:
    """The `retrieval` section of config/settings.yml: fusion weights, candidates, date and adapted weights."""

    bm25_weight: float = 1.0
    dense_weight: float = 1.0
    candidates: int = 50
    date_weight: float = 1.0
    adapted_weight: float = 0.5


@dataclass
class AdaptSettings:
    """The `adapt` section of config/settings.yml: how `blogbot adapt` fine-tunes the embedding model."""

    max_seq_length: int = 128
    batch_size: int = 32
    epochs: float = 1.0
    learning_rate: float = 2e-5
    warmup_share: float = 0.1
    seed: int = 0
    checkpoint_steps: int = 10
    min_pairs: int = 64


@dataclass
class RemoteGeneratorSettings:
    """The `generator.remote` subsection of config/settings.yml: the remote backend's endpoint."""

    url: str = ""
    model: str = ""
    api_key_env: str = "BLOGBOT_GENERATOR_API_KEY"
    timeout_s: float = 30.0


@dataclass
class GeneratorSettings:
    """The `generator` section of config/settings.yml: backend, model, precision, token and time budgets."""

    backend: str = "llama_cpp"
    model: str = "packaged"
    device: str = "auto"
    precision: str = "auto"
    max_new_tokens: int = 64
    repetition_penalty: float = 1.2
    time_budget_s: float = 10.0
    context_tokens: int = 2048
    remote: RemoteGeneratorSettings = field(default_factory=RemoteGeneratorSettings)


@dataclass
class AnswerSettings:
    """The `answer` section of config/settings.yml: evidence, abstention, support-check and answer-length thresholds."""

    posts: int = 3
    passages_per_post: int = 2
    coverage_posts: int = 10
    abstain_below: float = 0.30
    abstain_below_with_unknown_terms: float = 0.40
    abstain_below_with_names_in_passing: float = 0.34
    related_above: float = 0.30
    typo_min_letters: int = 7
    name_words_within: int = 10
    name_posts_share: float = 0.05
    specific_posts_share: float = 0.01
    specific_min_posts: int = 3
    earliest_terms_share: float = 0.15
    support_threshold: float = 0.70
    support_word_coverage: float = 0.75
    answer_similarity: float = 0.35
    min_generated_words: int = 30
    extractive_words: int = 70
    other_posts_score: float = 0.8
    post_rank_weight: float = 0.3
    sentence_context: int = 3
    lexical_weight: float = 0.3
    second_run_score: float = 0.8
    second_run_words: int = 40
    list_posts: int = 10
    list_relative_score: float = 0.6
    about_min_mentions: int = 3


@dataclass
class TopicSettings:
    """The `topics` section of config/settings.yml: how the blog's topics are chosen and example questions picked."""

    tagged_share: float = 0.5
    min_posts: int = 3
    max_share: float = 0.3
    overlap_share: float = 0.6
    min_z: float = 3.0
    shown: int = 12
    example_min_words: int = 3
    example_max_words: int = 12


@dataclass
class NluSettings:
    """The `nlu` section of config/settings.yml: intent threshold, disambiguation, fuzzy matching,
    regularization and the scaling of confidences for input unlike the examples."""

    intent_threshold: float = 0.30
    disambiguation_enabled: bool = True
    disambiguation_margin: float = 0.10
    disambiguation_options: int = 3
    fuzzy_score: int = 88
    regularization: float = 8.0
    out_of_domain_share: float = 0.02


@dataclass
class DialogSettings:
    """The `dialog` section of config/settings.yml: tracker store, session timeout and the action server's deadlines."""

    tracker_store: str = "sqlite"
    session_timeout_minutes: float = 60.0
    action_endpoint: str = ""
    action_timeout_s: float = 30.0
    action_first_event_s: float = 5.0
    action_notice_s: float = 5.0
    action_breaker_failures: int = 3
    action_breaker_cooldown_s: float = 15.0
    history_events: int = 60
    skill_fallback: str = "none"
    blog_facts: bool = True
    redis_lease_s: float = 10.0


@dataclass
class WebSettings:
    """The `web` section of config/settings.yml: the HTTP server's address, limits, rate limits, workers and widget."""

    host: str = "127.0.0.1"
    port: int = 8000
    allowed_origins: list = field(default_factory=list)
    max_text_chars: int = 2048
    max_body_bytes: int = 65536
    max_slack_body_bytes: int = 1048576
    header_timeout_s: float = 10.0
    body_timeout_s: float = 10.0
    trusted_proxies: list = field(default_factory=list)
    rate_limit_per_minute: int = 30
    rate_limit_burst: int = 10
    turns_per_client: int = 2
    workers: int = 2
    queue_size: int = 8
    typical_turn_s: float = 3.0
    widget_title: str = "Ask the blog"


@dataclass
class Settings:
    """All of config/settings.yml: one field per section."""

    site: SiteSettings = field(default_factory=SiteSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    embedder: EmbedderSettings = field(default_factory=EmbedderSettings)
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    adapt: AdaptSettings = field(default_factory=AdaptSettings)
    generator: GeneratorSettings = field(default_factory=GeneratorSettings)
    answer: AnswerSettings = field(default_factory=AnswerSettings)
    topics: TopicSettings = field(default_factory=TopicSettings)
    nlu: NluSettings = field(default_factory=NluSettings)
    dialog: DialogSettings = field(default_factory=DialogSettings)
    web: WebSettings = field(default_factory=WebSettings)


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
    if kind is float and number:
        return float(value)
    if kind is str and (number or isinstance(value, str)):
        return str(value)
    if kind is list and isinstance(value, (list, str)):
        return value if isinstance(value, list) else [item.strip() for item in value.split(",") if item.strip()]
    wanted = {bool: "true or false", int: "a whole number", float: "a number", str: "a text"}.get(kind, "a list")
    raise SettingsError(f"{where} must be {wanted}, not {value!r}")


ENVIRONMENT_PREFIX = "BLOGBOT_"


def environment_overrides(environ: dict[str, str] | None = None) -> dict[str, dict]:
    """Settings from the environment: BLOGBOT_<SECTION>__<KEY> (and BLOGBOT_<SECTION>__<SUB>__<KEY>)
    as {section: {key: value}}, values read as YAML (`true`, `3`, `[a, b]`) and checked against the
    key's type. A variable naming no setting, or an ill-typed value, is a SettingsError naming it.
    Other BLOGBOT_ variables (no double underscore, e.g. BLOGBOT_CONFIG_DIR) are not settings."""
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
        except yaml.YAMLError:
            value = text
        if isinstance(target, str) and not isinstance(value, str):
            value = text                    # a text setting keeps "0123" or "1e3" as given
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
    """The settings and where each key's value came from ({"web.workers": "environment:
    BLOGBOT_WEB__WORKERS"}, or "file", or "default")."""
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
