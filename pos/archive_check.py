"""Checking an archive alone (pure): its manifest's signature and files, every chain, every
closing's signature, with nothing but the archive and the company's public key."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from typing import Any

from pos import chain, signing


class UnreadableArchive(ValueError):
    """Not an archive of Comptoir's records."""


def verify_archive(data: bytes, public_pem: str | None = None) -> list[str]:
    """What does not match, the first record of each chain named; empty: all is intact.

    `public_pem`: the key the company gave the auditor; without it, the archive's own
    (which proves the archive whole, not who made it)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            files = {name: archive.read(name) for name in archive.namelist()}
        records = json.loads(files["records.json"])
        manifest_bytes = files["manifest.json"]
        manifest = json.loads(manifest_bytes)
        signature = files["manifest.sig"].decode("ascii")
        pem = public_pem or files["public_key.pem"].decode("ascii")
    except (KeyError, ValueError, zipfile.BadZipFile) as error:
        raise UnreadableArchive(str(error)) from error
    found: list[str] = []
    for till in records.get("tills", []):
        found.extend(_chain(f"till {till['till']}", till, pem))
    found.extend(_chain("journal", records.get("journal", {}), pem))
    found.extend(_chains_csv(files.get("chains.csv", b""), records))
    if not signing.verify(pem, manifest_bytes, signature):
        found.append("manifest.json: its signature does not match the public key")
    for name, digest in sorted(manifest.get("files", {}).items()):
        if name not in files:
            found.append(f"{name}: missing")
        elif hashlib.sha256(files[name]).hexdigest() != digest:
            found.append(f"{name}: its SHA-256 is not the manifest's")
    if public_pem and files.get("public_key.pem", b"").decode("ascii").strip() \
            != public_pem.strip():
        found.append("public_key.pem: not the public key given")
    return found


def _chain(name: str, data: dict[str, Any], pem: str) -> list[str]:
    start = data.get("start", {})
    entries = [chain.Entry(r["position"], r["fields"], r["previous_hash"], r["hash"])
               for r in data.get("records", [])]
    broken = chain.first_break(entries, start.get("previous_hash", chain.GENESIS),
                               start.get("position", 1))
    for entry in entries[:broken.index if broken else len(entries)]:
        record = entry.fields.get("record", {})
        if isinstance(record, dict) and record.get("record") == "closing" and not \
                signing.verify(pem, chain.canonical(record["body"]), record["signature"]):
            return [f"{name}, position {entry.position} ({_label(entry)}): "
                    f"{chain.REASONS['signature']}"]
    if broken is None:
        return []
    return [f"{name}, position {broken.position} ({_label(entries[broken.index])}): "
            f"{chain.REASONS[broken.reason]}"]


def _label(entry: chain.Entry) -> str:
    record = entry.fields.get("record", entry.fields)
    if not isinstance(record, dict):
        return "?"
    if record.get("record") == "ticket":
        return f"ticket {record.get('sequence')} {record.get('uuid')}"
    if record.get("record") == "closing":
        body = record.get("body", {})
        return f"closing {body.get('kind')} {body.get('period_start')}"
    return f"journal entry {entry.position}"


def _chains_csv(data: bytes, records: dict[str, Any]) -> list[str]:
    listed = {(row["chain"], int(row["position"])): (row["previous_hash"], row["hash"])
              for row in csv.DictReader(io.StringIO(data.decode("utf-8")))}
    held = {(f"till {t['till']}", r["position"]): (r["previous_hash"], r["hash"])
            for t in records.get("tills", []) for r in t["records"]}
    held.update({("journal", r["position"]): (r["previous_hash"], r["hash"])
                 for r in records.get("journal", {}).get("records", [])})
    if listed != held:
        return ["chains.csv: its hashes are not those of records.json"]
    return []
