"""Headless Chromium (Debian's `chromium`) driven over the DevTools protocol, for tests.

The protocol is spoken directly over a WebSocket (`websockets`, already a dependency of
uvicorn), so the browser tests need no driver package: only the `chromium` binary.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from websockets.sync.client import ClientConnection, connect

from tests.support.live_server import stop_process_group
from tests.support.skips import skip_or_fail

START_TIMEOUT_SECONDS = 30.0
COMMAND_TIMEOUT_SECONDS = 30.0
BROWSER_STOP_TIMEOUT_SECONDS = 10.0
WINDOW = (1280, 1700)
# Every host name resolves to nothing but 127.0.0.1: a page that reaches for the internet
# fails at once, offline or not, and the attempt is still recorded (see Page.requests).
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",  # the tests run as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    f"--window-size={WINDOW[0]},{WINDOW[1]}",
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
)


class BrowserError(RuntimeError):
    """The browser did not start, or a DevTools command failed."""


def chromium_binary() -> str:
    """The Debian `chromium` binary; skip (fail under CI=true) where it is missing."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found is not None:
            return found
    skip_or_fail("chromium is not installed (Debian: apt-get install chromium)")


@dataclass(frozen=True)
class Request:
    """A request a page made; `blocked_by` says why the browser never sent it (e.g. "csp")."""

    url: str
    blocked_by: str | None = None


@dataclass
class Page:
    """One tab: DevTools commands, and the events it reported (requests, console)."""

    socket: ClientConnection
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    events: list[dict[str, Any]] = field(default_factory=list)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        command_id = next(self.ids)
        self.socket.send(json.dumps({"id": command_id, "method": method, "params": params}))
        deadline = time.monotonic() + COMMAND_TIMEOUT_SECONDS
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrowserError(f"{method}: no answer within {COMMAND_TIMEOUT_SECONDS:g} s")
            message = json.loads(self.socket.recv(timeout=remaining))
            if message.get("id") == command_id:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            if "method" in message:
                self.events.append(message)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        answer = self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in answer:
            raise BrowserError(f"{expression[:80]}: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30.0) -> Any:
        """Poll `expression` until it is truthy, up to `timeout` seconds; return its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"not true within {timeout:g} s: {expression}\n{self.console_text()}"
                )
            time.sleep(0.1)  # a poll interval, bounded by the deadline above

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete'")

    def requests(self) -> list[Request]:
        """Every request the page made since it opened, in order."""
        self.evaluate("0")  # collect the events that arrived meanwhile
        blocked = {
            event["params"]["requestId"]: event["params"]["blockedReason"]
            for event in self.events
            if event["method"] == "Network.loadingFailed" and "blockedReason" in event["params"]
        }
        return [
            Request(
                url=event["params"]["request"]["url"],
                blocked_by=blocked.get(event["params"]["requestId"]),
            )
            for event in self.events
            if event["method"] == "Network.requestWillBeSent"
        ]

    def console_text(self) -> str:
        lines = []
        for event in self.events:
            if event["method"] == "Runtime.consoleAPICalled":
                values = [
                    str(arg.get("value", arg.get("description"))) for arg in event["params"]["args"]
                ]
                lines.append(f"console.{event['params']['type']}: {' '.join(values)}")
            elif event["method"] == "Log.entryAdded":
                entry = event["params"]["entry"]
                lines.append(f"{entry['level']}: {entry['text']} {entry.get('url', '')}")
        return "\n".join(lines)

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))


def outside_requests(requests: list[Request], allowed_host: str = "127.0.0.1") -> list[str]:
    """The URLs the browser asked of another host than `allowed_host`. A request the browser
    blocked itself (the page's Content-Security-Policy) never left it, so it does not count;
    data: and blob: URLs stay in the page."""
    return [
        request.url
        for request in requests
        if request.blocked_by is None
        and urlsplit(request.url).scheme in ("http", "https", "ws", "wss")
        and urlsplit(request.url).hostname != allowed_host
    ]


def _devtools_port(profile: Path, process: subprocess.Popen[bytes]) -> int:
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        if marker.exists() and marker.read_text().strip():
            return int(marker.read_text().splitlines()[0])
        if process.poll() is not None:
            raise BrowserError(f"chromium exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise BrowserError(f"chromium did not start within {START_TIMEOUT_SECONDS:g} s")
        time.sleep(0.05)  # a poll interval, bounded by the deadline above


@contextlib.contextmanager
def chromium() -> Iterator[int]:
    """A headless Chromium with a throwaway profile; yields its DevTools port."""
    binary = chromium_binary()
    # Helpers of the browser may still be writing the profile while it is removed.
    with tempfile.TemporaryDirectory(prefix="chromium-", ignore_cleanup_errors=True) as profile_dir:
        profile = Path(profile_dir)
        process = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            yield _devtools_port(profile, process)
        finally:
            stop_process_group(process, BROWSER_STOP_TIMEOUT_SECONDS)


@contextlib.contextmanager
def new_page(devtools_port: int) -> Iterator[Page]:
    """A fresh tab that records its network requests and console messages."""
    endpoint = f"http://127.0.0.1:{devtools_port}"
    with httpx.Client(base_url=endpoint, timeout=10, trust_env=False) as client:
        target = client.put("/json/new?about:blank").raise_for_status().json()
        try:
            with connect(target["webSocketDebuggerUrl"], max_size=None, proxy=None) as socket:
                page = Page(socket)
                for domain in ("Page", "Network", "Runtime", "Log"):
                    page.call(f"{domain}.enable")
                yield page
        finally:
            client.get(f"/json/close/{target['id']}")
