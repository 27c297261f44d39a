"""Rendering lesson Markdown to HTML that is safe to mark as Markup."""

from html.parser import HTMLParser

import pytest

from lms.content.markdown import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, render_markdown


class Elements(HTMLParser):
    """Every start tag in a fragment, with its attributes (entities decoded)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def elements(html: str) -> list[tuple[str, dict[str, str]]]:
    return Elements(html).elements


def assert_inert(html: str) -> None:
    """No tag, attribute or URL in `html` that could run script or load from elsewhere."""
    for tag, attrs in elements(html):
        assert tag in ALLOWED_TAGS, f"<{tag}> in {html!r}"
        allowed = ALLOWED_ATTRIBUTES.get(tag, set()) | ({"rel"} if tag == "a" else set())
        assert set(attrs) <= allowed, f"<{tag} {attrs}> in {html!r}"
        for name in ("href", "src"):
            url = "".join(attrs.get(name, "").split()).lower()
            scheme = url.split(":", 1)[0] if ":" in url.split("/", 1)[0] else None
            assert scheme in (None, "http", "https", "mailto"), f"{name}={url!r} in {html!r}"
        if tag == "img":
            assert ":" not in attrs.get("src", "").split("/", 1)[0], html
    lowered = html.lower()
    for executable in ("<script", "<style", "<svg", "<iframe", "<object", "<embed", "<form",
                       "<meta", "<base", "<link", "<math"):
        assert executable not in lowered, f"{executable} in {html!r}"


ATTACKS = [
    "<script>alert(1)</script>",
    "Inline <script>alert(1)</script> script",
    "<img src=x onerror=alert(1)>",
    "Text <img src=x onerror=\"alert(1)\"> inline",
    '<a href="javascript:alert(1)" onclick="alert(2)">click</a>',
    "<p onclick=alert(1)>paragraph</p>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](&#x6A;avascript&#x3A;alert(1))",
    "[click](javascript&colon;alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<javascript:alert(1)>",
    '[click](https://example.org "title\\" onmouseover=\\"alert(1)")',
    "<style>body { display: none }</style>",
    '<p style="background:url(javascript:alert(1))">styled</p>',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<iframe src="https://evil.example"></iframe>',
    '<object data="evil.swf"></object><embed src="evil.swf">',
    '<form action="https://evil.example"><input name=p></form>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<base href="https://evil.example/">',
    "![x](javascript:alert(1))",
    "![x](JaVaScRiPt:alert(1))",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![x](file:///etc/passwd)",
    "![x](http://tracker.example/pixel.png)",
    "![x](//tracker.example/pixel.png)",
    '![x" onerror="alert(1)](img/a.png)',
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
]


@pytest.mark.parametrize("markdown", ATTACKS)
def test_nothing_executable_survives(markdown):
    html = render_markdown(markdown, image_url=lambda path: f"/media/{path}")
    assert_inert(html)


def test_raw_html_is_shown_as_text_not_run():
    html = render_markdown("Hello <script>alert(1)</script> <b>world</b>")
    assert html == "<p>Hello &lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;world&lt;/b&gt;</p>\n"


@pytest.mark.parametrize("src", [
    "http://tracker.example/pixel.png", "https://cdn.example/a.png", "//cdn.example/a.png",
    "data:image/png;base64,iVBORw0KGgo=", "javascript:alert(1)", "file:///etc/passwd",
    "/static/a.png", "img/../../secret.png",
])
def test_images_that_are_not_relative_paths_are_dropped_keeping_their_alt_text(src):
    html = render_markdown(f"See ![the headset]({src}) here.", image_url=lambda p: f"/media/{p}")
    # markdown-it itself refuses javascript: and file: and leaves the text as typed.
    assert html in ("<p>See the headset here.</p>\n", f"<p>See ![the headset]({src}) here.</p>\n")
    assert [tag for tag, _ in elements(html)] == ["p"]


def test_relative_images_go_through_image_url():
    seen: list[str] = []

    def image_url(path: str) -> str:
        seen.append(path)
        return f"/courses/recording-calls/media/{path}"

    html = render_markdown('![A headset](img/my%20headset.png "On a desk")', image_url)
    assert seen == ["img/my headset.png"]
    assert elements(html) == [("p", {}), ("img", {
        "src": "/courses/recording-calls/media/img/my headset.png",
        "alt": "A headset", "title": "On a desk"})]


def test_relative_images_are_kept_when_no_image_url_is_given():
    assert elements(render_markdown("![A headset](img/headset.png)")) == [
        ("p", {}), ("img", {"src": "img/headset.png", "alt": "A headset"})]


def test_links_get_rel_and_only_allowed_schemes_keep_their_href():
    html = render_markdown("[EDPB](https://edpb.europa.eu \"Guidelines\") "
                           "[mail](mailto:dpo@example.org) [ftp](ftp://files.example/x)")
    assert [attrs for tag, attrs in elements(html) if tag == "a"] == [
        {"href": "https://edpb.europa.eu", "title": "Guidelines", "rel": "noopener noreferrer"},
        {"href": "mailto:dpo@example.org", "rel": "noopener noreferrer"},
        {"rel": "noopener noreferrer"},
    ]


def test_lesson_markdown_renders_to_the_allowed_tags():
    html = render_markdown(
        "# Title\n\n## Section (Art. 13)\n\n### Sub\n\nSome **bold**, *em* and `code`.  \nNext\n\n"
        "- one\n- two\n\n1. first\n\n> quote\n\n---\n\n```\npre\n```\n\n"
        "| Left | Centre | Right |\n|:-----|:------:|------:|\n| a | b | c |\n")
    tags = [tag for tag, _ in elements(html)]
    assert "h1" not in tags and "Title" in html     # no h1 in a lesson: the page has one
    assert {"h2", "h3", "p", "strong", "em", "code", "br", "ul", "ol", "li", "blockquote",
            "hr", "pre", "table", "thead", "tbody", "tr", "th", "td"} <= set(tags)
    assert [attrs for tag, attrs in elements(html) if tag == "th"] == [
        {"align": "left"}, {"align": "center"}, {"align": "right"}]
    assert "style" not in html
