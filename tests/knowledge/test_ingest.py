"""Ingest on small tmp blogs: incremental updates, removals, bad files, locking, and a killed ingest."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from helpers import BLOGBOT, REPO, post_text
from knowledge.corpus.ingest import IngestBusy, data_dir_lock, ingest
from knowledge.search.retrieval import Retriever

SMALL_BLOG = {
    "2021-01-10-sourdough-starter.md": post_text(
        "Keeping a Sourdough Starter Alive", """
        A sourdough starter is flour and water full of wild yeast. I feed mine every evening.

        ## Feeding schedule

        Discard half, then add equal weights of rye flour and water. Keep the jar at room temperature.
        """, date="2021-01-10", tags=["baking", "bread"]),
    "2021-02-14-rust-borrow-checker.md": post_text(
        "Making Peace with the Rust Borrow Checker", """
        The borrow checker rejects programs that could use memory after it was freed.

        ## Lifetimes

        A reference must never outlive the value it points to; lifetimes make that explicit.
        """, date="2021-02-14", tags=["rust"]),
    "2021-03-21-alpine-hiking.md": post_text(
        "Hut-to-Hut Hiking in the Alps", """
        Walking from one mountain hut to the next for a week needs little gear but good boots.

        ## Packing list

        Rain jacket, sleeping bag liner, headlamp and a paper map of the glacier region.
        """, date="2021-03-21", tags=["travel"]),
}


def permalinks(retriever: Retriever, query: str, mode: str = "hybrid", k: int = 10) -> list[str]:
    return [hit.post.permalink for hit in retriever.search(query, k=k, mode=mode)]


@pytest.fixture
def small_blog(make_blog) -> Path:
    return make_blog(SMALL_BLOG)


def test_first_ingest_then_nothing_changed(small_blog, tmp_path, settings):
    data = tmp_path / "data"
    first = ingest(small_blog, data, settings)
    assert (first.indexed, first.unchanged, first.removed, first.skipped) == (3, 0, 0, 0)
    assert first.passages_embedded >= 3
    second = ingest(small_blog, data, settings)
    assert (second.indexed, second.unchanged, second.removed, second.skipped) == (0, 3, 0, 0)
    assert second.passages_embedded == 0
    assert second.summary().startswith("indexed 0, unchanged 3, removed 0, skipped 0 (0 passages embedded")
    retriever = Retriever(data, settings)
    try:
        assert permalinks(retriever, "how often to feed a sourdough starter")[0] == "/2021/01/10/sourdough-starter/"
        assert len(retriever.search("anything at all", k=10, mode="dense")) == 3
    finally:
        retriever.close()


def test_editing_one_post_reindexes_only_that_post(small_blog, tmp_path, settings):
    data = tmp_path / "data"
    ingest(small_blog, data, settings)
    retriever = Retriever(data, settings)     # opened before the change: must see the new index
    try:
        path = small_blog / "_posts" / "2021-02-14-rust-borrow-checker.md"
        path.write_text(path.read_text() + "\n## Interior mutability\n\nRefCell moves the aliasing check to run time.\n")
        report = ingest(small_blog, data, settings)
        assert (report.indexed, report.unchanged, report.removed, report.skipped) == (1, 2, 0, 0)
        assert 1 <= report.passages_embedded <= 2    # only the new passage (and the one it joined) is embedded
        [hit] = retriever.search("RefCell aliasing check at run time", k=1, mode="bm25")
        assert hit.post.permalink == "/2021/02/14/rust-borrow-checker/"
        assert "RefCell" in hit.snippet
        assert len(retriever.search("anything", k=10, mode="dense")) == 3
    finally:
        retriever.close()


def test_deleting_a_post_removes_it_from_search(small_blog, tmp_path, settings):
    data = tmp_path / "data"
    ingest(small_blog, data, settings)
    retriever = Retriever(data, settings)
    try:
        assert "/2021/03/21/alpine-hiking/" in permalinks(retriever, "mountain hut hiking boots", mode="bm25")
        (small_blog / "_posts" / "2021-03-21-alpine-hiking.md").unlink()
        report = ingest(small_blog, data, settings)
        assert (report.indexed, report.unchanged, report.removed) == (0, 2, 1)
        for mode in ("bm25", "dense", "hybrid"):
            assert "/2021/03/21/alpine-hiking/" not in permalinks(retriever, "mountain hut hiking boots glacier", mode)
        assert permalinks(retriever, "mountain hut hiking boots glacier", mode="bm25") == []
    finally:
        retriever.close()
    fresh = Retriever(data, settings)
    try:
        assert "/2021/03/21/alpine-hiking/" not in permalinks(fresh, "hiking in the Alps", "dense")
        assert len(fresh.search("anything", k=10, mode="dense")) == 2
    finally:
        fresh.close()


def test_bad_files_are_skipped_and_the_rest_indexed(make_blog, tmp_path, settings):
    posts = dict(SMALL_BLOG)
    posts["2021-04-01-empty.md"] = ""
    posts["2021-04-02-broken-yaml.md"] = "---\ntitle: Broken: yes: really\n---\n\nThe kettle descaling guide.\n"
    blog = make_blog(posts)
    (blog / "_posts" / "2021-04-03-picture.md").write_bytes(b"GIF89a\x00\x01\x00\x00" + bytes(64))
    warned: list[str] = []
    report = ingest(blog, tmp_path / "data", settings, warn=warned.append)
    assert report.indexed == 4           # three good posts plus the repaired one
    assert report.skipped == 2           # the empty file and the binary one
    assert report.warnings == warned
    assert any("2021-04-01-empty.md" in w and "empty" in w for w in warned)
    assert any("2021-04-03-picture.md" in w and "binary" in w for w in warned)
    assert any("2021-04-02-broken-yaml.md" in w and "front matter" in w for w in warned)
    retriever = Retriever(tmp_path / "data", settings)
    try:
        assert permalinks(retriever, "kettle descaling", mode="bm25") == ["/2021/04/02/broken-yaml/"]
    finally:
        retriever.close()
    again = ingest(blog, tmp_path / "data", settings)
    assert (again.indexed, again.unchanged, again.skipped) == (0, 4, 2)


def test_ingest_without_text_to_index_skips_post(make_blog, tmp_path, settings):
    posts = dict(SMALL_BLOG)
    posts["2021-05-01-only-liquid.md"] = "---\ntitle: Only an include\n---\n\n{% include gallery.html %}\n"
    report = ingest(make_blog(posts), tmp_path / "data", settings)
    assert (report.indexed, report.skipped) == (3, 1)
    assert any("2021-05-01-only-liquid.md" in w for w in report.warnings)


def test_second_concurrent_ingest_is_refused(small_blog, tmp_path, settings):
    data = tmp_path / "data"
    with data_dir_lock(data):
        with pytest.raises(IngestBusy, match="another ingest"):
            ingest(small_blog, data, settings)
    report = ingest(small_blog, data, settings)     # the lock is free again
    assert report.indexed == 3


# -- a killed ingest ------------------------------------------------------------------------------

SUBJECTS = ["garbage collection", "database indexes", "unit testing", "container images", "message queues",
            "caching layers", "feature flags", "load balancers", "log aggregation", "schema migrations"]


def generated_post(number: int, extra: str = "") -> str:
    subject = SUBJECTS[number % len(SUBJECTS)]
    return post_text(f"Field note {number}: {subject}", f"""
        Note {number} collects what I learned about {subject} this month. Marker word: marker{number:02d}.

        ## Background {number}

        Teams often misjudge {subject}: the defaults look fine until traffic grows. Note {number} lists the traps.

        ## What worked {number}

        Measuring first helped most with {subject}. I wrote down numbers before and after every change.

        ## Open questions {number}

        I still wonder how {subject} behaves under failure. {extra}
        """, date=f"2022-{1 + number % 12:02d}-{1 + number % 28:02d}", tags=["notes"])


def generated_name(number: int) -> str:
    return f"2022-{1 + number % 12:02d}-{1 + number % 28:02d}-field-note-{number:02d}.md"


@pytest.mark.slow
def test_killed_ingest_leaves_previous_index_and_keeps_its_embeddings(tmp_path, settings):
    blog = tmp_path / "blog"
    data = tmp_path / "data"
    old_count, new_count = 10, 40
    from helpers import write_blog

    write_blog(blog, {generated_name(i): generated_post(i) for i in range(old_count)})
    first = ingest(blog, data, settings)
    assert first.indexed == old_count
    old_permalinks = {f"/2022/{1 + i % 12:02d}/{1 + i % 28:02d}/field-note-{i:02d}/" for i in range(old_count)}

    # The new version: 30 more posts and one old post rewritten.
    write_blog(blog, {generated_name(i): generated_post(i) for i in range(old_count, new_count)}, config=None)
    write_blog(blog, {generated_name(0): generated_post(0, extra="Rewritten with a zeppelin anecdote.")}, config=None)

    # Small embedding batches, so the run commits several batches before it writes the index.
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "settings.yml").write_text("ingest:\n  embed_batch_size: 4\n")
    env = dict(os.environ, BLOGBOT_CONFIG_DIR=str(config_dir), HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([str(BLOGBOT), "ingest", str(blog), "--data-dir", str(data)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    fallback = threading.Timer(90, lambda: proc.send_signal(signal.SIGKILL))
    fallback.start()
    lines: list[str] = []
    embedded = None    # (done, total) of the last "embedded" line read before the kill
    killed = False
    try:
        for line in proc.stderr:
            lines.append(line.rstrip("\n"))
            match = re.search(r"embedded (\d+)/(\d+) passages", line)
            if match:
                embedded = (int(match.group(1)), int(match.group(2)))
                if embedded[0] < embedded[1]:
                    proc.send_signal(signal.SIGKILL)
                    killed = True
                    break
            assert not line.startswith("… writing"), "ingest reached the writing step before it was killed"
        returncode = proc.wait(timeout=30)
    finally:
        fallback.cancel()
        proc.kill()
        proc.stdout.close()
        proc.stderr.close()
    assert returncode == -signal.SIGKILL, f"ingest was not killed (exit {returncode}); stderr: {lines}"
    assert killed or embedded is None, lines

    # The previous index is whole: exactly the old posts, the old text of the rewritten one.
    retriever = Retriever(data, settings)
    try:
        everything = retriever.search("field note", k=100, mode="dense")
        assert {hit.post.permalink for hit in everything} == old_permalinks
        assert len(everything) == old_count
        assert permalinks(retriever, f"marker{new_count - 1:02d}", mode="bm25") == []
        assert permalinks(retriever, "zeppelin anecdote", mode="bm25") == []
        assert permalinks(retriever, "marker03", mode="bm25") == ["/2022/04/04/field-note-03/"]
    finally:
        retriever.close()

    # Run it again to the end: the new posts arrive, and the killed run's vectors were kept.
    report = ingest(blog, data, settings)
    assert (report.indexed, report.unchanged, report.removed, report.skipped) == (new_count - old_count + 1, old_count - 1, 0, 0)
    retriever = Retriever(data, settings)
    try:
        assert len(retriever.search("field note", k=100, mode="dense")) == new_count
        assert permalinks(retriever, f"marker{new_count - 1:02d}", mode="bm25") == ["/2022/04/12/field-note-39/"]
        assert permalinks(retriever, "zeppelin anecdote", mode="bm25") == ["/2022/01/01/field-note-00/"]
    finally:
        retriever.close()
    if embedded is not None:
        done, total = embedded
        assert report.passages_embedded < total
        assert report.passages_embedded <= total - done


# -- Hugo and Zola sites: the addresses they publish ------------------------------------------------


def write_files(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


HUGO_BLOG = {
    "hugo.toml": 'baseURL = "https://k.example.org"\ncontentDir = "content/en"\n'
                 '[permalinks]\nblog = "/:section/:year/:month/:day/:slug/"\n',
    "content/en/blog/_posts/2023-08-25-sidecars.md":
        "---\ntitle: Native sidecars\ndate: 2023-08-25\nslug: native-sidecar-containers\n"
        "authors: [Todd Neal, Gabriele Bartolini]\n---\n\nSidecar containers now start before the main container.\n",
    "content/en/blog/_posts/2021-04-22-gateway/index.md":
        "\n---\ntitle: Gateway API\ndate: 2021-04-22\nauthor: Rob Scott\n---\n\nThe Gateway API models routes and listeners.\n",
}


def test_ingest_hugo_site_stores_published_urls_and_authors(tmp_path, settings):
    site = write_files(tmp_path / "site", HUGO_BLOG)
    report = ingest(site, tmp_path / "data", settings)
    assert (report.indexed, report.skipped, report.warnings) == (2, 0, [])
    retriever = Retriever(tmp_path / "data", settings)
    try:
        stored = {p.source: (p.url, p.authors) for p in retriever.posts.values()}
        [hit] = retriever.search("gateway routes listeners", k=1, mode="bm25")
    finally:
        retriever.close()
    assert stored == {
        "content/en/blog/_posts/2023-08-25-sidecars.md": (
            "https://k.example.org/blog/2023/08/25/native-sidecar-containers/", ["Todd Neal", "Gabriele Bartolini"]),
        "content/en/blog/_posts/2021-04-22-gateway/index.md": (
            "https://k.example.org/blog/2021/04/22/gateway-api/", ["Rob Scott"]),
    }
    assert hit.post.title == "Gateway API"     # the front matter after a blank line was read, not indexed as text


def test_incremental_ingest_never_gives_two_posts_one_address(tmp_path, settings):
    site = write_files(tmp_path / "site", {
        "hugo.toml": 'baseURL = "https://x.example.org"\n',
        "content/posts/b.md": "---\ntitle: First at the address\ndate: 2024-01-01\nurl: /same/\n---\n\nKettles.\n",
    })
    data = tmp_path / "data"
    ingest(site, data, settings)
    # A later post at the same address (sorting before the first): the indexed one keeps it.
    write_files(site, {"content/posts/a.md": "---\ntitle: Second\ndate: 2024-02-01\nurl: /same/\n---\n\nTeapots.\n"})
    warned: list[str] = []
    report = ingest(site, data, settings, warn=warned.append)
    assert (report.indexed, report.unchanged) == (1, 1)
    assert len(warned) == 1 and "content/posts/a.md" in warned[0] and "content/posts/b.md" in warned[0]
    again = ingest(site, data, settings)
    assert (again.indexed, again.unchanged, again.warnings) == (0, 2, [])
    retriever = Retriever(data, settings)
    try:
        urls = {p.source: p.url for p in retriever.posts.values()}
    finally:
        retriever.close()
    assert urls == {"content/posts/b.md": "https://x.example.org/same/",
                    "content/posts/a.md": "https://x.example.org/same/#a"}


def test_unreadable_site_config_is_one_warning(tmp_path, settings):
    site = write_files(tmp_path / "site", {
        "hugo.toml": 'baseURL = "https://x.example.org"\n[permalinks\n',
        "content/posts/x.md": "---\ntitle: X\ndate: 2024-01-01\n---\n\nText about x.\n",
    })
    report = ingest(site, tmp_path / "data", settings)
    assert report.indexed == 1
    assert len(report.warnings) == 1 and "hugo.toml" in report.warnings[0]


def test_index_without_the_authors_column_still_opens(small_blog, tmp_path, settings):
    """An index written before posts had authors gains the column (empty until the next ingest)."""
    import sqlite3

    data = tmp_path / "data"
    ingest(small_blog, data, settings)
    conn = sqlite3.connect(data / "index.sqlite3")
    conn.execute("ALTER TABLE posts DROP COLUMN authors")
    conn.commit()
    conn.close()
    retriever = Retriever(data, settings)
    try:
        assert {tuple(p.authors) for p in retriever.posts.values()} == {()}
        assert len(retriever.search("sourdough", k=3, mode="bm25")) == 1
    finally:
        retriever.close()
