"""What the blog's words say about a question: which posts contain a word or phrase, how rare a word
is, whether a word is a misspelling of one the blog uses, which posts are about what a query names.
The answer checks (abstention, evidence) ask these through the `Retriever`."""

from __future__ import annotations

import re
import numpy as np

from knowledge.search.loaded_index import LoadedIndex
from knowledge.words import query_words, stem


def _deletions(word: str) -> list[str]:
    """The word with one letter left out, in each position."""
    return [word[:i] + word[i + 1:] for i in range(len(word))]


class CorpusTerms(LoadedIndex):
    """Word and phrase statistics over the loaded index (FTS5 for matching, the passages for similarity)."""

    def _posts_with(self, word: str, limit: int) -> list[int]:
        sql = "SELECT rowid FROM posts_fts WHERE posts_fts MATCH ? LIMIT ?"
        return [r[0] for r in self._conn.execute(sql, (f'"{word.replace(chr(34), "")}"', limit))]

    def _in_few_posts(self, word: str, share: float) -> bool:
        """Whether some posts, but at most `share` of them, contain the word (call with the lock held)."""
        limit = max(1, int(share * len(self.posts)))
        return 0 < len(self._posts_with(word, limit + 1)) <= limit

    def contains(self, text: str) -> bool:
        """Whether some post contains the word or phrase (in any form the full-text index's stemming
        gives: "Rust 1.90" is in "Rust 1.90.0")."""
        with self._lock:
            self._refresh()
            return bool(self._posts_with(text, 1))

    def posts_containing(self, text: str) -> int:
        """How many posts contain the word or phrase (as `contains` matches it)."""
        with self._lock:
            self._refresh()
            return len(self._posts_with(text, len(self.posts)))

    def together(self, words: list[str], within: int) -> bool:
        """Whether some post has all the words at most `within` words apart ("Linux x86_64" in
        "x86_64 and aarch64 Linux")."""
        near = "NEAR(" + " ".join('"' + w.replace('"', "") + '"' for w in words) + f", {int(within)})"
        with self._lock:
            self._refresh()
            return self._conn.execute("SELECT 1 FROM posts_fts WHERE posts_fts MATCH ? LIMIT 1", (near,)).fetchone() is not None

    def near_spelling(self, word: str) -> bool:
        """Whether `word` is one letter away (left out, added, changed or swapped) from a word of at
        least two posts: a misspelling ("Kuberntes") rather than a thing the blog never names."""
        word = word.lower()
        if len(word) < self.settings.answer.typo_min_letters:
            return False
        with self._lock:
            self._refresh()
            if self._spellings is None:
                self._spellings = self._spelling_index()
            words, deleted = self._spellings
        # The index keeps stems ("kubernet"): the word is tried as written and without its ending.
        if any(form in words or form in deleted for form in (word, stem(word))):
            return True
        return any(form in words or form in deleted for form in _deletions(word))

    def _spelling_index(self) -> tuple[set[str], set[str]]:
        """The index's words (as stemmed) of at least two posts, and each of them with one letter left
        out: two words one edit apart share an entry (call with the lock held)."""
        self._conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.posts_vocab USING fts5vocab(main, posts_fts, row)")
        shortest = self.settings.answer.typo_min_letters - 2
        words = {t for (t,) in self._conn.execute("SELECT term FROM temp.posts_vocab WHERE doc >= 2")
                 if len(t) >= shortest and not t.isdigit()}
        return words, {d for w in words for d in _deletions(w)}

    def spells_out(self, acronym: str, post_id: int) -> bool:
        """Whether the post writes out the acronym as capitalized words with its letters as initials
        ("LDA": "Latent Dirichlet Allocation")."""
        pattern = re.compile(r"\b" + r"[\s-]+".join(rf"{re.escape(letter)}[a-z]+" for letter in acronym.upper()) + r"\b")
        with self._lock:
            row = self._conn.execute("SELECT title, body FROM posts_fts WHERE rowid=?", (post_id,)).fetchone()
        return row is not None and any(pattern.search(text) for text in row)

    def unknown_terms(self, query: str) -> list[str]:
        """Content words of the query (4+ letters) that no post contains: a sign the blog does not cover it."""
        words = query_words(query, 4)
        with self._lock:
            return [w for w in words if not self._posts_with(w, 1)]

    def specific_terms(self, query: str, post_id: int) -> list[str]:
        """Query words found in few posts (answer.specific_posts_share of them, at least
        answer.specific_min_posts) that post `post_id` contains, like "RRF"
        or "Tekton": evidence that the blog covers a question even when embeddings are unsure."""
        words = query_words(query, 3)
        cfg = self.settings.answer
        limit = max(cfg.specific_min_posts, int(len(self.posts) * cfg.specific_posts_share + 1e-9))
        with self._lock:
            found = []
            for word in words:
                posts = self._posts_with(word, limit + 1)
                if len(posts) <= limit and post_id in posts:
                    found.append(word)
            return found

    def rare_words(self, words: list[str], share: float) -> list[str]:
        """The words (lower-cased, each once) that some posts, but at most `share` of them, contain."""
        with self._lock:
            return [w for w in dict.fromkeys(w.lower() for w in words) if self._in_few_posts(w, share)]

    def rare_terms(self, query: str, share: float, ignore: frozenset = frozenset()) -> list[str]:
        """The query's words (3+ letters) that some posts but at most `share` of them contain."""
        with self._lock:
            return [w for w in query_words(query, 3) if w not in ignore and self._in_few_posts(w, share)]

    def closest_mention(self, query: str, word: str, post_ids: list[int]) -> float | None:
        """The highest similarity (packaged model's cosine) to the query of a passage of these posts
        that mentions the word (case-insensitive, whole word); 1.0 when one of the posts has it in its
        title (that post is about it); None when none of them mentions it."""
        from knowledge.corpus.embedder import get_embedder

        pattern = re.compile(rf"(?<!\w){re.escape(word.lower())}(?!\w)")
        rows: list[int] = []
        with self._lock:
            self._refresh()
            for post_id in post_ids:
                post = self.posts.get(post_id)
                if post is not None and pattern.search(post.title.lower()):
                    return 1.0
                rows += [self._row_of_chunk[cid] for cid, heading, text in self._conn.execute(
                    "SELECT id, heading, text FROM chunks WHERE post_id=?", (post_id,))
                    if pattern.search(f"{heading}\n{text}".lower())]
            vectors = self._matrix[rows]     # the matrix a refresh may replace
        if not rows:
            return None
        return float(np.max(vectors @ get_embedder(self.settings.embedder).encode([query])[0]))

    def mentions(self, word: str, post_id: int) -> int:
        """How often a post mentions a word (case-insensitive, whole word); its title counts twice."""
        with self._lock:
            row = self._conn.execute("SELECT title, body FROM posts_fts WHERE rowid=?", (post_id,)).fetchone()
        if row is None:
            return 0
        # Whole words, as the full-text index sees them: "minilm" is in "all-minilm-l6-v2".
        pattern = re.compile(rf"(?<!\w){re.escape(word.lower())}(?!\w)")
        return 2 * len(pattern.findall(row[0].lower())) + len(pattern.findall(row[1].lower()))

    def posts_about(self, query: str, ignore: frozenset = frozenset(), min_mentions: int = 3) -> list[int]:
        """The posts about what the query names, oldest first: those whose title has each of its
        content words (3+ letters, not in `ignore`) or whose text mentions it at least `min_mentions`
        times, in any form. Passing mentions don't make a post about something. Empty when
        the query names nothing."""
        return [pid for pid, _ in self._about(query, ignore, min_mentions)]

    def posts_titled_about(self, query: str, ignore: frozenset = frozenset(), min_mentions: int = 3) -> list[int]:
        """posts_about, newest first: those with all of the query's content words in their title, then the others."""
        about = self._about(query, ignore, min_mentions)[::-1]
        return [pid for pid, titled in about if titled] + [pid for pid, titled in about if not titled]

    def _about(self, query: str, ignore: frozenset, min_mentions: int) -> list[tuple[int, bool]]:
        """(post id, whether its title has every content word) of the posts about the query, oldest first."""
        words = [w for w in query_words(query, 3) if w not in ignore]
        min_mentions = max(1, min_mentions)
        if not words:
            return []
        match = " AND ".join(f'"{w.replace(chr(34), "")}"' for w in words)
        with self._lock:
            self._refresh()
            rows = self._conn.execute("SELECT rowid, title, body FROM posts_fts WHERE posts_fts MATCH ?", (match,)).fetchall()
        # Any form of the word, as the full-text index's stemming has it: "quantization", "quantizing".
        patterns = [re.compile(rf"(?<!\w){re.escape(stem(w))}\w*") for w in words]
        about = []
        for pid, title, body in rows:
            title, body = title.lower(), body.lower()
            in_title = [bool(p.search(title)) for p in patterns]
            if pid in self.posts and all(t or len(p.findall(body)) >= min_mentions
                                         for t, p in zip(in_title, patterns)):
                about.append((pid, all(in_title)))
        return sorted(about, key=lambda item: (self.posts[item[0]].date, item[0]))
