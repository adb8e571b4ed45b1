"""Loads a page in headless Chromium, driven over the DevTools protocol on
a pipe, and prints what the page writes into its #report element once it
has (the gallery page reports when every image is in). On a timeout, or
with --screenshot always, it saves a screenshot of the page.

    python browser.py URL [--scale N] [--screenshot PNG] [--seconds S]

Run by Tests/EndToEndTests/DjangoBrowserTests.swift."""

import argparse
import base64
import fcntl
import json
import os
import subprocess
import sys
import tempfile
import time


class Browser:
    """Chromium with --remote-debugging-pipe: it reads commands on fd 3 and
    writes answers and events on fd 4, each a JSON object ended by NUL."""

    def __init__(self, scale, profile):
        # Chromium's ends, moved above 10 so that bash can put them on 3 and 4 in any order.
        to_browser, self.commands = os.pipe()
        self.answers, from_browser = os.pipe()
        ends = [fcntl.fcntl(end, fcntl.F_DUPFD, 10) for end in (to_browser, from_browser)]
        for end in (to_browser, from_browser):
            os.close(end)
        self.process = subprocess.Popen(
            [
                "/bin/bash", "-c", 'exec "$0" "$@" 3<&%d 4>&%d' % tuple(ends), "/usr/bin/chromium", "--headless",
                "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe", "--user-data-dir=" + profile,
                "--window-size=1000,1800", "--force-device-scale-factor=%d" % scale, "about:blank",
            ],
            pass_fds=ends, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        for end in ends:
            os.close(end)
        self.buffer, self.next_id, self.session = b"", 0, None

    def call(self, method, deadline, **params):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        os.write(self.commands, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self.buffer:
                if time.monotonic() > deadline:
                    raise TimeoutError(method)
                chunk = os.read(self.answers, 65536)
                if not chunk:
                    raise EOFError("chromium closed its pipe")
                self.buffer += chunk
            line, self.buffer = self.buffer.split(b"\0", 1)
            answer = json.loads(line)
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise RuntimeError("%s: %s" % (method, answer["error"]))
                return answer["result"]

    def open(self, url, deadline):
        target = self.call("Target.createTarget", deadline, url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", deadline, targetId=target, flatten=True)["sessionId"]
        self.call("Page.navigate", deadline, url=url)

    def report(self, deadline):
        """The #report element's text, once the page has written it."""
        expression = "(document.getElementById('report') || {}).textContent || ''"
        while time.monotonic() < deadline:
            text = self.call("Runtime.evaluate", deadline, expression=expression)["result"].get("value", "")
            if text:
                return text
            time.sleep(0.1)
        raise TimeoutError("the page wrote no report")

    def screenshot(self, path, deadline):
        data = self.call("Page.captureScreenshot", deadline, format="png")["data"]
        with open(path, "wb") as png:
            png.write(base64.b64decode(data))

    def close(self):
        self.process.kill()
        self.process.wait(10)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--screenshot")
    parser.add_argument("--seconds", type=float, default=60)
    arguments = parser.parse_args()
    deadline = time.monotonic() + arguments.seconds
    with tempfile.TemporaryDirectory() as profile:
        browser = Browser(arguments.scale, profile)
        try:
            browser.open(arguments.url, deadline)
            try:
                print(browser.report(deadline))
            except TimeoutError:
                if arguments.screenshot:
                    browser.screenshot(arguments.screenshot, time.monotonic() + 10)
                raise
            if arguments.screenshot:
                browser.screenshot(arguments.screenshot, deadline)
        finally:
            browser.close()


if __name__ == "__main__":
    sys.exit(main())
