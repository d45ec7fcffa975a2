"""Saved web pages (.html, .htm, .shtml, .xhtml): the article, without the page around it.

Main content is extracted with trafilatura (Apache-2.0), tuned for precision
(`favor_precision=True`, no comments): scripts, styles, navigation, share buttons, footers
and ICP lines are not part of what it returns. If it finds no article, trafilatura's
`baseline` (the page's paragraphs, readability-style) is the fallback. Before extraction,
"related links" boxes are removed from the page: a run of paragraphs that are nothing but
links, with the short label above them (`延伸阅读`, `相关报道`) — trafilatura drops the links
but would keep the label as the article's last line.

- Encoding: a BOM, else the page's own `<meta charset>` / `http-equiv` declaration, else
  detection as for .txt. GB2312 and GBK pages are decoded as GB18030 (their superset: pages
  labelled GB2312 routinely hold GBK characters).
- Title: the page's title as trafilatura finds it (og:title, <title>, <h1>), with a site
  suffix such as `_共产党员网` removed; it is the first block (level 0) unless the article
  starts with it. Headings (<h1>…<h6>) keep their rank as levels 1, 2, …
- Publication date and author only from the page's metadata (meta tags, JSON-LD): the
  extensive date search (dates in image links, the page text) takes 4 s to load and guesses.
"""
from __future__ import annotations

import codecs
import re
from pathlib import Path

from ..errors import CorpusError
from .base import Block, Document, clean_properties, paragraph_blocks
from .text import decode_bytes

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_GB_FAMILY = {"gb2312", "gbk", "gb_2312", "gb_2312-80", "x-gbk", "cp936", "csgb2312", "euc-cn", "gb18030"}
_SENTENCE_END = re.compile(r"[。！？；：!?;:…]\s*$")
_LABEL_MAX = 12
_CAPTION_MAX = 200  # "延伸阅读" / "相关报道：" / "相关新闻链接"
# Site names after the article title in <title>: "标题_共产党员网", "标题 - 新华网", "标题|人民网".
_SITE_SUFFIX = re.compile(r"\s*(?:[_|｜]|\s[-—–]\s)\s*[^_|｜]{2,20}(?:网|报|台|网站|政府|门户|频道|在线|客户端|新闻)\s*$")


def decode_page(data: bytes) -> str:
    """The page's text in the encoding it declares (or that fits)."""
    if data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = decode_bytes(data)
        if text is not None:
            return text
    match = _META_CHARSET.search(data[:8192])
    if match:
        declared = match.group(1).decode("ascii").lower()
        encoding = "gb18030" if declared in _GB_FAMILY else declared
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong or unknown declaration: detect instead
    text = decode_bytes(data)
    if text is None:
        raise CorpusError("not decodable as UTF-8, GB18030, Big5 or UTF-16")
    return text


def _link_only(element) -> bool:
    if not isinstance(element.tag, str):  # a comment or processing instruction
        return False
    text = "".join(element.itertext()).strip()
    links = "".join("".join(a.itertext()) for a in element.iter("a")).strip()
    return bool(text) and bool(links) and len(re.sub(r"\s", "", links)) >= 0.9 * len(re.sub(r"\s", "", text))


def _remove_related_links(tree) -> int:
    """Remove 'related links' boxes: a short label followed by link-only paragraphs."""
    removed = 0
    for label in list(tree.iter("p", "div", "h2", "h3", "h4", "h5", "h6", "strong", "b")):
        if label.getparent() is None or any(a.getparent() is None for a in label.iterancestors() if a is not tree):
            continue  # inside a box removed already
        text = "".join(label.itertext()).strip()
        if not text or len(text) > _LABEL_MAX or _SENTENCE_END.search(text) or label.find(".//a") is not None:
            continue
        block = label
        while block.getparent() is not None and block.tag in ("strong", "b", "span"):
            block = block.getparent()
        if "".join(block.itertext()).strip() != text:
            continue  # the bold words open a paragraph of text: not a label
        following = []
        sibling = block.getnext()
        while sibling is not None and _link_only(sibling):
            following.append(sibling)
            sibling = sibling.getnext()
        if len(following) >= 1 and block.getparent() is not None:
            for element in [block, *following]:
                element.drop_tree()
            removed += 1
    return removed


# Photo captions are marked by their class in most site templates ("photo_title", "pic-desc",
# "img_caption", <figcaption>): they describe a picture, not the speech.
_CAPTION_CLASS = re.compile(r"(?:^|[\s_\-])(?:caption|photo|pic|img|image)(?:$|[\s_\-])", re.IGNORECASE)


