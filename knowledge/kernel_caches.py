"""torch's oneDNN backend on the CPU: a bound on the kernels it keeps, so memory stays flat over
questions, and whether it computes bfloat16 natively (`cpu_has_bfloat16`).

On the CPU, torch runs the models' matrix products through oneDNN (always for bfloat16, and for
some float32 shapes too). oneDNN compiles a kernel for each input shape and keeps it in two caches:
its own primitive cache (process-wide) and ideep's LRU cache (one per thread), each holding up to
1,024 entries by default, of about 0.7 MB for a sentence batch's shapes and up to several MB for long
inputs. Every new question brings new shapes (the prompt's length, the sizes of the sentence batches
the answer composer embeds), so without a bound a server grows by several hundred MB per thousand
questions, per worker thread, until the caches are full (benchmarks/memory.py measures it).

Both caches read their capacity from the environment once, on their first use (ideep: per thread),
so the bound must be set before the first matrix product of the process: the embedder sets it as
it loads, which in blogbot comes before any model runs. A capacity the user set in the environment
wins. Numbers stay the same: a kernel made again computes what the cached one did.
"""

from __future__ import annotations

import os

_ONEDNN = ("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "DNNL_PRIMITIVE_CACHE_CAPACITY")   # oneDNN 3 reads either
_IDEEP = "LRU_CACHE_CAPACITY"


def bound_kernel_caches(entries: int) -> None:
    """Keep at most `entries` compiled kernels in each of oneDNN's caches (0: the libraries' defaults).

    Takes effect only if no matrix product has run yet in this process (in this thread, for
    ideep's cache); later calls change nothing."""
    if entries <= 0:
        return
    if not any(name in os.environ for name in _ONEDNN):
        os.environ[_ONEDNN[0]] = str(entries)
    os.environ.setdefault(_IDEEP, str(entries))   # ideep refuses 0: at least 1 here


def cpu_has_bfloat16() -> bool:
    """Whether oneDNN computes bfloat16 natively on this processor (then it is the faster precision)."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False
