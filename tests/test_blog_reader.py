"""open_blog / read_post: front-matter variants, addresses, site kinds and bad files."""

from __future__ import annotations

import datetime as dt
import os
import textwrap
from pathlib import Path

import pytest

from knowledge.blog_reader import BlogError, open_blog, read_post

CONFIG = 'url: "https://blog.example.com"\nbaseurl: ""\npermalink: /:year/:month/:day/:title/\n'


def read_one(make_blog, settings, name: str, text: str, config: str | None = CONFIG, max_bytes: int | None = None):
    """Write a one-post Jekyll site and read that post: (post or None, warnings)."""
    root = make_blog({name: text}, config=config)
    blog = open_blog(root, settings.site)
    [path] = blog.files
    return read_post(blog, path, max_bytes or settings.ingest.max_file_bytes)


# -- dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize("front, expected", [
    ("date: '2008-09-29T00:00:00+00:00'", "2008-09-29"),
    ('date: "2024-01-17 16:20:00"', "2024-01-17"),
    ("date: 2025-01-27 01:05:00 +0100", "2025-01-27"),
    ("date: 2024-11-12T07:00:00Z", "2024-11-12"),
    ("date: 2021-07-14", "2021-07-14"),
], ids=["quoted-iso", "quoted-space", "unquoted-offset", "unquoted-utc", "plain-date"])
def test_date_from_front_matter(make_blog, settings, front, expected):
    # An undated file name: the date can only come from the front matter.
    post, warnings = read_one(make_blog, settings, "dated-post.md", f"---\ntitle: Dated\n{front}\n---\n\nText.\n")
    assert post.date == expected
    assert warnings == []


def test_front_matter_date_wins_over_file_name(make_blog, settings):
    post, _ = read_one(make_blog, settings, "2001-01-01-moved.md", "---\ntitle: Moved\ndate: 2019-09-23\n---\n\nText.\n")
    assert post.date == "2019-09-23"
    assert post.permalink == "/2019/09/23/moved/"


def test_no_date_uses_file_name(make_blog, settings):
    post, warnings = read_one(make_blog, settings, "2016-07-04-from-name.md", "---\ntitle: From name\n---\n\nText.\n")
    assert post.date == "2016-07-04"
    assert post.permalink == "/2016/07/04/from-name/"
    assert warnings == []


def test_no_date_and_undated_name_uses_mtime_with_warning(make_blog, settings):
    root = make_blog({"undated.md": "---\ntitle: Undated\n---\n\nText.\n"})
    path = root / "_posts" / "undated.md"
    noon = dt.datetime(2015, 6, 15, 12, 0).timestamp()
    os.utime(path, (noon, noon))
    blog = open_blog(root, settings.site)
    post, warnings = read_post(blog, path, settings.ingest.max_file_bytes)
    assert post.date == "2015-06-15"
    assert len(warnings) == 1
    assert "undated.md" in warnings[0] and "no date" in warnings[0] and "2015-06-15" in warnings[0]


# -- permalinks and URLs ------------------------------------------------------------------------


def test_permalink_from_front_matter(make_blog, settings):
    post, _ = read_one(make_blog, settings, "2020-11-02-tekton.md",
                       "---\ntitle: Tekton\npermalink: /article/tekton-pipelines/\n---\n\nText.\n")
    assert post.permalink == "/article/tekton-pipelines/"
    assert post.url == "https://blog.example.com/article/tekton-pipelines/"


def test_custom_permalink_list_without_slash(make_blog, settings):
    text = "---\ntitle: Dialogs\ncustom_permalink:\n  - article/watson-assistant-dialogs/\n---\n\nText.\n"
    post, _ = read_one(make_blog, settings, "2019-09-23-watson.md", text)
    assert post.permalink == "/article/watson-assistant-dialogs/"
    assert post.url == "https://blog.example.com/article/watson-assistant-dialogs/"


def test_pattern_from_config(make_blog, settings):
    text = "---\ntitle: Soft prompts\ncategories: [Machine Learning]\n---\n\nText.\n"
    post, _ = read_one(make_blog, settings, "2023-05-22-prompt-tuning-vs-fine-tuning.md", text)
    assert post.permalink == "/2023/05/22/prompt-tuning-vs-fine-tuning/"
    assert post.url == "https://blog.example.com/2023/05/22/prompt-tuning-vs-fine-tuning/"


