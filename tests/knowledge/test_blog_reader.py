"""open_blog / read_post: front-matter variants, addresses, site kinds and bad files."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import textwrap
from pathlib import Path

import pytest

from knowledge.corpus.blog_reader import BlogError, about_page, distinct_urls, open_blog, read_blog, read_post

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


def write_site(root: Path, files: dict[str, str]) -> Path:
    """Files of a small site under `root` (texts dedented; a text starting with a blank line keeps it)."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text if text.startswith("\n\n") else textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def urls_of(root: Path, settings, sub: str = "") -> dict[str, str]:
    """source -> URL of every post read from `root / sub`, asserting no warnings."""
    posts, warnings = read_blog(open_blog(root / sub, settings.site), 2_000_000)
    assert warnings == []
    return {p.source: p.url for p in posts}


# A Hugo site laid out like the Kubernetes blog: content under contentDir, a [permalinks] pattern for
# the `blog` section, posts in a `_posts/` folder below it, page bundles, a section page.
HUGO_SITE = {
    "hugo.toml": """
        baseURL = "https://hugo.example.org/"
        contentDir = "content/en"
        defaultContentLanguage = "en"
        [permalinks]
        blog = "/:section/:year/:month/:day/:slug/"
        [languages.en]
        title = "Example"
        [languages.de]
        contentDir = "content/de"
        """,
    "README.md": "# How to build this site\n",
    "content/en/blog/_index.md": "---\ntitle: Blog\n---\n\nThe list of posts.\n",
    "content/en/blog/_posts/2023-08-25-sidecars.md": """
        ---
        title: "Native sidecar containers"
        date: 2023-08-25
        slug: native-sidecar-containers
        authors: [Todd Neal, Gabriele Bartolini]
        ---

        Sidecars start before the app.
        """,
    # Hugo accepts blank lines before the front matter; without a slug, :slug is the title urlized.
    "content/en/blog/_posts/2021-04-22-gateway/index.md":
        '\n\n---\ntitle: "Gateway API: evolving Kubernetes networking"\ndate: 2021-04-22\nAuthor: Rob Scott\n---\n\n'
        "Gateway API is the next Ingress.\n",
    "content/en/blog/_posts/2021-04-22-gateway/notes.md": "---\ntitle: Draft notes\n---\n\nA resource of the bundle.\n",
    # `url` overrides the pattern; Hugo lower-cases it and publishes it as a folder (trailing slash).
    "content/en/blog/_posts/2015-03-00-Old-Post.md": """
        ---
        title: " An old post "
        date: 2015-03-23
        slug: old-post
        url: /blog/2015/03/Old-Post
        aliases: ["/old"]
        ---

        From the old blog.
        """,
    "content/en/about.md": "---\ntitle: About\ndate: 2020-01-01\n---\n\nWho writes here.\n",
    "content/de/blog/_posts/2023-08-25-beiwagen.md": "---\ntitle: Beiwagen\ndate: 2023-08-25\n---\n\nAuf Deutsch.\n",
}
HUGO_URLS = {
    "content/en/blog/_posts/2023-08-25-sidecars.md": "https://hugo.example.org/blog/2023/08/25/native-sidecar-containers/",
    "content/en/blog/_posts/2021-04-22-gateway/index.md":
        "https://hugo.example.org/blog/2021/04/22/gateway-api-evolving-kubernetes-networking/",
    "content/en/blog/_posts/2015-03-00-Old-Post.md": "https://hugo.example.org/blog/2015/03/old-post/",
    "content/en/about.md": "https://hugo.example.org/about/",
}


def test_hugo_site_reads_content_dir_with_permalinks_and_bundles(tmp_path, settings):
    site = write_site(tmp_path / "site", HUGO_SITE)
    blog = open_blog(site, settings.site)
    assert blog.kind == "hugo" and blog.content_dir == site / "content" / "en"
    # README.md at the root, the section page, the bundle's other file and the German content are not posts.
    assert urls_of(site, settings) == HUGO_URLS


