"""Cuts: a message as one kind of screen receives it, made once for every process.

A cut is (audience, locale, format): who may see what of the view, in which language, as
JSON or as HTML fragments. The process that publishes a change makes the cuts screens
watched lately and ships them through the bus beside the event, so that no process
holding sockets renders the change again (docs/realtime.md, "Cuts made once").

Which cuts are wanted is learnt from the hubs: a hub that had to make a cut itself, and
every hub now and then for the cuts it uses, announces them on the bus (`CUTS_TOPIC`);
every process hears every announcement and keeps it for a while. It is a hint and nothing
more: a cut that was not shipped is made by the hub that needs it, as before, so a lost or
late announcement costs a render, never a message.
"""

from __future__ import annotations

import json
import time
from typing import Any

from realtime.topics import TopicKind, parse

# Not a topic (it has no kind): the hub hears it, no socket ever does.
CUTS_TOPIC = "_cuts"
RENEW_S = 60.0  # a hub announces each cut it uses at most this often
KEEP_S = 5 * RENEW_S  # a cut nobody announced for this long is no longer made ahead
MAX_CUTS = 64  # per kind of topic: announcements are hints, their number is bounded

Cut = tuple[str, str, str]  # audience, locale ("" for JSON), format


def cut_key(cut: Cut) -> str:
    """A cut as the bus message names it."""
    return "|".join(cut)


def frame(
    kind: TopicKind,
    message: dict[str, Any],
    view: dict[str, Any],
    change: dict[str, Any] | None,
    audience: str,
    locale: str,
    fmt: str,
) -> str:
    """A snapshot or an event as one cut (audience, locale, format) needs it."""
    out: dict[str, Any] = {
        k: message[k] for k in ("type", "topic", "version", "event", "request_id") if k in message
    }
    if audience != "full":
        change = None  # what happened, and who did it, is for members and staff only
    if fmt == "html":
        out.update(kind.render(view, message.get("event"), change, audience, locale))
    else:
        shown = kind.present(view, audience)
        out["data"] = {"change": change, "view": shown} if message["type"] == "event" else shown
    return json.dumps(out, separators=(",", ":"), default=str)


class Wanted:
    """The cuts of each kind of topic that screens watched lately, as announced."""

    def __init__(self) -> None:
        self._cuts: dict[str, dict[Cut, float]] = {}  # kind -> cut -> last announced

    def heard(self, payload: str) -> None:
        """An announcement from a hub (this process's or another's): "kind|audience|locale|
        format". A malformed one is ignored."""
        parts = payload.split("|")
        if len(parts) != 4 or parts[3] not in ("json", "html") or not parts[0]:
            return
        kind, cut = parts[0], (parts[1], parts[2], parts[3])
        cuts = self._cuts.setdefault(kind, {})
        if cut in cuts or len(cuts) < MAX_CUTS:
            cuts[cut] = time.monotonic()

    def of(self, kind: str) -> list[Cut]:
        """The cuts to make ahead for a topic of this kind."""
        cuts = self._cuts.get(kind)
        if not cuts:
            return []
        now = time.monotonic()
        stale = [cut for cut, at in cuts.items() if now - at > KEEP_S]
        for cut in stale:
            del cuts[cut]
        return list(cuts)


def announcement(kind: str, cut: Cut) -> str:
    return f"{kind}|{cut_key(cut)}"


def made_ahead(wanted: Wanted, topic: str, payload: str) -> str:
    """The bus message for an event's JSON text: the text itself, then, after a newline
    (JSON text never holds a raw one), the cuts wanted for its kind of topic, made now
    from the text as every hub reads it (a view's dates and amounts as JSON has them)."""
    parsed = parse(topic)
    cuts = wanted.of(topic.partition(":")[0]) if parsed is not None else []
    if parsed is None or not cuts:
        return payload
    kind, _ = parsed
    message = json.loads(payload)
    data = message["data"]
    made = {
        cut_key(cut): frame(kind, message, data["view"], data.get("change"), *cut)
        for cut in cuts
        if cut != ("full", "", "json")  # the event's own text
    }
    if not made:
        return payload
    return payload + "\n" + json.dumps(made, separators=(",", ":"))


def split(payload: str) -> tuple[str, dict[Cut, str]]:
    """A bus message: the event's text, and the cuts made ahead."""
    head, newline, tail = payload.partition("\n")
    if not newline:
        return payload, {}
    try:
        made = json.loads(tail)
    except ValueError:
        return head, {}
    if not isinstance(made, dict):
        return head, {}
    cuts: dict[Cut, str] = {}
    for key, text in made.items():
        parts = key.split("|")
        if len(parts) == 3 and isinstance(text, str):
            cuts[(parts[0], parts[1], parts[2])] = text
    return head, cuts
