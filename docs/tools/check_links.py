"""check_links.py BOOK_DIR: every internal link of a built mdBook must resolve.

Walks the book's HTML pages except 404.html (the rustdoc copied under api/ is a link target, not crawled:
rustdoc checks its own links), and for each href / src that is not external checks that the
file exists and, for a #fragment into an HTML page, that the page has that id. Prints every
broken link and a summary; exit status 1 if any link is broken."""

import os
import sys
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links = []
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        for key in ("href", "src"):
            if a.get(key) and not (tag == "link" and a.get("rel") == "preconnect"):
                self.links.append(a[key])


def parse(path, cache={}):
    if path not in cache:
        p = Page()
        with open(path, encoding="utf-8", errors="replace") as f:
            p.feed(f.read())
        cache[path] = p
    return cache[path]


def main(book):
    book = os.path.abspath(book)
    api = os.path.join(book, "api") + os.sep
    checked = broken = 0
    pages = 0
    for dirpath, dirnames, files in os.walk(book):
        if (dirpath + os.sep).startswith(api):
            dirnames[:] = []
            continue
        for name in files:
            # 404.html is served at any path, with the site's root as its base: not relative.
            if not name.endswith(".html") or (dirpath == book and name == "404.html"):
                continue
            pages += 1
            page = os.path.join(dirpath, name)
            for link in parse(page).links:
                u = urlsplit(link)
                if u.scheme or link.startswith("//"):
                    continue  # external: http(s), mailto, data, javascript
                checked += 1
                target = page if not u.path else os.path.normpath(os.path.join(dirpath, unquote(u.path)))
                if os.path.isdir(target):
                    target = os.path.join(target, "index.html")
                why = None
                if not target.startswith(book + os.sep) and target != book:
                    why = "points outside the book"
                elif not os.path.isfile(target):
                    why = "no such file"
                elif u.fragment and target.endswith(".html") and unquote(u.fragment) not in parse(target).ids:
                    why = f"no id {u.fragment!r} in {os.path.relpath(target, book)}"
                if why:
                    broken += 1
                    print(f"broken: {os.path.relpath(page, book)}: {link} ({why})")
    print(f"links: {checked} internal links in {pages} pages checked, {broken} broken")
    return 1 if broken or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