def test_jekyll_style_name_in_config(make_blog, settings):
    config = 'url: "https://blog.example.com"\npermalink: pretty\n'
    post, _ = read_one(make_blog, settings, "2023-05-22-styled.md", "---\ntitle: Styled\n---\n\nText.\n", config=config)
    assert post.permalink == "/2023/05/22/styled/"


def test_default_jekyll_pattern_without_config(make_blog, settings):
    text = "---\ntitle: Soft prompts\ncategories: [Machine Learning]\n---\n\nText.\n"
    post, _ = read_one(make_blog, settings, "2023-05-22-prompt-tuning.md", text, config=None)
    assert post.permalink == "/machine-learning/2023/05/22/prompt-tuning.html"
    assert post.url == "/machine-learning/2023/05/22/prompt-tuning.html"   # no base URL known


def test_default_pattern_without_categories_has_no_double_slash(make_blog, settings):
    post, _ = read_one(make_blog, settings, "2023-05-22-plain.md", "---\ntitle: Plain\n---\n\nText.\n", config=None)
    assert post.permalink == "/2023/05/22/plain.html"


def test_url_is_config_url_plus_baseurl_plus_permalink(make_blog, settings):
    config = 'url: "https://example.org"\nbaseurl: "/blog"\npermalink: /:year/:title/\n'
    post, _ = read_one(make_blog, settings, "2022-02-08-helm.md", "---\ntitle: Helm\n---\n\nText.\n", config=config)
    assert post.permalink == "/2022/helm/"
    assert post.url == "https://example.org/blog/2022/helm/"


def test_site_base_url_setting_overrides_config(make_blog, settings):
    settings.site.base_url = "https://mirror.example.net/"
    post, _ = read_one(make_blog, settings, "2022-02-08-helm.md", "---\ntitle: Helm\n---\n\nText.\n")
    assert post.url == "https://mirror.example.net/2022/02/08/helm/"


# -- tags, categories, other keys ---------------------------------------------------------------


def test_tags_as_list_and_categories(make_blog, settings):
    text = "---\ntitle: T\ntags:\n  - llm\n  - fine-tuning\ncategories:\n  - Machine Learning\n---\n\nText.\n"
    post, _ = read_one(make_blog, settings, "2024-05-01-t.md", text)
    assert post.tags == ["llm", "fine-tuning"]
    assert post.categories == ["Machine Learning"]


def test_tags_as_space_separated_string(make_blog, settings):
    text = "---\ntitle: T\ntags: meta welcome personal\ncategories: general\n---\n\nText.\n"
    post, _ = read_one(make_blog, settings, "2019-03-11-t.md", text)
    assert post.tags == ["meta", "welcome", "personal"]
    assert post.categories == ["general"]


def test_id_guid_and_unknown_keys_are_ignored(make_blog, settings):
    text = textwrap.dedent("""\
        ---
        layout: post
        title: With extras
        id: nh-12
        guid: https://blog.example.com/?p=112
        dsq_thread_id: "7651203398"
        pin: true
        image: /assets/img/x.png
        author:
          name: Alex
        ---

        Text.
        """)
    post, warnings = read_one(make_blog, settings, "2019-09-23-extras.md", text)
    assert post.title == "With extras"
    assert post.permalink == "/2019/09/23/extras/"
    assert warnings == []


def test_html_entities_in_title_are_decoded(make_blog, settings):
    post, _ = read_one(make_blog, settings, "2019-09-23-amp.md", "---\ntitle: Helm &amp; Kustomize\n---\n\nText.\n")
    assert post.title == "Helm & Kustomize"


# -- site kinds -----------------------------------------------------------------------------------


def _hugo_site(root: Path) -> Path:
    (root / "content" / "posts" / "my-post").mkdir(parents=True)
    (root / "hugo.toml").write_text('baseURL = "https://hugo.example.org/"\ntitle = "A Hugo site"\n')
    (root / "content" / "posts" / "x.md").write_text(
        '+++\ntitle = "Hugo X"\ndate = 2024-03-01T10:00:00Z\ntags = ["go", "hugo"]\n+++\n\nBody of x.\n')
    (root / "content" / "posts" / "my-post" / "index.md").write_text(
        '+++\ntitle = "A bundle"\ndate = 2024-03-02\n+++\n\nBody of the bundle.\n')
    (root / "content" / "posts" / "_index.md").write_text('+++\ntitle = "Posts"\n+++\n\nThe list page.\n')
    return root


