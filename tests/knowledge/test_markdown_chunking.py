"""markdown_sections (markdown + Liquid + HTML to clean text) and chunk_sections (passages)."""

from __future__ import annotations

import textwrap

from knowledge.corpus.chunking import chunk_sections, embedding_text
from knowledge.corpus.markdown_text import Block, Section, markdown_sections


def sections_of(markdown: str) -> list[Section]:
    return markdown_sections(textwrap.dedent(markdown))


def all_text(sections: list[Section]) -> str:
    return "\n".join([s.heading for s in sections] + [b.text for s in sections for b in s.blocks])


def test_liquid_link_becomes_plain_text():
    sections = sections_of("""
        In my [RAG basics post]({{ "/article/rag-basics/" | relative_url }}) I used dense vectors only.
        See also {{ '/article/hybrid/' | relative_url }} and {{ site.url }} here.
        """)
    text = all_text(sections)
    assert "In my RAG basics post I used dense vectors only." in text
    assert "/article/hybrid/" in text
    assert "{" not in text and "}" not in text and "relative_url" not in text


def test_liquid_tags_are_dropped():
    text = all_text(sections_of("""
        {% include toc.html %}
        Before {% comment %}x{% endcomment %} after.
        """))
    assert "Before" in text and "after." in text
    assert "{%" not in text and "include" not in text


def test_highlight_block_becomes_code_block():
    [section] = sections_of("""
        Fusion in Python:

        {% highlight python %}
        def rrf(rankings, k=60):
            return sorted(scores)
        {% endhighlight %}

        That is all.
        """)
    assert [b.is_code for b in section.blocks] == [False, True, False]
    code = section.blocks[1].text
    assert code == "def rrf(rankings, k=60):\n    return sorted(scores)"
    assert "highlight" not in all_text([section])


def test_raw_block_inside_highlight_keeps_braces_verbatim():
    # Jekyll prints everything between {% raw %} and {% endraw %} as written: the page shows the
    # Go template, so the indexed code must show it too.
    [section] = sections_of("""
        {% highlight bash %}
        {% raw %}
        $ oc get route argocd-server --template='{{ .spec.host }}'
        {% endraw %}
        {% endhighlight %}
        """)
    [block] = section.blocks
    assert block.is_code
    assert block.text == "$ oc get route argocd-server --template='{{ .spec.host }}'"


def test_code_fence_is_kept_verbatim():
    fence = 'kubectl get pods -n demo  # two spaces kept\n  indented: "value" <tag> & *stars*'
    [section] = sections_of("Text first.\n\n```bash\n" + fence + "\n```\n")
    assert section.blocks[-1] == Block(fence, is_code=True)


def test_image_gives_alt_text():
    text = all_text(sections_of("![The reconcile loop: watch, compare, act](/assets/img/operator-loop.png)\n"))
    assert "The reconcile loop: watch, compare, act" in text
    assert "operator-loop.png" not in text


def test_html_fragment_gives_text_without_script_or_iframe():
    text = all_text(sections_of("""
        <div class="note">
        <p>Remember to <b>rotate</b> the keys.</p>
        <img src="x.png" alt="Key rotation diagram">
        <script>trackVisitor("secret-tracker");</script>
        <iframe src="https://www.youtube.com/embed/x">Video fallback</iframe>
        </div>
        """))
    assert "Remember to rotate the keys." in text
    assert "Key rotation diagram" in text
    assert "trackVisitor" not in text and "secret-tracker" not in text
    assert "Video fallback" not in text and "youtube" not in text
    assert "<" not in text


def test_table_gives_rows():
    [section] = sections_of("""
        | Criterion | pgvector | FAISS |
        |-----------|----------|-------|
        | Type      | Postgres extension | library |
        """)
    assert [b.text for b in section.blocks] == ["Criterion | pgvector | FAISS", "Type | Postgres extension | library"]


def test_list_items_and_emphasis():
    [section] = sections_of("""
        - **Exact terms** are hard for dense vectors.
        - Keyword search helps.
        """)
    assert [b.text for b in section.blocks] == ["- Exact terms are hard for dense vectors.", "- Keyword search helps."]


def test_lines_that_are_only_link_titles_are_left_out():
    # A list of further reading says nothing once its addresses are gone; an answer must not quote it.
    [section] = sections_of("""
        Check out these resources:

        - [Hugging Face Transformers Installation](https://example.com/install)
        - [Tutorial: semantic search](https://example.com/t), [The reference guide](https://example.com/r).
        - [Tekton](https://tekton.dev) runs each step in a container.
        - [![diagram](/img/a.png)](https://example.com/a)

        [Watch the demo video](https://example.com/demo)

        See the [documentation](https://example.com/doc).
        """)
    assert [b.text for b in section.blocks] == ["Check out these resources:", "- Tekton runs each step in a container.",
                                                "- diagram", "See the documentation."]


