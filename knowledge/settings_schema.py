"""The settings' sections as dataclasses, with the default of every key (config/settings.yml says
what each means). `knowledge.settings` reads them from the file and the environment."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    threads: int = 0                    # llama.cpp's threads; 0: every core this process may use
    keep_window: int = 50
    min_keep_rate: float = 0.2
    explore_every: int = 10
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
    sentence_cache_entries: int = 20000


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
    redis_prefix: str = "blogbot:"


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
    max_queue_wait_s: float = 0.75
    widget_title: str = "Ask the blog"
    threads_per_worker: int = 0         # torch and llama.cpp threads in `blogbot serve`; 0: every core
    turn_log: bool = True
    turn_log_text: bool = False


@dataclass
class AnalyticsSettings:
    """The `analytics` section of config/settings.yml: what is recorded of readers' turns for
    `blogbot report` and /admin, for how long, and how questions are grouped."""

    record: bool = True
    store_text: bool = True
    retention_days: float = 180.0
    cluster_distance: float = 0.55
    examples_per_cluster: int = 3
    clusters_shown: int = 10
    digest_days: int = 7
    admin_session_hours: float = 12.0


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
    analytics: AnalyticsSettings = field(default_factory=AnalyticsSettings)
