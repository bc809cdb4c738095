"""The report in a real browser: headless Chromium driven over the DevTools protocol.

Chromium is started with --remote-debugging-pipe (DevTools messages on file descriptors 3
and 4, NUL-separated JSON), so no websocket client, port or extra package is needed. Each test
opens the rendered report and reads back what the browser saw: console and CSP errors,
network requests, dialogs, the DOM text and whether any payload ran.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.report import build_report
from pipeline.report.render import pct
from tests.report_frames import (
    CAMPAIGN_NAME,
    HANDLE,
    HOSTILE,
    HOSTILE_CAMPAIGN,
    IMG,
    MANIFEST,
    POST_PAYLOAD,
    SCRIPT,
    TITLE,
    audit_for,
    hostile_audit,
    hostile_frame,
    scored_frame,
)

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--remote-debugging-pipe",
)  # fmt: skip
SHIM = (
    "import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
    "os.execv(sys.argv[3], sys.argv[3:])"
)
INJECTED = "script, img, iframe, object, embed, xss-marker, [onload], [onerror]"
HANDLERS = (
    "[...document.querySelectorAll('*')]"
    ".some(e => [...e.attributes].some(a => /^on/i.test(a.name)))"
)


class Browser:
    """Just enough of the DevTools protocol: commands, events and one page per session."""

    def __init__(self, profile: Path) -> None:
        to_chrome, self._w = map(_high, os.pipe())
        self._r, from_chrome = map(_high, os.pipe())
        # A tiny exec shim puts the pipes on fds 3 and 4; the Debian wrapper script and the
        # real binary it execs both inherit them.
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SHIM, str(to_chrome), str(from_chrome), CHROMIUM, *FLAGS,
             f"--user-data-dir={profile}", "about:blank"],
            pass_fds=(to_chrome, from_chrome),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(to_chrome)
        os.close(from_chrome)
        self._buf, self._id, self.events = b"", 0, []

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        os.write(self._w, json.dumps({**message, **({"sessionId": session} if session else {})})
                 .encode() + b"\0")  # fmt: skip
        reply = self.wait(lambda m, i=self._id: m.get("id") == i)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def wait(self, match, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self._buf:
                raw, self._buf = self._buf.split(b"\0", 1)
                message = json.loads(raw)
                if match(message):
                    return message
                self.events.append(message)
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise TimeoutError("no answer from Chromium")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium exited")
            self._buf += chunk

    def open(self, url: str, bypass_csp: bool = False) -> str:
        """A new tab with `url` loaded; returns its session id."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})
        session = session["sessionId"]
        for domain in ("Runtime", "Log", "Page", "Network"):
            self.send(f"{domain}.enable", session=session)
        self.send("Page.setBypassCSP", {"enabled": bypass_csp}, session=session)
        self.send("Page.navigate", {"url": url}, session=session)
        self.wait(
            lambda m: m.get("method") == "Page.loadEventFired" and m.get("sessionId") == session
        )
        return session

    def eval(self, session: str, expression: str):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                           session=session)  # fmt: skip
        return result["result"].get("value")

    def seen(self, session: str, method: str) -> list[dict]:
        return [e["params"] for e in self.events if e.get("sessionId") == session
                and e.get("method") == method]  # fmt: skip

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.send("Browser.close")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._w)
        os.close(self._r)


