"""A strict-enough reading of the report page with the standard library's html.parser: every non-void element
must be closed in order, and the parse records elements, attributes and text for the tests to query."""
from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID_ELEMENTS = {"meta", "link", "br", "hr", "img", "input", "source", "wbr", "col", "area", "base", "embed",
                 "param", "track"}
# SVG shapes may be written self-closing (<rect .../>); html.parser reports those through handle_startendtag.


@dataclass
class Element:
    tag: str
    attrs: dict
    parents: tuple[str, ...]
    text: list[str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())


class PageParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[Element] = []
        self.elements: list[Element] = []
        self.problems: list[str] = []
        self.doctype = None

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        element = Element(tag, dict(attrs), tuple(e.tag for e in self.stack))
        self.elements.append(element)
        if tag not in VOID_ELEMENTS:
            self.stack.append(element)

    def handle_startendtag(self, tag, attrs):
        self.elements.append(Element(tag, dict(attrs), tuple(e.tag for e in self.stack)))

    def handle_endtag(self, tag):
        if tag in VOID_ELEMENTS:
            return
        if not self.stack or self.stack[-1].tag != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1].tag if self.stack else 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data):
        for element in self.stack:
            element.text.append(data)

    def close(self):
        super().close()
        if self.stack:
            self.problems.append("unclosed: " + ", ".join(e.tag for e in self.stack))

    # -- queries --
    def find_all(self, tag: str, class_name: str | None = None) -> list[Element]:
        return [e for e in self.elements if e.tag == tag and (class_name is None or class_name in e.classes)]

    def text_of(self, element: Element) -> str:
        return "".join(element.text)


def parse_page(text: str) -> PageParser:
    parser = PageParser()
    parser.feed(text)
    parser.close()
    return parser
