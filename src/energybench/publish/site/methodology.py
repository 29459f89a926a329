"""The methodology page: the docs that define every figure (docs/energy.md, docs/paper.md)
rendered from Markdown into the static site, so the site says how it was measured.

Rendered by markdown-it-py with raw HTML off (markup in a doc is shown as text), and no
request leaves the page: images are shown as their alt text; links to the docs on the page
become links to their sections, other relative links (source files, docs not on the page)
plain text, and web links stay links (followed only when a reader clicks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token

WEB_SCHEMES = ("http", "https", "mailto")


@dataclass(frozen=True)
class Document:
    name: str  # the file's stem: the id of its section on the page
    title: str
    html: str


def slug(text: str) -> str:
    """A heading's anchor as GitHub writes it (lower case, punctuation dropped, spaces to
    hyphens), so that the docs' own ``file.md#anchor`` links find it."""
    return re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", text.lower()).strip())


def render(paths: list[str | Path]) -> list[Document]:
    """Each Markdown file of ``paths`` as a section of the page, in order; a file that cannot
    be read raises an error naming it."""
    on_page = {Path(path).name: Path(path).stem for path in paths}
    documents = []
    for path in map(Path, paths):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"methodology page: cannot read {path}: {exc}") from None
        documents.append(_document(path.stem, text, on_page))
    return documents


def _document(name: str, text: str, on_page: dict[str, str]) -> Document:
    parser = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = parser.parse(text)
    title = name
    for position, token in enumerate(tokens):
        if token.type == "heading_open":
            heading = tokens[position + 1].content
            token.attrSet("id", f"{name}-{slug(heading)}")
            if token.tag == "h1" and title == name:
                title = heading
        elif token.type == "inline" and token.children:
            token.children = _local_children(token.children, name, on_page)
    return Document(name, title, parser.renderer.render(tokens, parser.options, {}))


def _target(href: str, name: str, on_page: dict[str, str]) -> str | None:
    """Where a link of document ``name`` points on the page; None where it leads off the
    site's files (a source file, a doc not on the page)."""
    parts = urlsplit(href)
    if parts.scheme in WEB_SCHEMES:
        return href
    if parts.scheme or parts.netloc:
        return None
    if not parts.path:
        return f"#{name}-{parts.fragment}" if parts.fragment else None
    document = on_page.get(Path(parts.path).name)
    if document is None or Path(parts.path).parent.name not in ("", "docs"):
        return None
    return f"#{document}-{parts.fragment}" if parts.fragment else f"#{document}"


def _local_children(children: list[Token], name: str, on_page: dict[str, str]) -> list[Token]:
    """An inline run with its links pointed at the page (or dropped, their text kept) and
    its images as their alt text."""
    kept, dropped_links = [], []
    for token in children:
        if token.type == "image":
            kept.append(Token("text", "", 0, content=token.content))
            continue
        if token.type == "link_open":
            target = _target(token.attrGet("href") or "", name, on_page)
            dropped_links.append(target is None)
            if target is None:
                continue
            token.attrSet("href", target)
        elif token.type == "link_close" and dropped_links.pop():
            continue
        kept.append(token)
    return kept