def _short_leaf(element) -> bool:
    """A caption is one short piece of text; a "photo_article" container around the whole
    article is not."""
    return element.find(".//p") is None and len("".join(element.itertext()).strip()) <= _CAPTION_MAX


def _remove_captions(tree) -> int:
    captions = [e for e in tree.iter("figcaption", "p", "div", "span")
                if e.tag == "figcaption" or (_CAPTION_CLASS.search(e.get("class", "") or "") and _short_leaf(e))]
    captions = [e for e in captions if not any(a in captions for a in e.iterancestors())]
    for element in captions:
        if element.getparent() is not None:
            element.drop_tree()
    return len(captions)


def _blocks_from_body(body) -> list[Block]:
    """Blocks from trafilatura's article tree: <head rend="hN">, <p>, <list><item>, <table><row><cell>."""
    blocks: list[Block] = []
    for element in body.iter("head", "p", "item", "row", "quote"):
        if element.tag in ("p", "quote", "head") and any(
                ancestor.tag in ("cell", "item", "quote") for ancestor in element.iterancestors()):
            continue  # read as part of its row, list item or quotation
        level = None
        if element.tag == "head":
            match = re.match(r"h(\d)", element.get("rend", ""))
            level = int(match.group(1)) if match else 2
        if element.tag == "row":
            lines = ["\t".join(" ".join(" ".join(_lines(cell)).split()) for cell in element.iter("cell"))]
        elif level is not None:
            lines = ["".join(_lines(element))]  # a heading broken with <br> is still one heading
        else:
            lines = _lines(element)  # pages that set paragraphs apart with <br> only
        blocks += [Block(" ".join(line.split()), level) for line in lines if line.strip()]
    return blocks


def _lines(element) -> list[str]:
    """The text of an element, split where the page has a line break (<br>, <lb/> here)."""
    lines = [element.text or ""]
    for child in element:
        if child.tag == "lb":
            lines.append("")
        elif isinstance(child.tag, str):
            inner = _lines(child)
            lines[-1] += inner[0]
            lines += inner[1:]
        lines[-1] += child.tail or ""
    return lines


def _rank_levels(blocks: list[Block]) -> list[Block]:
    """Heading ranks as levels 1, 2, … in the order the page uses them (h2/h3 → 1/2)."""
    ranks = sorted({b.level for b in blocks if b.level is not None})
    return [Block(b.text, ranks.index(b.level) + 1 if b.level is not None else None) for b in blocks]


def page_title(title: str | None) -> str | None:
    if not title:
        return None
    title = " ".join(title.split())
    return _SITE_SUFFIX.sub("", title) or title


class HtmlReader:
    suffixes = (".html", ".htm", ".shtml", ".xhtml")

    def read(self, path: Path) -> Document:
        import lxml.html
        import trafilatura  # imported on first use

        try:
            text = decode_page(Path(path).read_bytes())
        except CorpusError as error:
            raise CorpusError(f"{path} is a web page that cannot be decoded ({error}); "
                              "save it again as UTF-8 (“Save as… Web page, HTML only”)") from None
        tree = lxml.html.document_fromstring(text) if text.strip() else None
        if tree is None:
            return Document(())
        removed = {"related_links": _remove_related_links(tree), "photo_caption": _remove_captions(tree)}
        extracted = trafilatura.bare_extraction(
            tree, include_comments=False, favor_precision=True, include_tables=True, with_metadata=True,
            date_extraction_params={"extensive_search": False, "original_date": True})
        body = getattr(extracted, "body", None)
        blocks = _rank_levels(_blocks_from_body(body)) if body is not None else []
        if not blocks:  # no article found: the page's paragraphs, readability-style
            _, baseline_text, _ = trafilatura.baseline(lxml.html.document_fromstring(text))
            blocks = [Block(line.strip()) for line in baseline_text.split("\n") if line.strip()]
        if not blocks:  # a title alone is no speech: say why the page gives nothing
            return Document((), {}, {}, (f"{path}: no article text found in the page (built by scripts, or "
                                         "a frame set?); save the page as displayed, or copy its text into a .txt",))
        title = page_title(getattr(extracted, "title", None))
        if title and (not blocks or blocks[0].text != title):
            blocks.insert(0, Block(title, 0))
        elif title:
            blocks[0] = Block(title, 0)
        properties = clean_properties({"title": title, "author": getattr(extracted, "author", None),
                                       "date": getattr(extracted, "date", None),
                                       "site": getattr(extracted, "sitename", None)})
        return Document(paragraph_blocks(blocks), properties, {k: n for k, n in removed.items() if n})
