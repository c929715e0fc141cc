"""Adapting the embedding model to one blog: `blogbot adapt`.

The packaged MiniLM is fine-tuned on CPU on pairs the blog itself gives (a post's title and its
opening passage, a section's heading and its text) with sentence-transformers'
MultipleNegativesRankingLoss, so search learns the blog's own vocabulary. Training saves a
checkpoint every few steps and resumes from it after an interruption. The tuned model is kept in the
data dir (`models/embedder-<id>/`, the packaged folder with new weights); every passage is then
embedded with it into the index's ranking vectors, and search ranks by them from then on (ingest
embeds new posts with it too). The packaged model's vectors stay: the answer checks compare its
cosines with thresholds chosen on its scale.
"""

from __future__ import annotations

import hashlib
import math
import os
import random
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from knowledge.corpus import index as store
from knowledge.corpus.chunking import embedding_text
from knowledge.corpus.embedder import EmbedderError, simple_layout, model_path
from knowledge.corpus.ingest import data_dir_lock, embed_passages
from knowledge.settings import Settings

if TYPE_CHECKING:
    import sqlite3

Progress = Callable[[str], None]
MODELS_DIR = "models"
MODEL_PREFIX = "embedder-"
WORK_PREFIX = "adapting-"
CHECKPOINT = "checkpoint.pt"
# Files at the root of the base model's folder that are the transformer's weights (replaced by the
# tuned ones) or exports of them.
_WEIGHT_FILES = ("*.safetensors", "*.bin", "*.h5", "*.msgpack", "*.ot", "onnx", "openvino")


class AdaptError(RuntimeError):
    """The blog or its index cannot be adapted to (no index, too few pairs, a bad base model)."""


@dataclass(frozen=True)
class TrainingPair:
    """A text a reader might search with (`anchor`) and the passage it names, of post `post_id`."""

    post_id: int
    anchor: str
    passage: str


@dataclass
class AdaptReport:
    """What `adapt` did, for the summary line and the benchmark."""

    pairs: int = 0
    steps: int = 0
    resumed_at: int = 0
    train_seconds: float = 0.0
    embed_seconds: float = 0.0
    passages: int = 0
    model: str = ""
    trained: bool = True

    def summary(self) -> str:
        """The line `blogbot adapt` prints when done."""
        trained = (f"trained on {self.pairs} pairs in {self.steps} steps ({self.train_seconds:.0f} s"
                   + (f", resumed at step {self.resumed_at}" if self.resumed_at else "") + ")"
                   if self.trained else "already trained")
        return (f"adapted {self.model}: {trained}; {self.passages} passages embedded with it "
                f"({self.embed_seconds:.0f} s); search ranks with it from now on")


def training_pairs(conn: sqlite3.Connection) -> list[TrainingPair]:
    """(anchor, passage) pairs from the index: each post's title with its first passage, each
    section heading with the passage under it. An anchor that several posts share ("Summary",
    "Introduction") names no passage in particular and is left out, as are empty passages."""
    pairs: list[TrainingPair] = []
    rows = conn.execute("SELECT posts.id, posts.title, chunks.heading, chunks.prose, chunks.ordinal FROM chunks"
                        " JOIN posts ON posts.id = chunks.post_id ORDER BY posts.id, chunks.ordinal")
    first_seen: set[int] = set()
    for post_id, title, heading, prose, _ in rows:
        if not prose.strip():
            continue
        if post_id not in first_seen and title.strip():
            first_seen.add(post_id)
            pairs.append(TrainingPair(post_id, title.strip(), prose))
        if heading.strip():
            pairs.append(TrainingPair(post_id, heading.strip(), prose))
    posts_of: dict[str, set[int]] = {}
    for pair in pairs:
        posts_of.setdefault(pair.anchor.lower(), set()).add(pair.post_id)
    return [p for p in pairs if len(posts_of[p.anchor.lower()]) == 1]


def batches(pairs: list[TrainingPair], size: int, epochs: float, seed: int) -> list[list[TrainingPair]]:
    """The training batches, the same for the same input (so training can resume at a step). Each
    batch has at most one pair of a post: the loss takes the other pairs' passages as wrong answers,
    and another passage of the same post is not wrong. A pair left alone at the end of a pass joins
    a batch of that pass without its post; one that finds none (most pairs from one post) is not
    trained on. A fractional last pass takes that share of its batches."""
    rng = random.Random(seed)
    out: list[list[TrainingPair]] = []
    for number in range(max(1, math.ceil(epochs))):
        order = pairs[:]
        rng.shuffle(order)
        done: list[list[TrainingPair]] = []
        open_batches: list[tuple[list[TrainingPair], set[int]]] = []
        for pair in order:
            for members, posts in open_batches:
                if pair.post_id not in posts:
                    members.append(pair)
                    posts.add(pair.post_id)
                    break
            else:
                open_batches.append(([pair], {pair.post_id}))
            done.extend(members for members, _ in open_batches if len(members) >= size)
            open_batches = [b for b in open_batches if len(b[0]) < size]
        done.extend(members for members, _ in open_batches if len(members) >= 2)
        for members, _ in open_batches:
            if len(members) == 1:
                home = next((b for b in done if all(p.post_id != members[0].post_id for p in b)), None)
                if home is not None:
                    home.append(members[0])
        share = min(1.0, epochs - number)
        out.extend(done[:round(len(done) * share)] if share < 1.0 else done)
    return out


