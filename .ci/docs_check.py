"""Opens every page of the built documentation site in headless Chromium and fails on an empty
page, a console message (an uncaught error, anything a script logs, a browser warning or error)
or a file the pages ask for that the site lacks (a broken image, stylesheet or script).

    python .ci/docs_check.py SITE_DIR [--screenshots DIR]

The site is served from 127.0.0.1 on a free port by a server in this process, which records the
status of every request; one browser, driven over the DevTools protocol, opens the pages in turn. A page counts as empty when its article has no heading or fewer than
MIN_TEXT characters of text. `--screenshots DIR` also saves full-width screenshots of
SCREENSHOT_PAGES (look at them: a page nobody has looked at is not done); they stay out of git.
Standard library only, so it runs in any Python >= 3.10 beside a `chromium` binary.
"""

import argparse
import base64
import functools
import html.parser
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

MIN_TEXT = 200  # characters of article text; the shortest real page here has several times that
SCREENSHOT_PAGES = ("", "monitoring/", "reports/depth/", "api/layers/")
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Quiet, offline, deterministic: no sync, no updates, no first-run UI, no GPU.
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars",
)


class ArticleText(html.parser.HTMLParser):
    """Collects the text and the headings inside the page's first <article> element."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
            "track", "wbr"}

    def __init__(self):
        super().__init__()
        self.depth = 0  # element nesting inside the article; 0 = outside
        self.done = False
        self.text = []
        self.headings = 0

    def handle_starttag(self, tag, attrs):
        if self.done:
            return
        if self.depth == 0:
            if tag == "article":
                self.depth = 1
            return
        if tag in ("h1", "h2"):
            self.headings += 1
        if tag not in self.VOID:
            self.depth += 1

    def handle_endtag(self, tag):
        if self.depth and not self.done and tag not in self.VOID:
            self.depth -= 1
            if self.depth == 0:
                self.done = True

    def handle_data(self, data):
        if self.depth and not self.done:
            self.text.append(data)


def article_problem(dom):
    """None when the page's article has a heading and text; else what is wrong with it."""
    parser = ArticleText()
    parser.feed(dom)
    text = " ".join("".join(parser.text).split())
    if not parser.depth and not parser.done:
        return "no <article> element"
    if not parser.headings:
        return "no heading in the article"
    if len(text) < MIN_TEXT:
        return f"empty page: {len(text)} characters of text (expected >= {MIN_TEXT})"
    return None


def find_pages(site):
    pages = []
    for folder, dirs, files in os.walk(site):
        dirs[:] = sorted(d for d in dirs if d not in ("assets", "search"))
        if "index.html" in files:
            rel = os.path.relpath(folder, site)
            pages.append("" if rel == "." else rel.replace(os.sep, "/") + "/")
    return pages


def serve(site):
    """A server for SITE on 127.0.0.1 (a free port) in a thread; returns (server, requests)."""
    requests = []  # (status, path) of every request, in order

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_request(self, code="-", size="-"):
            requests.append((int(getattr(code, "value", code)), self.path))

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=site))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, requests