def test_hugo_leading_blank_line_keeps_front_matter_and_authors(tmp_path, settings):
    posts, _ = read_blog(open_blog(write_site(tmp_path / "site", HUGO_SITE), settings.site), 2_000_000)
    by_source = {p.source: p for p in posts}
    gateway = by_source["content/en/blog/_posts/2021-04-22-gateway/index.md"]
    assert gateway.title == "Gateway API: evolving Kubernetes networking"
    assert gateway.date == "2021-04-22"
    assert gateway.authors == ["Rob Scott"]              # Hugo's keys are case-insensitive: Author
    assert "title:" not in gateway.body and gateway.body.strip() == "Gateway API is the next Ingress."
    sidecars = by_source["content/en/blog/_posts/2023-08-25-sidecars.md"]
    assert sidecars.authors == ["Todd Neal", "Gabriele Bartolini"]
    old = by_source["content/en/blog/_posts/2015-03-00-Old-Post.md"]
    assert old.title == "An old post" and old.aliases == ["https://hugo.example.org/old/"]


@pytest.mark.parametrize("sub", ["content", "content/en", "content/en/blog/_posts"])
def test_hugo_folder_inside_the_site_gives_the_same_urls(tmp_path, settings, sub):
    site = write_site(tmp_path / "site", HUGO_SITE)
    urls = urls_of(site, settings, sub)
    expected = HUGO_URLS if sub != "content/en/blog/_posts" else {
        k: v for k, v in HUGO_URLS.items() if "/_posts/" in k}
    assert urls == expected


@pytest.mark.parametrize("config, name, front, expected", [
    # the newer [permalinks.page] form; :monthname; :slugorfilename falls back to the file name
    ('baseURL = "https://x.org"\n[permalinks.page]\nposts = "/articles/:year/:monthname/:slugorfilename/"\n',
     "posts/Plain-Name.md", 'title = "T"\ndate = 2024-02-01', "https://x.org/articles/2024/february/plain-name/"),
    # the array form with a page matcher; :contentbasename of a bundle is its folder
    ('baseURL = "https://x.org"\n[[permalinks]]\npattern = "/a/:contentbasename/"\n[permalinks.target]\npath = "{/posts/**}"\n',
     "posts/my-bundle/index.md", 'title = "T"\ndate = 2024-02-01', "https://x.org/a/my-bundle/"),
    # :title, sanitized like Hugo's urlize (punctuation dropped, spaces to hyphens, lower case)
    ('baseURL = "https://x.org/"\n[permalinks]\nposts = "/:year/:title"\n',
     "posts/p.md", 'title = "Helm & Kustomize: which one?"\ndate = 2022-02-08', "https://x.org/2022/helm-kustomize-which-one/"),
    # [frontmatter] date = [":filename", ...]: date and slug from the file name
    ('baseURL = "https://x.org"\n[frontmatter]\ndate = [":filename", ":default"]\n[permalinks]\nposts = "/:year/:month/:slug/"\n',
     "posts/2024-01-05-hello-v1.2.md", 'title = "Hello"', "https://x.org/2024/01/hello-v1.2/"),
    # uglyURLs; no pattern: folders plus the slug
    ('baseURL = "https://x.org"\nuglyURLs = true\n', "posts/deep/x.md", 'title = "X"\ndate = 2024-01-01\nslug = "Why X"',
     "https://x.org/posts/deep/why-x.html"),
    # disablePathToLower keeps the case; baseURL with a path
    ('baseURL = "https://x.org/blog/"\ndisablePathToLower = true\n', "posts/My-Post.md", 'title = "X"\ndate = 2024-01-01',
     "https://x.org/blog/posts/My-Post/"),
    # defaultContentLanguageInSubdir puts the language first
    ('baseURL = "https://x.org"\ndefaultContentLanguage = "fr"\ndefaultContentLanguageInSubdir = true\n', "posts/x.md",
     'title = "X"\ndate = 2024-01-01', "https://x.org/fr/posts/x/"),
    # url with a file extension is a file
    ('baseURL = "https://x.org"\n', "posts/x.md", 'title = "X"\ndate = 2024-01-01\nurl = "/feeds/x.html"',
     "https://x.org/feeds/x.html"),
], ids=["page-map", "array-form", "title", "date-from-filename", "ugly", "keep-case", "language-subdir", "url-file"])
def test_hugo_address_rules(tmp_path, settings, config, name, front, expected):
    site = write_site(tmp_path / "site", {"hugo.toml": config, f"content/{name}": f"+++\n{front}\n+++\n\nText.\n"})
    [url] = urls_of(site, settings).values()
    assert url == expected


