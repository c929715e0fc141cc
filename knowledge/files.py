"""Writing files whole: a reader or a crash never sees half a file."""

from __future__ import annotations

import os
from pathlib import Path


def write_text_whole(path: str | Path, text: str) -> None:
    """Write `text` to `path` (UTF-8) through a temporary file beside it, renamed into place; the
    temporary file is gone afterwards, whether the write succeeded or not."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
