"""Where a narration's `Article` comes from. Pure: takes what was fetched, returns an Article.

* A forum post (LessWrong, Alignment Forum, EA Forum): the ForumMagnum GraphQL answer to
  `POST_BODY` (title, author's display name, `htmlBody`).
* Any other page: the article extracted by readability-lxml, chosen over trafilatura by measured
  quality on the saved pages in tests/narration/pages (bench/extractor_quality.py, results in
  bench/README.md): the same recall, structure kept (ordered lists, code blocks, links), about
  half the time, and far fewer dependencies. Title and author come from the page's metadata.
"""

from __future__ import annotations

import json
from typing import Any

import lxml.etree
import lxml.html
from readability import Document

from bot.narration.text import Article, clean_text, strip_controls
from bot.safe_fetch import extract_title

# One post by id, with what a reading needs. `htmlBody` is the post's rendered HTML.
POST_BODY = (
    "query PostBody($id: String) "
    "{ post(input: {selector: {_id: $id}}) { result { _id title htmlBody user { displayName } } } }"
)


MIN_ARTICLE_WORDS = 20
"""Fewer words than this is a menu or an error page, not an article."""


class NoArticleError(ValueError):
    """Nothing readable: the page or answer held no article text."""


def forum_article(data: Any) -> Article:
    """The Article in a `POST_BODY` answer (parsed JSON); `NoArticleError` if there is none."""
    post: Any = None
    if isinstance(data, dict) and isinstance(data.get("data"), dict):
        single = data["data"].get("post")
        if isinstance(single, dict):
            post = single.get("result")
    if not isinstance(post, dict):
        raise NoArticleError("The forum has no such post.")
    html = post.get("htmlBody")
    if not isinstance(html, str) or not html.strip():
        raise NoArticleError("The post has no text.")
    user = post.get("user")
    author = user.get("displayName") if isinstance(user, dict) else None
    title = post.get("title")
    return Article(
        title=clean_text(title) if isinstance(title, str) else "",
        author=clean_text(author) if isinstance(author, str) else "",
        html=html,
    )


def forum_request(post_id: str) -> dict[str, Any]:
    """The GraphQL request body for `post_id`."""
    return {"query": POST_BODY, "variables": {"id": post_id}}


def page_article(body: bytes, charset: str | None = None) -> Article:
    """The article in an HTML page; `NoArticleError` when the extractor finds no text."""
    text = strip_controls(_decode(body, charset))
    try:
        document = Document(text)
        html = document.summary(html_partial=True)
    except Exception as exc:  # readability raises its own Unparseable and lxml errors
        raise NoArticleError("The page could not be read as an article.") from exc
    words = len(lxml.html.fromstring(html).text_content().split()) if html.strip() else 0
    if words < MIN_ARTICLE_WORDS:
        raise NoArticleError("The page has no article text.")
    return Article(
        title=extract_title(body, charset) or clean_text(document.short_title()),
        author=_meta_author(text),
        html=html,
    )


def _decode(body: bytes, charset: str | None) -> str:
    for codec in (charset, "utf-8"):
        if codec:
            try:
                return body.decode(codec)
            except (LookupError, UnicodeError):  # not text ("rot13", "undefined") or not this
                continue
    return body.decode("utf-8", errors="replace")


def _meta_author(text: str) -> str:
    try:
        root = lxml.html.fromstring(text)
    except (ValueError, lxml.etree.ParserError):
        return ""
    for xpath in (
        '//meta[@name="author"]/@content',
        '//meta[@property="article:author"]/@content',
        '//*[@rel="author"]//text()',
    ):
        for value in root.xpath(xpath):
            found = clean_text(str(value))
            if found and not found.startswith("http"):
                return found[:200]
    return ""


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: deep nesting
        return None
