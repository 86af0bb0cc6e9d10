"""Cuts made once: the publishing process makes the cuts hubs announced, ships them with
the event, and no hub renders them again; a cut that did not come made is made by the hub
that needs it, which announces it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from realtime import cuts
from realtime.bus import MemoryBus, make_bus
from realtime.cuts import CUTS_TOPIC, KEEP_S, MAX_CUTS, Wanted, made_ahead, split
from realtime.events import Event, publish
from realtime.hub import Connection, Hub
from realtime.topics import Viewer
from tests.realtime.test_hub import TOPIC, counting, drain

GUEST_FR = Viewer(device_key="d1", locale="fr")
GUEST_EN = Viewer(device_key="d2", locale="en")


def counting_event(version: int) -> Event:
    view = {"items": ["x"] * version, "secret": "pin", "version": version}
    return Event(TOPIC, version, "item.added", {"change": {"item": "x"}, "view": view})


def test_a_cut_is_wanted_once_announced_and_forgotten_once_nobody_renews_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1000.0]
    monkeypatch.setattr(cuts.time, "monotonic", lambda: now[0])
    wanted = Wanted()
    assert wanted.of("counting") == []
    wanted.heard("counting|public|fr|html")
    wanted.heard("counting|public|fr|html")  # told twice: one cut
    wanted.heard("counting|full||json")
    assert sorted(wanted.of("counting")) == [("full", "", "json"), ("public", "fr", "html")]
    assert wanted.of("table") == []
    now[0] += KEEP_S / 2
    wanted.heard("counting|full||json")  # renewed
    now[0] += KEEP_S / 2 + 1
    assert wanted.of("counting") == [("full", "", "json")]


@pytest.mark.parametrize("text", ["", "counting", "counting|a|fr", "counting|a|fr|xml",
                                  "|a|fr|html", "counting|a|fr|html|x"])
def test_a_malformed_announcement_is_ignored(text: str) -> None:
    wanted = Wanted()
    wanted.heard(text)
    assert wanted.of("counting") == []


def test_the_cuts_of_a_kind_are_bounded() -> None:
    wanted = Wanted()
    for n in range(MAX_CUTS + 10):
        wanted.heard(f"counting|only:{n}|fr|html")
    assert len(wanted.of("counting")) == MAX_CUTS


def test_an_event_ships_the_wanted_cuts_made_from_its_json_text() -> None:
    kind = counting()
    wanted = Wanted()
    payload = counting_event(3).to_json()
    assert made_ahead(wanted, TOPIC, payload) == payload  # nothing wanted: the text alone
    for cut in ("public|fr|html", "public|en|html", "public||json", "full||json"):
        wanted.heard("counting|" + cut)
    shipped = made_ahead(wanted, TOPIC, payload)
    text, made = split(shipped)
    assert text == payload
    assert sorted(made) == [("public", "", "json"), ("public", "en", "html"),
                            ("public", "fr", "html")]
    assert json.loads(made[("public", "fr", "html")])["html"] == {"box": "public/fr/v3"}
    assert json.loads(made[("public", "", "json")])["data"]["view"] == {"items": 3, "version": 3}
    assert "change" not in json.dumps(json.loads(made[("public", "", "json")])["data"]["view"])
    assert kind.renders == {("public", "fr"): 1, ("public", "en"): 1}
    # Another kind of topic wants nothing of these.
    other = Event("menu:1", 1, "menu.changed", {"change": {}, "view": {"version": 1}})
    assert made_ahead(wanted, "menu:1", other.to_json()) == other.to_json()


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_two_processes_render_a_change_once_at_publish_and_never_again() -> None:
    """Two hubs on one bus stand for two server processes; the test publishes as a third
    would, through the same bus."""
    kind = counting()
    bus = MemoryBus()
    first, second = Hub(), Hub()
    runs = [asyncio.create_task(hub.run(bus)) for hub in (first, second)]
    await _settle()
    conns = []
    for hub, viewer in ((first, GUEST_FR), (second, GUEST_FR), (second, GUEST_EN)):
        conn = Connection(viewer, "html", 16)
        hub.add(conn)
        hub.watch(conn, TOPIC)
        conn.versions[TOPIC] = 0
        conns.append(conn)
    try:
        # Nothing announced yet: each process makes what its sockets need, and says so.
        await publish(bus, [counting_event(1)])
        await _settle()
        assert kind.renders == {("public", "fr"): 2, ("public", "en"): 1}
        assert sorted(bus.wanted.of("counting")) == [("public", "en", "html"),
                                                     ("public", "fr", "html")]
        kind.renders.clear()
        # From then on the publisher makes each cut once, and no hub renders.
        await publish(bus, [counting_event(2)])
        await _settle()
        assert kind.renders == {("public", "fr"): 1, ("public", "en"): 1}
        texts = [drain(conn) for conn in conns]
        assert [json.loads(t[-1])["html"] for t in texts] == [
            {"box": "public/fr/v2"}, {"box": "public/fr/v2"}, {"box": "public/en/v2"}]
        assert texts[0][-1] == texts[1][-1]
    finally:
        for run in runs:
            run.cancel()
        await asyncio.gather(*runs, return_exceptions=True)


async def test_a_cut_that_did_not_come_made_is_made_by_the_hub() -> None:
    """A publisher that has not heard of a cut (just started; the announcement lost) costs
    a render in the hub, never a message."""
    kind = counting()
    hub = Hub()
    conn = Connection(GUEST_FR, "html", 16)
    hub.add(conn)
    hub.watch(conn, TOPIC)
    conn.versions[TOPIC] = 0
    elsewhere = Wanted()
    elsewhere.heard("counting|public|en|html")  # a publisher that made another cut only
    hub.dispatch(TOPIC, made_ahead(elsewhere, TOPIC, counting_event(1).to_json()))
    assert [json.loads(t)["html"] for t in drain(conn)] == [{"box": "public/fr/v1"}]
    assert kind.renders == {("public", "en"): 1, ("public", "fr"): 1}


async def test_announcements_and_cuts_travel_between_processes(bus_url: str | None) -> None:
    """On Redis, the publisher and the hub are two processes' buses."""
    kind = counting()
    publisher = make_bus(bus_url)
    listener = make_bus(bus_url) if bus_url else publisher
    hub = Hub()
    run = asyncio.create_task(hub.run(listener))
    hearing = asyncio.create_task(_hear(publisher) if bus_url else asyncio.sleep(3600))
    conn = Connection(GUEST_FR, "html", 16)
    hub.add(conn)
    hub.watch(conn, TOPIC)
    conn.versions[TOPIC] = 0
    try:
        await asyncio.sleep(0.3)  # both subscribed
        await publish(publisher, [counting_event(1)])
        for _ in range(100):
            if publisher.wanted.of("counting"):
                break
            await asyncio.sleep(0.02)
        assert publisher.wanted.of("counting") == [("public", "fr", "html")]
        kind.renders.clear()
        await publish(publisher, [counting_event(2)])
        for _ in range(100):
            if conn.versions[TOPIC] == 2:
                break
            await asyncio.sleep(0.02)
        assert [json.loads(t)["html"] for t in drain(conn)][-1] == {"box": "public/fr/v2"}
        assert kind.renders == {("public", "fr"): 1}  # at publish, not in the hub
    finally:
        for task in (run, hearing):
            task.cancel()
        await asyncio.gather(run, hearing, return_exceptions=True)
        await publisher.close()
        if listener is not publisher:
            await listener.close()


async def _hear(bus: Any) -> None:
    """A publishing process's own hub, as far as announcements go."""
    async with bus.listen() as messages:
        async for message in messages:
            if message.topic == CUTS_TOPIC:
                bus.wanted.heard(message.payload)