def _read_all(blog):
    posts = {}
    for path in blog.files:
        post, warnings = read_post(blog, path, 2_000_000)
        assert warnings == []
        posts[post.title] = post
    return posts


def test_hugo_site_with_toml_front_matter(tmp_path, settings):
    blog = open_blog(_hugo_site(tmp_path / "site"), settings.site)
    posts = _read_all(blog)
    assert set(posts) == {"Hugo X", "A bundle"}          # _index.md is a list page, not a post
    x = posts["Hugo X"]
    assert (x.date, x.permalink, x.tags) == ("2024-03-01", "/posts/x/", ["go", "hugo"])
    assert x.url == "https://hugo.example.org/posts/x/"


def test_hugo_page_bundle(tmp_path, settings):
    blog = open_blog(_hugo_site(tmp_path / "site"), settings.site)
    bundle = _read_all(blog)["A bundle"]
    assert bundle.permalink == "/posts/my-post/"
    assert bundle.url == "https://hugo.example.org/posts/my-post/"
    assert bundle.date == "2024-03-02"


def test_hugo_content_folder_given_directly(tmp_path, settings):
    site = _hugo_site(tmp_path / "site")
    posts = _read_all(open_blog(site / "content", settings.site))
    assert posts["Hugo X"].url == "https://hugo.example.org/posts/x/"
    assert posts["A bundle"].permalink == "/posts/my-post/"


def test_posts_folder_given_directly_equals_site_root(make_blog, settings):
    root = make_blog({
        "2021-07-14-operator.md": "---\ntitle: Operator\n---\n\nText.\n",
        "2020-04-15-quarkus.md": "---\ntitle: Quarkus\npermalink: /article/quarkus/\n---\n\nText.\n",
    }, config=CONFIG)
    from_root = open_blog(root, settings.site)
    from_posts = open_blog(root / "_posts", settings.site)
    assert from_posts.root == from_root.root
    urls = lambda blog: sorted(read_post(blog, p, 2_000_000)[0].url for p in blog.files)  # noqa: E731
    assert urls(from_posts) == urls(from_root) == [
        "https://blog.example.com/2021/07/14/operator/", "https://blog.example.com/article/quarkus/"]


def test_plain_folder_of_markdown(tmp_path, settings):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "2018-02-03-first-note.md").write_text("---\ntitle: First note\n---\n\nText.\n")
    (folder / "readme.txt").write_text("not markdown")
    (folder / ".hidden").mkdir()
    (folder / ".hidden" / "2018-02-04-secret.md").write_text("---\ntitle: Secret\n---\n\nText.\n")
    blog = open_blog(folder, settings.site)
    assert [p.name for p in blog.files] == ["2018-02-03-first-note.md"]
    post, _ = read_post(blog, blog.files[0], 2_000_000)
    assert post.permalink == "/2018/02/03/first-note.html"


# -- bad files --------------------------------------------------------------------------------------


def test_broken_yaml_is_repaired_with_one_warning(make_blog, settings):
    text = "---\ntitle: Helm: or Kustomize: which?\ntags: [helm, kustomize\n---\n\nWe tried both tools.\n"
    post, warnings = read_one(make_blog, settings, "2022-02-08-helm-or-kustomize.md", text)
    assert post is not None
    assert post.title == "Helm or kustomize"
    assert post.date == "2022-02-08"
    assert "We tried both tools." in post.body
    assert len(warnings) == 1, warnings
    assert "2022-02-08-helm-or-kustomize.md" in warnings[0] and "front matter" in warnings[0]


def test_empty_file_is_skipped(make_blog, settings):
    post, warnings = read_one(make_blog, settings, "2020-01-01-empty.md", "")
    assert post is None
    assert len(warnings) == 1 and "2020-01-01-empty.md" in warnings[0] and "empty" in warnings[0]


