"""A device that stops serving says goodbye on the LAN: browsers drop it at once.

Two processes in their own network namespaces (harness/netns.py; nothing reaches the machine's
interfaces): one advertises like `fieldapp serve --interface ADDR` (`sync.discovery.Advertiser`)
and then stops as `SyncServer.close` does; the other browses like the sync screen
(`sync.discovery.PeerBrowser`). Without the goodbye packets (a TTL-0 answer) the browser would
keep the dead instance until its record expires (75 minutes for zeroconf's default TTL).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness.netns import Running, namespaces, skip_unless_available

pytestmark = [pytest.mark.timeout(90)]

SERVICE = "_fieldapp-test._tcp.local."

BROWSE = """
import asyncio, json, sys
from sync.discovery import PeerBrowser

async def main():
    browser = PeerBrowser({service!r}, {address!r}, lambda props: props.get("id") == "GOODBYE")
    await browser.start()
    print(json.dumps({{"event": "browsing"}}), flush=True)
    seen = False
    try:
        while True:
            await asyncio.wait_for(browser.changed.wait(), 60)
            browser.changed.clear()
            if browser.peers and not seen:
                seen = True
                print(json.dumps({{"event": "added"}}), flush=True)
            elif seen and not browser.peers:
                print(json.dumps({{"event": "removed"}}), flush=True)
                return
    finally:
        await browser.close()

asyncio.run(main())
"""

ADVERTISE = """
import asyncio, json, os
from sync.discovery import Advertiser

async def main():
    advertiser = Advertiser({service!r}, {address!r})
    await advertiser.publish("fieldapp", 7777, {{"id": "GOODBYE", "v": "1"}})
    print(json.dumps({{"event": "published"}}), flush=True)
    while not os.path.exists({stop!r}):
        await asyncio.sleep(0.05)
    await advertiser.withdraw()
    await advertiser.close()
    print(json.dumps({{"event": "closed"}}), flush=True)

asyncio.run(main())
"""


def test_a_stopped_advertisement_is_removed_from_a_browser_by_its_goodbye(tmp_path: Path) -> None:
    skip_unless_available()
    with namespaces(2) as (watcher, server):
        browser = Running(
            watcher.command([sys.executable, "-c", BROWSE.format(service=SERVICE, address=watcher.address)])
        )
        try:
            assert browser.json_line(30)["event"] == "browsing"
            advertiser = Running(
                server.command(
                    [
                        sys.executable,
                        "-c",
                        ADVERTISE.format(
                            service=SERVICE, address=server.address, stop=str(tmp_path / "stop")
                        ),
                    ]
                )
            )
            try:
                assert advertiser.json_line(30)["event"] == "published"
                assert browser.json_line(30)["event"] == "added"
                (tmp_path / "stop").touch()
                assert advertiser.json_line(30)["event"] == "closed"
                # The goodbye arrives within a second or so; the record's own TTL would be 75 min.
                assert browser.json_line(20)["event"] == "removed"
            finally:
                advertiser.stop()
        finally:
            browser.stop()