def adapt(data_dir: str | Path, settings: Settings, progress: Progress = lambda m: None,
          restart: bool = False) -> AdaptReport:
    """Tune the embedding model to the blog indexed in `data_dir` and re-embed the index with it.

    Resumes an interrupted training unless `restart`. Raises AdaptError when there is nothing to
    adapt to, IngestBusy while an ingest or another adapt holds the data dir."""
    data_dir = Path(data_dir)
    if not store.index_path(data_dir).exists():
        raise AdaptError(f"no index in {data_dir}: run 'blogbot ingest PATH' first")
    cfg = settings.adapt
    try:
        base = model_path(settings.embedder.model)
    except EmbedderError as exc:
        raise AdaptError(str(exc)) from None
    if simple_layout(base) is None:
        raise AdaptError(f"adapt tunes models made of a transformer and a pooling (like the packaged MiniLM); "
                         f"{base} is another kind")
    report = AdaptReport()
    with data_dir_lock(data_dir):
        conn = store.connect(data_dir, create=True)   # create: an older index gains the ranking table
        try:
            pairs = training_pairs(conn)
            plan = batches(pairs, cfg.batch_size, cfg.epochs, cfg.seed)
            report.pairs = len({p for batch in plan for p in batch})
            if not plan and cfg.epochs < 1 and batches(pairs, cfg.batch_size, 1.0, cfg.seed):
                raise AdaptError(f"adapt.epochs {cfg.epochs:g} leaves no batch of the {len(pairs)} pairs to train on")
            if report.pairs < max(2, cfg.min_pairs):
                raise AdaptError(f"the blog in {data_dir} gives {report.pairs} title/heading and passage pairs "
                                 f"from different posts; adapting needs at least {cfg.min_pairs}")
            name = MODEL_PREFIX + _training_id(pairs, base, settings)
            models = data_dir / MODELS_DIR
            folder = models / name
            if not (folder / "config.json").is_file():
                _train(plan, base, folder, models / (WORK_PREFIX + name[len(MODEL_PREFIX):]), settings, progress,
                       restart, report)
            else:
                report.trained = False
            report.model = f"{MODELS_DIR}/{name}"
            started = time.perf_counter()
            rows = conn.execute("SELECT chunks.id, posts.title, chunks.heading, chunks.prose FROM chunks"
                                " JOIN posts ON posts.id = chunks.post_id ORDER BY chunks.id").fetchall()
            model = store.ranking_embedder(data_dir, {store.RANKING_MODEL: name}, settings.embedder)
            vectors = embed_passages(conn, [embedding_text(t, h, p) for _, t, h, p in rows], model, settings,
                                     progress, label="the adapted model")
            store.set_ranking(conn, name, {row[0]: v for row, v in zip(rows, vectors)})
            report.passages = len(rows)
            report.embed_seconds = time.perf_counter() - started
            _remove_others(models, keep=name)
        finally:
            conn.close()
    return report


def undo(data_dir: str | Path) -> bool:
    """Search ranks with the packaged model again and the adapted model is deleted. False when
    the index had none."""
    data_dir = Path(data_dir)
    conn = store.connect(data_dir)   # IndexUnavailable when there is no index
    try:
        with data_dir_lock(data_dir):
            had = store.RANKING_MODEL in dict(conn.execute("SELECT key, value FROM meta"))
            if had:
                store.set_ranking(conn, None, {})
            _remove_others(data_dir / MODELS_DIR, keep=None)
    finally:
        conn.close()
    return had


def _training_id(pairs: list[TrainingPair], base: Path, settings: Settings) -> str:
    """Names the model by what it is trained from: the pairs, the base model and the settings."""
    training = {k: v for k, v in asdict(settings.adapt).items() if k not in ("checkpoint_steps", "min_pairs")}
    digest = hashlib.sha1(repr((str(base), sorted(training.items()))).encode())
    for pair in pairs:
        digest.update(f"{pair.post_id}\x1f{pair.anchor}\x1f{pair.passage}\x1e".encode())
    return digest.hexdigest()[:12]


def _remove_others(models: Path, keep: str | None) -> None:
    """Delete earlier adapted models and abandoned trainings (a changed blog trains a new model)."""
    if not models.is_dir():
        return
    for entry in models.iterdir():
        if entry.name != keep and entry.name.startswith((MODEL_PREFIX, WORK_PREFIX)) and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)