def test_hugo_config_folder_and_json_front_matter(tmp_path, settings):
    site = write_site(tmp_path / "site", {
        "config/_default/hugo.yaml": "baseURL: https://x.org\n",
        "config/_default/permalinks.yaml": "posts: /p/:year/:slug/\n",
        "content/posts/j.md": '{\n  "title": "JSON front matter",\n  "date": "2023-05-06"\n}\n\nText.\n',
    })
    posts, warnings = read_blog(open_blog(site, settings.site), 2_000_000)
    assert warnings == []
    assert [(p.title, p.date, p.url) for p in posts] == [
        ("JSON front matter", "2023-05-06", "https://x.org/p/2023/json-front-matter/")]


@pytest.mark.parametrize("front", ["draft: true", "headless: true", "build:\n  render: never"])
def test_hugo_pages_it_does_not_publish_are_skipped(tmp_path, settings, front):
    site = write_site(tmp_path / "site", {
        "hugo.toml": 'baseURL = "https://x.org"\n',
        "content/posts/kept.md": "---\ntitle: Kept\ndate: 2024-01-01\n---\n\nText.\n",
        "content/posts/hidden/index.md": f"---\ntitle: Hidden\ndate: 2024-01-01\n{front}\n---\n\nText.\n",
    })
    posts, warnings = read_blog(open_blog(site, settings.site), 2_000_000)
    assert [p.title for p in posts] == ["Kept"]
    assert len(warnings) == 1 and "hidden/index.md" in warnings[0] and "skipped" in warnings[0]


# A Zola site laid out like the Rust blog: TOML front matter, `path` instead of a date, bundles.
ZOLA_SITE = {
    "config.toml": 'base_url = "https://zola.example.org"\ncompile_sass = true\n',
    "SOURCE.md": "# Where this copy comes from\n",
    "content/_index.md": "+++\ntitle = \"Home\"\n+++\n",
    "content/Rust-1.78.0.md": """
        +++
        path = "2024/05/02/Rust-1.78.0"
        title = "Announcing Rust 1.78.0"
        authors = ["The Release Team", "Jane Doe"]
        aliases = ["2024/05/02/Rust-1.78.0.html", "releases/1.78.0"]
        +++

        The Rust team is happy to announce a new version.
        """,
    "content/2023-11-09-dated-name.md": '+++\ntitle = "Dated"\n+++\n\nThe date comes from the name.\n',
    "content/news/_index.md": "+++\ntitle = \"News\"\n+++\n",
    "content/news/2022-06-01_survey/index.md": '\ufeff\n+++\ntitle = "Survey"\n+++\n\nA bundle.\n',
    "content/news/Hello World.md": '+++\ntitle = "Hello"\ndate = 2020-01-01\nslug = "Greetings & Salutations"\n+++\n\nHi.\n',
}


def test_zola_site_path_dates_bundles_and_slugs(tmp_path, settings):
    site = write_site(tmp_path / "site", ZOLA_SITE)
    blog = open_blog(site, settings.site)
    assert blog.kind == "zola" and blog.base_url == "https://zola.example.org"
    posts, warnings = read_blog(blog, 2_000_000)
    assert warnings == []                                # no "no date" warning: dates from path and names
    got = {p.source: (p.url, p.date) for p in posts}
    assert got == {
        "content/Rust-1.78.0.md": ("https://zola.example.org/2024/05/02/Rust-1.78.0/", "2024-05-02"),   # case kept
        "content/2023-11-09-dated-name.md": ("https://zola.example.org/dated-name/", "2023-11-09"),
        "content/news/2022-06-01_survey/index.md": ("https://zola.example.org/news/survey/", "2022-06-01"),
        "content/news/Hello World.md": ("https://zola.example.org/news/greetings-salutations/", "2020-01-01"),
    }
    release = next(p for p in posts if p.source == "content/Rust-1.78.0.md")
    assert release.authors == ["The Release Team", "Jane Doe"]
    assert release.aliases == ["https://zola.example.org/2024/05/02/Rust-1.78.0.html",
                               "https://zola.example.org/releases/1.78.0/"]


def test_zola_content_folder_given_directly(tmp_path, settings):
    site = write_site(tmp_path / "site", ZOLA_SITE)
    assert urls_of(site, settings, "content") == urls_of(site, settings)