class Browser:
    """One headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`:
    JSON messages separated by NUL bytes on file descriptors 3 and 4), one tab reused for every
    page. Console calls, uncaught exceptions and browser log errors are collected per page."""

    def __init__(self, binary):
        self.profile = tempfile.TemporaryDirectory()
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()
        # The browser expects the pipe on fds 3 and 4; the shell puts them there.
        self.process = subprocess.Popen(
            ["sh", "-c", f'exec "$0" "$@" 3<&{to_browser_r} 4>&{from_browser_w}', binary,
             *CHROMIUM_FLAGS, "--remote-debugging-pipe", f"--user-data-dir={self.profile.name}",
             "about:blank"],
            pass_fds=(to_browser_r, from_browser_w), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.next_id = 0
        self.replies = {}
        self.events = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=True)

    def _read(self):
        buffer = b""
        with os.fdopen(self.from_browser, "rb", buffering=0) as stream:
            while chunk := stream.read(65536):
                buffer += chunk
                *messages, buffer = buffer.split(b"\0")
                with self.cond:
                    for raw in messages:
                        message = json.loads(raw)
                        if "id" in message:
                            self.replies[message["id"]] = message
                        else:
                            self.events.append(message)
                    self.cond.notify_all()

    def call(self, method, session=False, timeout=60, **params):
        with self.cond:
            self.next_id += 1
            ident = self.next_id
        message = {"id": ident, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        with self.cond:
            if not self.cond.wait_for(lambda: ident in self.replies, timeout):
                raise TimeoutError(f"Chromium did not answer {method} in {timeout} s")
            reply = self.replies.pop(ident)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def open(self, url, timeout=60):
        """Loads URL; returns the console messages and errors it produced."""
        with self.cond:
            self.events.clear()
        self.call("Page.navigate", session=True, url=url)
        with self.cond:
            loaded = self.cond.wait_for(lambda: any(
                e["method"] == "Page.loadEventFired" for e in self.events), timeout)
        if not loaded:
            raise TimeoutError(f"{url} did not finish loading in {timeout} s")
        time.sleep(0.3)  # scripts that run just after the load event
        with self.cond:
            return [text for text in map(_message, self.events) if text]

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", session=True, expression=expression,
                           returnByValue=True)
        return result["result"].get("value")

    def screenshot(self, url, path, width=1280, height=2000):
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=width, height=height,
                  deviceScaleFactor=1, mobile=False)
        self.open(url)
        data = self.call("Page.captureScreenshot", session=True, format="png")["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.call("Browser.close", timeout=10)
        except (TimeoutError, RuntimeError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.close(self.to_browser)
        self.profile.cleanup()


def _message(event):
    """The text of a console call, an uncaught exception or a browser log entry; else None."""
    method, params = event.get("method"), event.get("params", {})
    if method == "Runtime.consoleAPICalled":
        args = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
        return f"console.{params['type']}: {args}"
    if method == "Runtime.exceptionThrown":
        details = params["exceptionDetails"]
        return "uncaught: " + details.get("exception", {}).get("description", details["text"])
    if method == "Log.entryAdded" and params["entry"]["level"] in ("warning", "error"):
        entry = params["entry"]
        return f"log {entry['level']}: {entry['text']} {entry.get('url', '')}".rstrip()
    return None


ARTICLE_HTML = "(document.querySelector('article') || {outerHTML: ''}).outerHTML"


def check_page(browser, url):
    problems = browser.open(url)
    problem = article_problem(browser.evaluate(ARTICLE_HTML) or "")
    return problems + ([problem] if problem else [])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", help="the built site (mkdocs build's site_dir)")
    parser.add_argument("--screenshots", metavar="DIR", help="save screenshots of a few pages here")
    args = parser.parse_args(argv)
    binary = next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)
    if binary is None:
        sys.exit("docs check: no Chromium found; install it (Debian: apt-get install -y chromium)")
    pages = find_pages(args.site)
    if len(pages) < 2:
        sys.exit(f"docs check: {args.site} holds {len(pages)} page(s); build the site first")
    server, requests = serve(args.site)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    failures = {}
    browser = Browser(binary)
    try:
        for page in pages:
            problems = check_page(browser, base + page)
            if problems:
                failures[page or "/"] = problems
        if args.screenshots:
            os.makedirs(args.screenshots, exist_ok=True)
            for page in SCREENSHOT_PAGES:
                name = (page.strip("/").replace("/", "_") or "index") + ".png"
                path = os.path.join(os.path.abspath(args.screenshots), name)
                browser.screenshot(base + page, path)
                print(f"docs check: screenshot {path}")
    finally:
        browser.close()
        server.shutdown()
    missing = sorted({path for status, path in requests if status >= 400})
    for path in missing:
        failures.setdefault("(requests)", []).append(f"missing file: {path}")
    for page, problems in failures.items():
        for problem in problems:
            print(f"docs check: {page}: {problem}", file=sys.stderr)
    print(f"docs check: {len(pages)} pages opened in {os.path.basename(binary)}, "
          f"{len(requests)} requests; {sum(map(len, failures.values()))} problem(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