def test_links_that_name_things_or_say_something_are_kept():
    [section] = sections_of("""
        Supported runtimes:

        - [Docker](https://docker.com)
        - [Podman](https://podman.io)
        - [Tekton runs each step of a pipeline in a container.](https://tekton.dev)
        - [The Tekton documentation site](https://tekton.dev/docs)
          - has a getting started guide

        <https://tekton.dev>
        """)
    assert [b.text for b in section.blocks] == [
        "Supported runtimes:", "- Docker", "- Podman", "- Tekton runs each step of a pipeline in a container.",
        "- The Tekton documentation site", "- has a getting started guide", "https://tekton.dev"]


def test_post_of_links_only_keeps_them():
    [section] = sections_of("""
        - [Tekton documentation](https://tekton.dev/docs)
        - [Argo CD](https://argo-cd.readthedocs.io)
        """)
    assert [b.text for b in section.blocks] == ["- Tekton documentation", "- Argo CD"]


def test_headings_split_sections():
    sections = sections_of("""
        Intro paragraph.

        ## Installing

        Install it.

        ### Details

        More details.

        ## Usage

        Use it.
        """)
    assert [s.heading for s in sections] == ["", "Installing", "Details", "Usage"]
    assert [[b.text for b in s.blocks] for s in sections] == [
        ["Intro paragraph."], ["Install it."], ["More details."], ["Use it."]]


# -- chunking ---------------------------------------------------------------------------------------


def test_chunks_never_cross_a_heading_and_carry_it():
    sections = sections_of("""
        Short intro.

        ## Alpha

        Alpha text one.

        Alpha text two.

        ## Beta

        Beta text.
        """)
    chunks = chunk_sections(sections, max_chars=900)
    assert [(c.heading, c.text) for c in chunks] == [
        ("", "Short intro."), ("Alpha", "Alpha text one.\nAlpha text two."), ("Beta", "Beta text.")]
    assert [c.ordinal for c in chunks] == [0, 1, 2]


def test_chunks_respect_max_chars():
    sentences = [f"Sentence number {i} talks about vector search and ranking quality." for i in range(200)]
    paragraphs = [" ".join(sentences[i:i + 10]) for i in range(0, 200, 10)]
    sections = sections_of("## Long\n\n" + "\n\n".join(paragraphs) + "\n")
    chunks = chunk_sections(sections, max_chars=500)
    assert len(chunks) > 10
    assert all(len(c.text) <= 500 for c in chunks)
    assert all(c.heading == "Long" for c in chunks)
    joined = " ".join(" ".join(c.text.split()) for c in chunks)
    assert all(s in joined for s in sentences)          # nothing lost


def test_one_huge_paragraph_is_split():
    words = " ".join(f"word{i}" for i in range(900))   # about 5,000 characters, no sentence ends
    assert len(words) > 5000
    chunks = chunk_sections([Section("Huge", [Block(words)])], max_chars=900)
    assert len(chunks) >= 6
    assert all(len(c.text) <= 900 for c in chunks)
    assert " ".join(c.text for c in chunks).split() == words.split()


def test_unbreakable_text_is_cut_hard():
    blob = "x" * 5000
    chunks = chunk_sections([Section("", [Block(blob)])], max_chars=900)
    assert all(len(c.text) <= 900 for c in chunks)
    assert "".join(c.text for c in chunks) == blob


def test_prose_excludes_code():
    sections = sections_of("""
        ## Setup

        Run this command:

        ```bash
        pip install peft bitsandbytes
        ```

        Then train.
        """)
    [chunk] = chunk_sections(sections)
    assert "pip install peft" in chunk.text
    assert "pip install" not in chunk.prose
    assert chunk.prose == "Run this command:\nThen train."


def test_embedding_text_carries_title_and_heading():
    assert embedding_text("Tekton Pipelines", "Installing", "Apply the release YAML.") == \
        "Tekton Pipelines — Installing\nApply the release YAML."
    assert embedding_text("Tekton Pipelines", "", "Intro.") == "Tekton Pipelines\nIntro."
    assert embedding_text("Tekton Pipelines", "Code only", "") == "Tekton Pipelines — Code only"