def test_jekyll_site_with_a_content_folder_stays_jekyll(tmp_path, settings):
    site = write_site(tmp_path / "site", {
        "_config.yml": 'url: "https://j.example.com"\npermalink: /:year/:title/\n',
        "config.yaml": "baseURL: https://not-this.example\n",
        "content/page.md": "---\ntitle: A page\n---\n\nText.\n",
        "_posts/2020-01-02-a.md": "---\ntitle: A\n---\n\nText.\n",
    })
    assert urls_of(site, settings) == urls_of(site, settings, "_posts") == {
        "_posts/2020-01-02-a.md": "https://j.example.com/2020/a/"}


def test_readme_and_source_in_a_plain_folder_are_not_posts(tmp_path, settings):
    folder = write_site(tmp_path / "notes", {
        "README.md": "# My notes\n\nHow this folder works.\n",
        "SOURCE.md": "# Source\n",
        "2018-02-03-first-note.md": "---\ntitle: First note\n---\n\nText.\n",
    })
    assert [p.name for p in open_blog(folder, settings.site).files] == ["2018-02-03-first-note.md"]


def test_front_matter_after_bom_and_blank_lines(make_blog, settings):
    root = make_blog({})
    (root / "_posts" / "2020-01-01-yaml.md").write_bytes("\ufeff\n \n---\ntitle: YAML late\n---\n\nText.\n".encode())
    (root / "_posts" / "2020-01-02-toml.md").write_text('\n+++\ntitle = "TOML late"\n+++\n\nText.\n')
    posts, warnings = read_blog(open_blog(root, settings.site), 2_000_000)
    assert warnings == []
    assert [(p.title, p.body.strip()) for p in posts] == [("YAML late", "Text."), ("TOML late", "Text.")]


@pytest.mark.parametrize("front, expected", [
    ("authors: [Ann, Bob]", ["Ann", "Bob"]),
    ("author: Ann", ["Ann"]),
    ("author: [Ann, Bob]", ["Ann", "Bob"]),
    ("author:\n  name: Ann", ["Ann"]),
    ("authors: [Ann]\nauthor: Bob", ["Ann", "Bob"]),
], ids=["authors-list", "author-string", "author-list", "author-mapping", "both"])
def test_authors(make_blog, settings, front, expected):
    post, _ = read_one(make_blog, settings, "2020-01-01-a.md", f"---\ntitle: A\n{front}\n---\n\nText.\n")
    assert post.authors == expected


@pytest.mark.parametrize("body, expected", [
    ("**Author:** Raunak Pradip Shah (Mirantis)\n\nText.", ["Raunak Pradip Shah"]),
    ("<b>Author</b>: Craig Box (Google)\n\nText.", ["Craig Box"]),
    ("**Authors**: Lili Cosic (Red Hat), Frederic Branczyk (Polar Signals) and Ann Lee (X)\n\nText.",
     ["Lili Cosic", "Frederic Branczyk", "Ann Lee"]),
    ("**Author:**\nDaniel Bryant, Product Architect, Datawire;\nRichard Li, CEO, Datawire\n\nText.",
     ["Daniel Bryant", "Richard Li"]),
    ("**Author:** Aparna Sinha, Google\n\nText.", ["Aparna Sinha"]),
    ("**Authors:** Jeffrey Ying, Google & Joe Betz, Google\n\nText.", ["Jeffrey Ying", "Joe Betz"]),
    ("**Authors**: Lantao Liu, Software Engineer, Google and Mike Brown, Developer Advocate, IBM\n\nText.",
     ["Lantao Liu", "Mike Brown"]),
    ("Authors: [Ihor Dvoretskyi](https://example.org/ihor) & Jane Doe\n\nText.", ["Ihor Dvoretskyi", "Jane Doe"]),
    ("By default, the scheduler spreads pods.\n\nText.", []),
    ("Intro.\n\nMore.\n\nAnd more.\n\n**Author:** Too Late\n", []),
], ids=["bold-colon-inside", "html-bold", "list-with-affiliations", "names-on-next-lines", "name-and-company",
        "names-and-companies", "names-titles-companies", "markdown-links", "prose-by", "not-among-first-lines"])
def test_byline_names_the_authors_when_the_front_matter_does_not(make_blog, settings, body, expected):
    post, _ = read_one(make_blog, settings, "2020-01-01-a.md", f"---\ntitle: A\n---\n\n{body}\n")
    assert post.authors == expected