def _train(plan: list[list[TrainingPair]], base: Path, folder: Path, work: Path, settings: Settings,
           progress: Progress, restart: bool, report: AdaptReport) -> None:
    """Fine-tune `base` on the batches of `plan` and write the tuned model to `folder`, checkpointing in `work`."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    cfg = settings.adapt
    torch.set_num_threads(max(1, len(os.sched_getaffinity(0))))
    device = settings.embedder.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    total = len(plan)
    warmup = max(1, round(total * cfg.warmup_share))

    def fresh() -> tuple:
        """The base model, its loss, optimizer and learning-rate schedule, as at step 0."""
        torch.manual_seed(cfg.seed)
        model = SentenceTransformer(str(base), device=device, local_files_only=True)
        model.max_seq_length = cfg.max_seq_length
        optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.learning_rate)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: min(1.0, (step + 1) / warmup) * max(0.0, (total - step) / total))
        return model, MultipleNegativesRankingLoss(model), optimizer, scheduler

    progress("loading the embedding model to adapt it")
    parts = fresh()
    checkpoint = work / CHECKPOINT
    if restart:
        shutil.rmtree(work, ignore_errors=True)
    parts, start = _resume(checkpoint, work, parts, fresh, device, total, progress, report)
    work.mkdir(parents=True, exist_ok=True)
    report.steps = total
    model = parts[0]
    model.train()
    started = time.perf_counter()
    _run_steps(plan, start, parts, device, checkpoint, cfg.checkpoint_steps, progress, started)
    report.train_seconds = time.perf_counter() - started
    _save_model(model, base, folder)
    shutil.rmtree(work, ignore_errors=True)


def _resume(checkpoint: Path, work: Path, parts: tuple, fresh: Callable[[], tuple], device: str, total: int,
            progress: Progress, report: AdaptReport) -> tuple[tuple, int]:
    """The training `parts` (model, loss, optimizer, schedule) as the checkpoint left them and the
    step to go on from; as they are and step 0 without a checkpoint, `fresh()` ones and step 0 when
    it cannot be read."""
    import torch

    if not checkpoint.is_file():
        return parts, 0
    model, _, optimizer, scheduler = parts
    try:
        state = torch.load(checkpoint, map_location=device, weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["rng"])   # dropout goes on as it would have (on CPU)
        start = int(state["step"])
    except Exception as exc:   # a checkpoint of another version or a damaged file: train from the start
        progress(f"the checkpoint in {work} cannot be read ({exc.__class__.__name__}): starting over")
        return fresh(), 0
    report.resumed_at = start
    progress(f"resuming at step {start} of {total}")
    return parts, start


def _run_steps(plan: list[list[TrainingPair]], start: int, parts: tuple, device: str, checkpoint: Path,
               checkpoint_steps: int, progress: Progress, started: float) -> None:
    """Train on the batches of `plan` from step `start` on, saving a checkpoint (and reporting
    progress) every `checkpoint_steps` steps and after the last one."""
    import torch

    model, loss, optimizer, scheduler = parts
    total = len(plan)
    losses: list[float] = []
    for step in range(start, total):
        batch = plan[step]
        features = [{key: value.to(device) if isinstance(value, torch.Tensor) else value
                     for key, value in model.preprocess(texts).items()}
                    for texts in ([p.anchor for p in batch], [p.passage for p in batch])]
        value = loss(features, None)
        value.backward()
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        losses.append(float(value.detach()))
        done = step + 1
        if done % checkpoint_steps == 0 or done == total:
            _save_checkpoint(torch, checkpoint, model, optimizer, scheduler, done)
            progress(_progress_line(done, start, total, time.perf_counter() - started, losses))
            losses = []


def _progress_line(done: int, start: int, total: int, seconds: float, losses: list[float]) -> str:
    width = 20
    filled = round(width * done / total)
    left = seconds / max(1, done - start) * (total - done)
    loss = f", loss {sum(losses) / len(losses):.3f}" if losses else ""
    return f"[{'#' * filled}{'.' * (width - filled)}] step {done}/{total}{loss}, about {left:.0f} s left"


def _save_checkpoint(torch, path: Path, model, optimizer, scheduler, step: int) -> None:
    """Written whole or not at all: a crash while saving keeps the previous checkpoint."""
    partial = path.with_suffix(".partial")
    torch.save({"step": step, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "rng": torch.get_rng_state()}, partial)
    os.replace(partial, path)


def _save_model(model, base: Path, folder: Path) -> None:
    """The base model's folder (tokenizer, pooling, sequence length) with the tuned weights, written
    beside the final place and renamed into it, so a folder with a config.json is always complete."""
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    root_weights = shutil.ignore_patterns(*_WEIGHT_FILES)
    shutil.copytree(base, partial, ignore=lambda folder, names: root_weights(folder, names) if Path(folder) == base else set())
    model[0].auto_model.save_pretrained(partial, safe_serialization=True)
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(partial, folder)