def _high(fd: int) -> int:
    """The fd moved to 10 or above, so dup2 onto 3 or 4 cannot clobber its peer."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium package to run browser tests")
    chrome = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield chrome
    chrome.close()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    frame = scored_frame()
    out = tmp_path_factory.mktemp("browser-report")
    paths = build_report(frame, out, manifest=MANIFEST, title=TITLE, audit=audit_for(frame))
    return paths, json.loads(paths.summary.read_text(encoding="utf-8"))


def check_nothing_ran(chrome: Browser, session: str) -> None:
    assert chrome.eval(session, "document.title") == TITLE  # the payload is the title's text
    assert chrome.eval(session, f"document.querySelectorAll({INJECTED!r}).length") == 0
    assert chrome.eval(session, HANDLERS) is False
    assert chrome.seen(session, "Page.javascriptDialogOpening") == []  # no alert(1)
    assert chrome.seen(session, "Runtime.exceptionThrown") == []


def test_report_renders_the_summary_numbers(browser, rendered):
    paths, data = rendered
    session = browser.open(paths.html.as_uri())
    overall = data["overall"]
    text = browser.eval(session, "document.body.innerText")
    assert (
        browser.eval(session, "document.getElementById('n-comments').innerText")
        == f"{overall['n']:,}"
    )
    shown = browser.eval(session, "document.getElementById('flagged-share').innerText")
    assert shown == pct(overall["flagged_share"])
    assert pct(overall["corrected_share"]) in text
    assert all(c["handle"] in text and c["verdict"] in text for c in data["audit"]["creators"])
    assert browser.eval(session, "document.querySelectorAll('svg.chart').length") >= 4
    # Laid out, not just parsed: the first chart has a real size on screen.
    assert (
        browser.eval(session, "document.querySelector('svg.chart').getBoundingClientRect().width")
        > 500
    )


def test_no_console_errors_and_no_requests(browser, rendered):
    paths, _ = rendered
    session = browser.open(paths.html.as_uri())
    errors = [e["entry"] for e in browser.seen(session, "Log.entryAdded")
              if e["entry"]["level"] in ("error", "warning")]  # fmt: skip
    console = [e for e in browser.seen(session, "Runtime.consoleAPICalled")
               if e["type"] in ("error", "warning", "assert")]  # fmt: skip
    assert errors == [] and console == []  # a CSP violation would be logged here
    urls = {e["request"]["url"] for e in browser.seen(session, "Network.requestWillBeSent")}
    assert urls == {paths.html.as_uri()}
    check_nothing_ran(browser, session)


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["with-csp", "escaping-alone"])
def test_payloads_show_as_text_and_never_run(browser, rendered, bypass_csp):
    paths, _ = rendered
    # With the CSP bypassed, only the escaping stands between the payloads and the page.
    session = browser.open(paths.html.as_uri(), bypass_csp=bypass_csp)
    text = browser.eval(session, "document.body.innerText")
    for payload in (SCRIPT, IMG, HANDLE, POST_PAYLOAD, CAMPAIGN_NAME):
        assert payload in text, payload
    check_nothing_ran(browser, session)


def test_the_harness_does_see_a_payload_run(browser, tmp_path):
    """Control: the same checks fail on a page that really runs the payloads."""
    page = tmp_path / "unsafe.html"
    page.write_text(f"<!DOCTYPE html><title>{TITLE}</title><body><p>{SCRIPT}</p><p>{IMG}</p>")
    session = browser.open(page.as_uri(), bypass_csp=True)
    assert browser.eval(session, "document.title") == "pwned"
    assert browser.eval(session, f"document.querySelectorAll({INJECTED!r}).length") > 0
    with pytest.raises(AssertionError):
        check_nothing_ran(browser, session)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The wider corpus: links, SVG, handlers, frames, styles, bidi overrides, in comments,
    handles, post ids and the campaign's name, brand and creators (via an audit)."""
    frame = hostile_frame()
    out = tmp_path_factory.mktemp("hostile-browser-report")
    return build_report(frame, out, manifest=MANIFEST, title=TITLE, audit=hostile_audit(frame))


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["with-csp", "escaping-alone"])
def test_the_wider_corpus_is_inert_text(browser, hostile, bypass_csp):
    session = browser.open(hostile.html.as_uri(), bypass_csp=bypass_csp)
    text = browser.eval(session, "document.body.innerText")
    for payload in HOSTILE:
        assert payload in text, payload
    assert HOSTILE_CAMPAIGN.replace("\u202e", "[U+202E]") in text
    assert "invoice[U+202E]gpj.exe" in text  # shown, not obeyed: no "invoiceexe.jpg"
    assert not any(ch in text for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    links = "[...document.querySelectorAll('[href]')].map(e => e.getAttribute('href'))"
    assert all(h.startswith("#") for h in browser.eval(session, links))
    check_nothing_ran(browser, session)
    urls = {e["request"]["url"] for e in browser.seen(session, "Network.requestWillBeSent")}
    assert urls == {hostile.html.as_uri()}