def test_front_matter_authors_win_over_a_byline(make_blog, settings):
    post, _ = read_one(make_blog, settings, "2020-01-01-a.md", "---\ntitle: A\nauthor: Ann\n---\n\n**Author:** Bob\n")
    assert post.authors == ["Ann"]


def test_jekyll_date_from_permalink_when_no_date_key(make_blog, settings):
    post, warnings = read_one(make_blog, settings, "undated.md", "---\ntitle: U\npermalink: /2019/03/11/u/\n---\n\nText.\n")
    assert post.date == "2019-03-11" and warnings == []


def test_two_posts_at_one_address_are_told_apart_with_one_warning(tmp_path, settings):
    site = write_site(tmp_path / "site", {
        "hugo.toml": 'baseURL = "https://x.org"\n',
        "content/posts/a.md": "---\ntitle: A\ndate: 2024-01-01\nurl: /same/\n---\n\nText.\n",
        "content/posts/b.md": "---\ntitle: B\ndate: 2024-01-02\nurl: /same/\n---\n\nText.\n",
    })
    posts, warnings = read_blog(open_blog(site, settings.site), 2_000_000)
    assert [p.url for p in posts] == ["https://x.org/same/", "https://x.org/same/#b"]
    assert [p.permalink for p in posts] == ["/same/", "/same/#b"]
    assert len(warnings) == 1 and "content/posts/b.md" in warnings[0] and "content/posts/a.md" in warnings[0]
    # An address already taken (by a post indexed earlier, here b) keeps its owner: a re-read a gives way.
    blog = open_blog(site, settings.site)
    a, _ = read_post(blog, blog.files[0], 2_000_000)
    assert len(distinct_urls([a], {"https://x.org/same/": "content/posts/b.md"})) == 1
    assert a.url == "https://x.org/same/#a"


def test_html_in_a_post_is_reduced_to_its_text(tmp_path, settings):
    """Raw HTML as in the Rust blog's survey and project-goal posts: charts, cards, tables, <details>."""
    from knowledge.corpus.markdown_text import markdown_sections

    site = write_site(tmp_path / "site", {
        "config.toml": 'base_url = "https://zola.example.org"\n',
        "content/goals.md": textwrap.dedent("""\
            +++
            title = "Goals update"
            path = "2025/11/20/goals"
            +++

            Progress this month <script>track("inline");</script> was good <style>p{color:red}</style> overall.

            <table><tr><th>Goal</th><th>Owner</th></tr><tr><td>Pin ergonomics<td>Frank</tr></table>

            <details style="border-top: 1px solid #eee;">
            <summary style="cursor: pointer;">1 detailed update available.</summary>

            The **RFC** is in FCP.

            </details>

            <div id="chart"></div>
            <script src="charts.js"></script>
            <script>Plotly.newPlot("chart", data);</script>
            """),
    })
    [post], _ = read_blog(open_blog(site, settings.site), 2_000_000)
    text = "\n".join(b.text for s in markdown_sections(post.body) for b in s.blocks)
    assert text.splitlines() == [
        "Progress this month was good overall.",
        "Goal | Owner", "Pin ergonomics | Frank",
        "1 detailed update available.",
        "The RFC is in FCP.",
    ]


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


# -- the real blogs in ../shared (not ours: read from there, never copied) ------------------------------


def real_blog(name: str):
    """(blog, posts, warnings) of a real blog in ../shared/corpus, read without ingesting (under a second)."""
    from helpers import REPO
    from knowledge.settings import load_settings

    path = REPO.parent / "shared" / "corpus" / name
    if not path.is_dir():
        pytest.skip(f"real blog not found at {path} (the shared/ checkout next to the repo is absent)")
    settings = load_settings()
    blog = open_blog(path, settings.site)
    posts, warnings = read_blog(blog, settings.ingest.max_file_bytes)
    return blog, posts, warnings


