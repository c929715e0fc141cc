"""What every `blogbot` command shares: the usage error, the data dir, the settings, stderr lines."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from knowledge.search.retrieval import Retriever
    from knowledge.settings import Settings


class UsageError(Exception):
    """Bad usage or bad input: exit code 2."""


def data_dir_of(args: argparse.Namespace) -> Path:
    """The data dir: --data-dir, else $BLOGBOT_DATA_DIR, else ./.blogbot."""
    return Path(args.data_dir or os.environ.get("BLOGBOT_DATA_DIR") or ".blogbot")


def checked_settings() -> Settings:
    """The settings, or a usage error that says what is wrong with them."""
    from knowledge.settings import SettingsError, load_settings

    try:
        return load_settings()
    except SettingsError as exc:
        raise UsageError(str(exc)) from None


def retriever_of(args: argparse.Namespace) -> Retriever:
    """The retriever over the data dir's index, or a usage error when there is none."""
    from knowledge.corpus.index import IndexUnavailable
    from knowledge.search.retrieval import Retriever

    try:
        return Retriever(data_dir_of(args), checked_settings())
    except IndexUnavailable as exc:
        raise UsageError(str(exc)) from None


def stderr(message: str) -> None:
    """One line on stderr, flushed."""
    print(message, file=sys.stderr, flush=True)


def progress(quiet: bool) -> Callable[[str], None]:
    """Progress lines on stderr, or none."""
    return (lambda m: None) if quiet else (lambda m: stderr(f"… {m}"))
