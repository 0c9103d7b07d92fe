"""Turning an e-mail body into plain text that is safe to show and to analyse."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

# Tags whose end starts a new line of text; everything else is dropped and its text kept.
_BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "br",
        "li",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "table",
        "ul",
        "ol",
    }
)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Plain text of an HTML body: scripts, styles and comments dropped, blocks on their own lines."""
    # nh3 (ammonia) removes script/style/head contents and every attribute before we read the text.
    cleaned = nh3.clean(
        markup,
        tags=set(_BLOCK_TAGS) | {"span", "a", "b", "i", "em", "strong", "td", "th"},
        clean_content_tags={"script", "style", "head", "title", "template", "noscript"},
        attributes={},
        strip_comments=True,
        link_rel=None,
    )
    extractor = _TextExtractor()
    extractor.feed(cleaned)
    extractor.close()
    # The parser has already decoded character references once; decoding again would turn "&amp;lt;" into "<".
    return tidy_text("".join(extractor.parts))


def tidy_text(text: str) -> str:
    """Normalise line ends, strip trailing spaces and collapse runs of blank lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