def _address_key(url: str) -> str:
    """An address as a server treats it: scheme, www., case, a trailing slash, query and fragment aside."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.netloc.lower().removeprefix("www.") + parts.path.rstrip("/").lower()


def test_kubernetes_blog_every_post_at_its_published_address():
    blog, posts, warnings = real_blog("kubernetes-blog")
    assert blog.kind == "hugo" and blog.content_dir == blog.root / "content" / "en"
    assert warnings == []     # the four posts with a blank line before `---` keep their front matter
    assert len(posts) == 549
    urls = [p.url for p in posts]
    assert len(set(urls)) == len(urls)
    assert all(u.startswith("https://kubernetes.io/blog/") and "/_posts/" not in u and "#" not in u for u in urls)
    # The example of the blog's SOURCE.md.
    assert "https://kubernetes.io/blog/2023/08/25/native-sidecar-containers/" in urls


def test_kubernetes_posts_links_to_each_other_resolve():
    """Links in the posts to other posts (`/blog/YYYY/MM/[DD/]slug`, relative or on kubernetes.io) must
    lead to the address of a post we read. Archive pages (/blog/2017/03/) are not posts."""
    _, posts, _ = real_blog("kubernetes-blog")
    known = {_address_key(a) for p in posts for a in [p.url, *p.aliases]}
    link = re.compile(r"(?:\]\(\s*<?|^\s*\[[^\]]+\]:\s*<?)((?:https?://(?:www\.)?kubernetes\.io)?/blog/\d{4}/\d{2}/[^)\s>#?]*[^/)\s>#?][^)\s>#?]*)", re.M)
    found, missed = 0, []
    for post in posts:
        for match in link.finditer(post.body):
            target = match.group(1)
            target = target if target.startswith("http") else "https://kubernetes.io" + target
            if _address_key(target) in known:
                found += 1
            else:
                missed.append(f"{post.source}: {match.group(1)}")
    share = found / (found + len(missed))
    print(f"kubernetes links between posts: {found} of {found + len(missed)} resolve ({share:.1%}); missed: {missed}")
    assert found > 350
    # The one link that misses is to a Blogger-era address (`.../rbac-support-in-kubernetes.html`), which
    # the site's server redirects; no post names it.
    assert share >= 0.99, missed


def test_kubernetes_blog_authors_come_from_bylines():
    _, posts, _ = real_blog("kubernetes-blog")
    named = [p for p in posts if p.authors]
    assert len(named) > 300           # 326 bylines plus a few front-matter authors
    names = {n for p in posts for n in p.authors}
    assert {"Craig Box", "Sascha Grunert", "Paris Pittman", "Joe Betz", "Christian Huffman"} <= names
    assert not names & {"Google", "Red Hat", "VMware"}     # affiliations are not authors


def test_rust_blog_gold_urls_are_post_addresses():
    blog, posts, warnings = real_blog("rust-blog")
    assert blog.kind == "zola" and blog.base_url == "https://blog.rust-lang.org"
    assert warnings == []     # no "no date": the date is the one in `path`
    assert len(posts) == 387 and len({p.url for p in posts}) == 387
    for post in posts:        # SOURCE.md: date = the first three parts of `path`
        assert post.url.startswith("https://blog.rust-lang.org/" + post.date.replace("-", "/") + "/"), post.source
    urls = {p.url for p in posts}
    from helpers import REPO

    gold = {url for line in (REPO.parent / "shared" / "eval" / "questions-rust-dev.jsonl").read_text().splitlines()
            if line.strip() for url in json.loads(line).get("gold_urls") or []}
    assert gold and gold <= urls, sorted(gold - urls)


def test_rust_blog_old_addresses_are_aliases():
    """Posts link to each other with old `.html` addresses and `releases/X.Y.Z`: each is an alias of a post."""
    _, posts, _ = real_blog("rust-blog")
    known = {_address_key(a) for p in posts for a in [p.url, *p.aliases]}
    links = re.findall(r"\]\(\s*<?(https?://blog\.rust-lang\.org/\d{4}/\d{2}/\d{2}/[^)\s>#]+)", "\n".join(p.body for p in posts))
    assert len(links) > 100
    assert [u for u in links if _address_key(u) not in known] == []


# The addresses of the Heidloff blog as they were before the Hugo/Zola rules: sha256 of the sorted
# "source<TAB>url" lines (its URLs are not copied here).
HEIDLOFF_ADDRESSES_SHA256 = "f53fa98193f4fa5c17509a68917a898c8cac1c0cfeff65e401e718b3838ad20c"


def test_heidloff_blog_addresses_unchanged():
    import hashlib

    blog, posts, warnings = real_blog("heidloff-blog/_posts")
    assert blog.kind == "jekyll" and warnings == [] and len(posts) == 876
    lines = "\n".join(sorted(f"{p.source}\t{p.url}" for p in posts))
    assert hashlib.sha256(lines.encode()).hexdigest() == HEIDLOFF_ADDRESSES_SHA256


# -- the about page -----------------------------------------------------------------------------

POST = "---\ntitle: A post\ndate: 2024-01-01\n---\n\nText.\n"


@pytest.mark.parametrize("files, expected", [
    # Jekyll: the page's own permalink; else /about.html, or /about/ when posts have folder addresses
    ({"_config.yml": CONFIG, "_posts/2024-01-01-a.md": POST, "about.md": "---\ntitle: About\npermalink: /me/\n---\nHi.\n"},
     "https://blog.example.com/me/"),
    ({"_config.yml": CONFIG, "_posts/2024-01-01-a.md": POST,
      "_pages/about.md": "---\ntitle: About\npermalink: /about-me/\n---\nHi.\n"}, "https://blog.example.com/about-me/"),
    ({"_config.yml": 'url: "https://j.org"\npermalink: /:year/:title.html\n', "_posts/2024-01-01-a.md": POST,
      "about/index.md": "---\ntitle: About\n---\nHi.\n"}, "https://j.org/about/"),
    ({"_config.yml": 'url: "https://j.org"\npermalink: /:year/:title.html\n', "_posts/2024-01-01-a.md": POST,
      "about.markdown": "---\ntitle: About\n---\nHi.\n"}, "https://j.org/about.html"),
    # Hugo: `url`, else /about/; Zola: `path`, else /about/
    ({"hugo.toml": 'baseURL = "https://h.org/"\n', "content/posts/a.md": POST,
      "content/about.md": '+++\ntitle = "About"\nurl = "/who/"\n+++\nHi.\n'}, "https://h.org/who/"),
    ({"hugo.toml": 'baseURL = "https://h.org/"\n', "content/posts/a.md": POST,
      "content/about/index.md": '+++\ntitle = "About"\n+++\nHi.\n'}, "https://h.org/about/"),
    ({"config.toml": 'base_url = "https://z.org"\n', "content/blog/a.md": POST.replace("---", "+++").replace(
        "title: A post\ndate: 2024-01-01", 'title = "A post"\ndate = 2024-01-01'),
      "content/about.md": '+++\ntitle = "About"\npath = "me"\n+++\nHi.\n'}, "https://z.org/me/"),
    ({"config.toml": 'base_url = "https://z.org"\n', "content/blog/a.md": POST.replace("---", "+++").replace(
        "title: A post\ndate: 2024-01-01", 'title = "A post"\ndate = 2024-01-01'),
      "content/pages/about.md": '+++\ntitle = "About"\n+++\nHi.\n'}, "https://z.org/pages/about/"),
    ({"hugo.toml": 'baseURL = "https://h.org/"\n', "content/posts/a.md": POST,
      "content/about.md": '+++\ntitle = "About"\nslug = "who-am-i"\n+++\nHi.\n'}, "https://h.org/who-am-i/"),
    # Characters that would end a Markdown link are encoded
    ({"_config.yml": CONFIG, "_posts/2024-01-01-a.md": POST,
      "about.md": "---\ntitle: About\npermalink: /about_(me)/\n---\nHi.\n"}, "https://blog.example.com/about_%28me%29/"),
    # No about page, or a draft one
    ({"_config.yml": CONFIG, "_posts/2024-01-01-a.md": POST}, ""),
    ({"_config.yml": CONFIG, "_posts/2024-01-01-a.md": POST,
      "about.md": "---\ntitle: About\npublished: false\n---\nHi.\n"}, ""),
    ({"_config.yml": "title: No address\n", "_posts/2024-01-01-a.md": POST, "about.md": "---\ntitle: About\n---\nHi.\n"}, ""),
    ({"hugo.toml": 'baseURL = "https://h.org/"\n', "content/posts/a.md": POST,
      "content/about.md": '+++\ntitle = "About"\ndraft = true\n+++\nHi.\n'}, ""),
], ids=["jekyll-permalink", "jekyll-pages-folder", "jekyll-about-folder", "jekyll-file-addresses", "hugo-url",
        "hugo-bundle", "zola-path", "zola-pages-folder", "hugo-slug", "parentheses", "none", "jekyll-unpublished",
        "no-site-address", "hugo-draft"])
def test_about_page_has_the_address_the_generator_publishes(tmp_path, settings, files, expected):
    site = write_site(tmp_path / "site", files)
    assert about_page(open_blog(site, settings.site), settings.ingest.max_file_bytes) == expected