def test_front_matter_only_is_skipped(make_blog, settings):
    post, warnings = read_one(make_blog, settings, "2020-01-01-stub.md", "---\ntitle: Stub\n---\n")
    assert post is None
    assert any("2020-01-01-stub.md" in w and "skipped" in w for w in warnings)


def test_binary_file_is_skipped(make_blog, settings):
    root = make_blog({})
    (root / "_posts" / "2020-01-01-image.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))
    blog = open_blog(root, settings.site)
    post, warnings = read_post(blog, blog.files[0], settings.ingest.max_file_bytes)
    assert post is None
    assert len(warnings) == 1 and "2020-01-01-image.md" in warnings[0] and "binary" in warnings[0]


def test_non_utf8_file_is_read_with_warning(make_blog, settings):
    root = make_blog({})
    raw = "---\ntitle: Caf\u00e9 notes\n---\n\nA caf\u00e9 in Hamburg.\n".encode("cp1252")
    (root / "_posts" / "2020-01-01-cafe.md").write_bytes(raw)
    blog = open_blog(root, settings.site)
    post, warnings = read_post(blog, blog.files[0], settings.ingest.max_file_bytes)
    assert post.title == "Caf\u00e9 notes"
    assert "A caf\u00e9 in Hamburg." in post.body
    assert len(warnings) == 1 and "2020-01-01-cafe.md" in warnings[0] and "UTF-8" in warnings[0]


def test_utf8_bom_is_not_a_problem(make_blog, settings):
    root = make_blog({})
    (root / "_posts" / "2020-01-01-bom.md").write_bytes("\ufeff---\ntitle: With BOM\n---\n\nText.\n".encode("utf-8"))
    blog = open_blog(root, settings.site)
    post, warnings = read_post(blog, blog.files[0], settings.ingest.max_file_bytes)
    assert post.title == "With BOM" and warnings == []


def test_file_over_size_limit_is_skipped(make_blog, settings):
    limit = settings.ingest.max_file_bytes
    body = ("All work and no play makes a very long post. " * (limit // 40))[: limit + 100_000]
    post, warnings = read_one(make_blog, settings, "2020-01-01-huge.md", "---\ntitle: Huge\n---\n\n" + body)
    assert post is None
    assert len(warnings) == 1
    assert "2020-01-01-huge.md" in warnings[0] and "MB" in warnings[0] and "skipped" in warnings[0]


def test_no_title_uses_file_name_with_warning(make_blog, settings):
    post, warnings = read_one(make_blog, settings, "2019-03-11-welcome-to-the-blog.md",
                              "---\ndate: 2019-03-11\ntags: meta\n---\n\nHello.\n")
    assert post.title == "Welcome to the blog"
    assert len(warnings) == 1
    assert "2019-03-11-welcome-to-the-blog.md" in warnings[0] and "title" in warnings[0]


def test_no_front_matter_at_all(make_blog, settings):
    post, warnings = read_one(make_blog, settings, "2018-05-06-bare-notes.md", "# Bare notes\n\nJust text.\n")
    assert post.title == "Bare notes" and post.date == "2018-05-06"
    assert any("bare-notes" in w and "title" in w for w in warnings)


@pytest.mark.parametrize("flag", ["published: false", "draft: true"])
def test_unpublished_and_drafts_are_skipped(make_blog, settings, flag):
    post, warnings = read_one(make_blog, settings, "2020-01-01-secret.md", f"---\ntitle: Secret\n{flag}\n---\n\nText.\n")
    assert post is None
    assert any("2020-01-01-secret.md" in w for w in warnings)


def test_missing_folder_raises(tmp_path, settings):
    with pytest.raises(BlogError, match="no such folder"):
        open_blog(tmp_path / "does-not-exist", settings.site)


def test_file_instead_of_folder_raises(tmp_path, settings):
    path = tmp_path / "post.md"
    path.write_text("---\ntitle: x\n---\n\nText.\n")
    with pytest.raises(BlogError, match="not a folder"):
        open_blog(path, settings.site)


def test_folder_without_markdown_raises(tmp_path, settings):
    (tmp_path / "_posts").mkdir()
    (tmp_path / "_posts" / "notes.txt").write_text("plain text, not markdown")
    with pytest.raises(BlogError, match="no markdown posts"):
        open_blog(tmp_path, settings.site)
