"""The HTML map in a real browser: headless Chromium, with the network blocked, over the
DevTools protocol (``--remote-debugging-pipe``, standard library only).

It must load with no JavaScript error and no request leaving the file, and draw the
track over the offline coastlines. The screenshot is kept in the test's tmp_path.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.conftest import ingest_lines, run_cli
from tests.export.test_maps import DARK_END, DARK_START, T0, URAL, XSS, insert_event, ural_lines, xss_lines

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WIDTH, HEIGHT = 1200, 800
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
    # Offline: no name resolves, and anything that would still connect goes to a dead local port.
    "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
    f"--window-size={WIDTH},{HEIGHT}", "--remote-debugging-pipe",
]


class DevTools:
    """A minimal Chrome DevTools Protocol client over the pipe (fd 3 in, fd 4 out, NUL-separated JSON)."""

    def __init__(self, user_data_dir: Path) -> None:
        self._log_path = user_data_dir.parent / "chromium.log"  # a file: a full stderr pipe would block it
        self._log = open(self._log_path, "wb")  # noqa: SIM115 - closed in close()
        to_chrome_r, self._w = os.pipe()
        self._r, from_chrome_w = os.pipe()
        # Chromium expects the pipe on fds 3 and 4; bash puts it there from copies at fds >= 10.
        a, b = (fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD_CLOEXEC, 10), fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD_CLOEXEC, 10))
        self.proc = subprocess.Popen(
            ["bash", "-c", f'exec "$0" "$@" 3<&{a} 4>&{b} {a}<&- {b}>&-', CHROMIUM, *FLAGS,
             f"--user-data-dir={user_data_dir}", "about:blank"],
            pass_fds=(a, b), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._log,
        )
        for fd in (to_chrome_r, from_chrome_w, a, b):
            os.close(fd)
        self._buf = b""
        self._id = 0
        self.events: list[dict[str, Any]] = []

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer over the DevTools pipe")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe: " + self.stderr())
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout_s: float = 30.0) -> dict[str, Any]:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout_s
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout_s: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        for e in self.events:
            if e.get("method") == method:
                return e
        while True:
            e = self._read_message(deadline)
            self.events.append(e)
            if e.get("method") == method:
                return e

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        try:
            while True:
                self.events.append(self._read_message(deadline))
        except TimeoutError:
            pass

    def stderr(self) -> str:
        return self._log_path.read_text(errors="replace")[-2000:]

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout_s=5)
        except Exception:  # noqa: BLE001 - the browser may already be gone
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._r)
        os.close(self._w)
        self._log.close()


def open_page(url: str, tmp: Path) -> tuple[DevTools, str]:
    """Chromium on about:blank, attached and listening, then sent to ``url``; returns the session."""
    dt = DevTools(tmp / "chromium-profile")
    target = dt.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = dt.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Runtime", "Log", "Page", "Network"):
        dt.send(f"{domain}.enable", session=session)
    dt.send("Emulation.setDeviceMetricsOverride",
            {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False}, session=session)
    dt.send("Page.navigate", {"url": url}, session=session)
    dt.wait_for("Page.loadEventFired")
    dt.drain(1.5)  # let Leaflet lay out and draw
    return dt, session


def problems(events: list[dict[str, Any]]) -> list[str]:
    """JavaScript exceptions, console errors and warnings, browser log errors (CSP, failed loads)."""
    out = []
    for e in events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            out.append("exception: " + d.get("exception", {}).get("description", d.get("text", "")))
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
            out.append(f"console.{p['type']}: " + " ".join(str(a.get("value", a.get("description")))
                                                          for a in p.get("args", [])))
        elif m == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
            out.append(f"log {p['entry']['source']}: {p['entry']['text']}")
    return out


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium; "
                                              ".ci/run installs it)")
def test_html_map_runs_offline_in_chromium(tmp_path: Path) -> None:
    db = tmp_path / "maps.duckdb"
    ingest_lines(db, ural_lines(), name="ural.nmea")
    ingest_lines(db, xss_lines(), name="xss.csv")
    assert run_cli(["detect", "--rules", "destination_change"], db).exit_code == 0
    insert_event(db, "unplanned_port_call", T0 + timedelta(minutes=1000), DARK_START, 34.75, 10.80, "Mersa Sfax",
                 {"declared_ports": "NOVOROSSIYSK"}, [103, 104, 122])
    insert_event(db, "dark_period", DARK_START, DARK_END, 34.75, 10.80, "Banghazi",
                 {"note": "</script><script>alert(1)</script>"}, [122, 123])
    page = tmp_path / "ural.html"
    assert run_cli(["vessel", str(URAL), "--map", page], db).exit_code == 0
    xss_page = tmp_path / "xss.html"
    assert run_cli(["vessel", str(XSS), "--map", xss_page], db).exit_code == 0

    dt, s = open_page(page.as_uri(), tmp_path)
    try:
        ev = dt.events
        assert not problems(ev), problems(ev)
        requests = [e["params"]["request"]["url"] for e in ev if e.get("method") == "Network.requestWillBeSent"]
        assert requests and all(u.startswith(("file:", "data:")) for u in requests), requests
        state = dt.send("Runtime.evaluate", {"expression": (
            "JSON.stringify({ready: document.body.dataset.shiptrack, leaflet: L.version,"
            " markers: document.querySelectorAll('.ev-icon').length,"
            " labels: Array.from(document.querySelectorAll('.leaflet-tooltip')).map(t => t.textContent),"
            " canvas: document.querySelectorAll('canvas.leaflet-zoom-animated').length,"
            " title: document.title})"), "returnByValue": True}, session=s)["result"]["value"]
        state = json.loads(state)
        assert state["ready"] == "ready" and state["leaflet"].startswith("1.9")
        assert state["markers"] == 1 and state["canvas"] >= 1
        assert "dark 30.2 h" in state["labels"] and "Mersa Sfax" in state["labels"] and "Banghazi" in state["labels"]
        shot = base64.b64decode(dt.send("Page.captureScreenshot", {"format": "png"}, session=s)["data"])
        # Open the event pop-up: it lists the evidence as text.
        popup = dt.send("Runtime.evaluate", {"expression": (
            "document.querySelector('.ev-icon').click();"
            "document.querySelector('.leaflet-popup-content').textContent"), "returnByValue": True},
            session=s)["result"]["value"]
        assert "ural.nmea:122" in popup and "dark period" in popup and "</script><script>alert(1)" in popup
        dt.drain(0.5)
        assert not problems(dt.events), problems(dt.events)
        (tmp_path / "popup.png").write_bytes(base64.b64decode(
            dt.send("Page.captureScreenshot", {"format": "png"}, session=s)["data"]))
        # The optional OpenStreetMap layer, picked while offline: its tiles fail, nothing else does.
        seen = len(dt.events)
        dt.send("Runtime.evaluate", {"expression": (
            "document.querySelectorAll('.leaflet-control-layers-base input')[1].click()")}, session=s)
        dt.drain(1.5)
        tiles = [e["params"]["request"]["url"] for e in dt.events[seen:]
                 if e.get("method") == "Network.requestWillBeSent"]
        assert tiles and all(u.startswith("https://tile.openstreetmap.org/") for u in tiles), tiles
        assert not [p for p in problems(dt.events[seen:]) if not p.startswith("log network:")]
    finally:
        dt.close()
    (tmp_path / "screenshot.png").write_bytes(shot)
    with Image.open(tmp_path / "screenshot.png") as img:
        assert img.size == (WIDTH, HEIGHT)
        map_width = WIDTH - 360  # the side panel is 360 px wide
        px = np.asarray(img.convert("RGB"))[:, : map_width - 5].reshape(-1, 3).astype(int)

    def share(rgb: tuple[int, int, int], tol: int = 6) -> float:
        return float(np.mean(np.abs(px - np.array(rgb)).max(axis=1) <= tol))

    assert share((0xEC, 0xE6, 0xD6)) > 0.05, "no land fill: coastlines did not draw"
    assert share((0xD6, 0xE6, 0xF2)) > 0.05, "no sea"
    # The track's ramp runs from plasma's dark blue (first position) to orange (last).
    assert share((0x0D, 0x08, 0x87), tol=40) > 0.0001, "no early track colour"
    assert share((0xF8, 0x95, 0x40), tol=40) > 0.0001, "no late track colour"
    assert share((0xD7, 0x19, 0x1C), tol=30) > 0.0001, "no dark-period gap"

    # The hostile names: the page runs without error and shows them as text.
    dt, s = open_page(xss_page.as_uri(), tmp_path)
    try:
        assert not problems(dt.events), problems(dt.events)
        got = dt.send("Runtime.evaluate", {"expression": (
            "JSON.stringify({h1: document.querySelector('h1').textContent,"
            " scripts: document.scripts.length})"), "returnByValue": True}, session=s)["result"]["value"]
        got = json.loads(got)
        assert got["h1"].startswith("<script>alert(1)</script>") and got["scripts"] == 3
        assert not [e for e in dt.events if e.get("method") == "Page.javascriptDialogOpening"]
    finally:
        dt.close()
