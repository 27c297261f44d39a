"""Markdown for lessons and job aids: rendering, and the token walk checks use.

Rendering is two layers. markdown-it runs with HTML disabled, so a tag written
in a lesson comes out as escaped text; nh3 then cleans the result with an
allow-list, so whatever markdown-it (or a future option) lets through, only
the tags and attributes below can reach a browser or a PDF.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from urllib.parse import unquote

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

ALLOWED_TAGS = {
    "p", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "code", "pre",
    "blockquote", "table", "thead", "tbody", "tr", "th", "td", "a", "img", "hr", "br",
}
ALLOWED_ATTRIBUTES = {
    # Headings carry the ids heading_anchors() makes, so a quiz item can link to its section.
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
}
URL_SCHEMES = {"http", "https", "mailto"}

_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
# Checks parse with HTML enabled: that is what turns a tag into an html_block or
# html_inline token the content check can report with its line. They also accept
# every URL, so a javascript: or file: link or image becomes a token the check
# reports, instead of text the renderer would silently show as typed.
_checker = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable("table")
_checker.validateLink = lambda url: True  # type: ignore[method-assign]

# A URL has a scheme when a colon comes before the first "/", "?" or "#".
# Browsers ignore whitespace and control characters inside a scheme
# ("java\tscript:"), so those are removed before looking.
_SCHEME = re.compile(r"^[^/?#]*:")
_IGNORED_BY_BROWSERS = re.compile(r"[\x00-\x20\x7f]")
_TEXT_ALIGN = re.compile(r"text-align:\s*(left|right|center)")
_NOT_IN_ANCHOR = re.compile(r"[^a-z0-9]+")


def has_scheme(src: str) -> bool:
    """Whether a browser would read `src` as a URL with a scheme (or a host)."""
    bare = _IGNORED_BY_BROWSERS.sub("", src)
    return bool(_SCHEME.match(bare)) or bare.startswith(("//", "\\\\"))


def is_relative_path(src: str) -> bool:
    """Whether an (unquoted) image src is a plain relative path.

    False for anything with a scheme (http:, data:, javascript:, C:), for
    absolute and protocol-relative paths, and for paths that climb with "..".
    """
    bare = _IGNORED_BY_BROWSERS.sub("", src)
    if not bare or has_scheme(bare) or bare.startswith(("/", "\\")):
        return False
    return ".." not in re.split(r"[/\\]", bare)


@lru_cache(maxsize=256)
def parse_tokens(text: str) -> tuple[Token, ...]:
    """Block tokens of `text`, parsed as the content check sees it (HTML on).

    Kept for the last few hundred texts, and only ever read: loading content asks for a lesson's
    tokens up to four times (images, checks, anchors, translations), at a few milliseconds each.
    """
    return tuple(_checker.parse(text))


def inline_tokens(tokens: Sequence[Token]) -> Iterator[tuple[int, Token]]:
    """Every inline token (text, image, html_inline, ...) with its 0-based line.

    markdown-it only maps block tokens to lines; an inline token's line is its
    block's first line plus the line breaks before it.
    """
    for block in tokens:
        if block.type != "inline" or block.map is None:
            continue
        line = block.map[0]
        for child in block.children or []:
            if child.type in ("softbreak", "hardbreak"):
                line += 1
            yield line, child
            # An image's alt text is parsed into its own children.
            for grandchild in child.children or []:
                yield line, grandchild


def link_targets(tokens: Sequence[Token]) -> list[tuple[int, str]]:
    """(0-based line, href) of every link among `tokens`, in order."""
    return [
        (line, str(token.attrGet("href") or ""))
        for line, token in inline_tokens(tokens)
        if token.type == "link_open"
    ]


def image_sources(tokens: Sequence[Token]) -> list[tuple[int, str]]:
    """(0-based line, src as written) of every image among `tokens`, in order.

    markdown-it percent-encodes a src ("img/h%C3%A9.png"); this gives the path
    back as the author wrote it, which is also the file name on disk.
    """
    return [
        (line, unquote(str(token.attrGet("src") or "")))
        for line, token in inline_tokens(tokens)
        if token.type == "image"
    ]


def heading_anchor(title: str) -> str:
    """The id of a heading: its words in lowercase, joined by hyphens, without the citation
    in brackets at its end, so that correcting "(Art. 33(1))" keeps links to the section.

    "## 72 hours from awareness (Art. 33(1))" -> "72-hours-from-awareness".
    """
    text = title.strip()
    if text.endswith(")"):
        depth = 0
        for index in range(len(text) - 1, -1, -1):
            depth += {")": 1, "(": -1}.get(text[index], 0)
            if depth == 0:
                text = text[:index] if text[:index].strip() else text
                break
    return _NOT_IN_ANCHOR.sub("-", text.lower()).strip("-") or "section"


def heading_anchors(tokens: Sequence[Token]) -> list[tuple[Token, str, str]]:
    """(heading_open token, id, heading text) for every heading; a repeated id gets -2, -3..."""
    anchors: list[tuple[Token, str, str]] = []
    seen: dict[str, int] = {}
    for index, token in enumerate(tokens):
        if token.type != "heading_open" or index + 1 >= len(tokens):
            continue
        title = tokens[index + 1].content
        anchor = heading_anchor(title)
        seen[anchor] = seen.get(anchor, 0) + 1
        if seen[anchor] > 1:
            anchor = f"{anchor}-{seen[anchor]}"
        anchors.append((token, anchor, title))
    return anchors


def _rewrite_images(tokens: list[Token], image_url: Callable[[str], str] | None) -> None:
    for block in tokens:
        for index, child in enumerate(block.children or []):
            if child.type != "image":
                continue
            src = unquote(str(child.attrGet("src") or ""))
            if not is_relative_path(src):
                # Remote images leak who reads what to a third party and can
                # change after review; data: and javascript: URIs are a script
                # vector. Keep the alt text so the reader still gets the point.
                alt = Token("text", "", 0, content=child.content)
                block.children[index] = alt
            elif image_url is not None:
                child.attrSet("src", image_url(src))


def _align_cells(tokens: list[Token]) -> None:
    # markdown-it writes column alignment as a style attribute; styles are not
    # allowed through nh3, so carry the alignment in the align attribute.
    for token in tokens:
        if token.type in ("th_open", "td_open"):
            style = token.attrGet("style")
            if style:
                match = _TEXT_ALIGN.search(str(style))
                token.attrs.pop("style")
                if match:
                    token.attrSet("align", match.group(1))


def section_anchors(text: str) -> list[str]:
    """The ids of a body's headings, in order."""
    return [anchor for _, anchor, _ in heading_anchors(parse_tokens(text))]


def render_markdown(text: str, image_url: Callable[[str], str] | None = None,
                    anchors: list[str] | None = None) -> str:
    """Render lesson or job-aid Markdown to HTML that is safe to mark as Markup.

    `image_url` maps a relative image path (as written, e.g. "img/headset.png")
    to the URL the page should load it from. Images with a scheme or an
    absolute path are dropped (their alt text stays). `anchors` gives the headings their ids
    in order: a translated lesson keeps its source's (section_anchors), so links to a section
    work in every language.
    """
    tokens = _renderer.parse(text)
    _rewrite_images(tokens, image_url)
    _align_cells(tokens)
    for index, (heading, anchor, _) in enumerate(heading_anchors(tokens)):
        heading.attrSet("id", anchors[index] if anchors and index < len(anchors) else anchor)
    html = _renderer.renderer.render(tokens, _renderer.options, {})
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
