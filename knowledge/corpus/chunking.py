"""Split a post's sections into passages that follow its headings."""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.corpus.markdown_text import Block, Section

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])|\n+")


@dataclass
class Chunk:
    """A passage of a post: its section heading and text, in reading order."""

    ordinal: int
    heading: str
    text: str
    prose: str    # the text without code blocks: what the embedder sees



def embedding_text(title: str, heading: str, prose: str) -> str:
    """What gets embedded for a passage: the post title and section heading carried with its prose.

    Code is left to BM25: it costs many tokens and says little to a sentence embedder.
    """
    head = f"{title} — {heading}" if heading else title
    return f"{head}\n{prose}" if prose else head


def split_sentences(text: str) -> list[str]:
    """Sentences (and lines) of a text, stripped, empty ones dropped."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def _pieces(block: str, limit: int) -> list[str]:
    """A block no longer than `limit`, or its sentences (and hard cuts of overlong sentences)."""
    if len(block) <= limit:
        return [block]
    pieces: list[str] = []
    for sentence in split_sentences(block):
        while len(sentence) > limit:
            cut = sentence.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if sentence:
            pieces.append(sentence)
    return pieces


def chunk_sections(sections: list[Section], max_chars: int = 900) -> list[Chunk]:
    """Passages of at most about `max_chars`: blocks of one section packed together, never across headings."""
    chunks: list[Chunk] = []
    for section in sections:
        current: list[Block] = []
        size = 0
        for block in section.blocks:
            for piece in _pieces(block.text, max_chars):
                if current and size + len(piece) + 1 > max_chars:
                    chunks.append(_chunk(len(chunks), section.heading, current))
                    current, size = [], 0
                current.append(Block(piece, block.is_code))
                size += len(piece) + 1
        if current:
            chunks.append(_chunk(len(chunks), section.heading, current))
    return chunks


def _chunk(ordinal: int, heading: str, blocks: list[Block]) -> Chunk:
    return Chunk(ordinal, heading, "\n".join(b.text for b in blocks),
                 "\n".join(b.text for b in blocks if not b.is_code))
