"""An archive of a company's records over a period: a zip that an auditor checks alone.

    README.txt        how to verify, step by step
    records.json      every chained record of the period, with the fields its hash covers
    records.csv       the tickets' lines, one a row, for reading
    chains.csv        each chain's positions and hashes
    signatures.json   the closings' signed bodies and signatures
    public_key.pem    the company's Ed25519 public key
    manifest.json     the company, the period, and each file's SHA-256
    manifest.sig      the manifest's Ed25519 signature (base64)

Comptoir never purges records; archives are copies, made as often as wanted.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from payments.secret_box import SecretBox
from pos import chain, clock, keys
from pos.journal import JournalKind, stamp, write
from pos.loading import journal_chain, till_chain
from pos.models import Till
from pos.periods import bounds, zone_of
from realtime.events import Tx

FORMAT = "comptoir-records-1"
README = """Comptoir records archive ({format})
Company {company_id}, from {first} to {last} (the company's calendar), made {made}.

Nothing here needs Comptoir to be checked. To verify it:

1. The public key. public_key.pem is the company's Ed25519 public key. Compare it with
   the one the company exported to you (or check with `comptoir verify-records --archive
   FILE --public-key YOUR_COPY.pem`, which uses only the archive and that key).
2. The manifest. manifest.sig is the base64 Ed25519 signature of the bytes of
   manifest.json; manifest.json lists the SHA-256 of every other file.
3. The chains. records.json holds, per till ("tills") and for the technical journal
   ("journal"), the records in position order. Each record's hash is
       SHA-256( previous_hash as 64 ASCII hexadecimal characters
                + canonical JSON of its "fields" )
   where canonical JSON has keys sorted, no spaces (separators "," and ":"), UTF-8 text
   unescaped, and integers only (money in cents, VAT rates in basis points: 5.5 % is
   550). The first record of a chain follows 64 zeros; an archive's first record of a
   chain follows the "start" hash given (the last hash of the previous archive). Each
   record's previous_hash must be the hash of the one before it, positions follow each
   other without a gap, and chains.csv repeats the positions and hashes.
4. The closings. A closing's "fields" hold its signed "body" and "signature": the
   signature is the Ed25519 signature of the canonical JSON of the body, by the key of
   step 1. A closing's body also names the last hash of each till's chain when it was
   made ("chains"), and its totals ("report", "grand_total").
5. VAT. A ticket's lines add up to its total including VAT; per rate, the amount
   excluding VAT is the rate's total including VAT x 10000 / (10000 + rate), rounded half
   away from zero to the cent, and the VAT the rest.

A few lines of Python do it (hashlib, json and the `cryptography` package):

    import hashlib, json
    def canonical(f): return json.dumps(f, sort_keys=True, separators=(",", ":"),
                                        ensure_ascii=False).encode()
    previous = chain["start"]["previous_hash"]
    for record in chain["records"]:
        assert record["previous_hash"] == previous
        previous = hashlib.sha256(previous.encode() + canonical(record["fields"])).hexdigest()
        assert previous == record["hash"]
"""


@dataclass(frozen=True)
class Archive:
    name: str
    data: bytes


def _chain_json(start_position: int, start_hash: str, entries: list[chain.Entry]
                ) -> dict[str, Any]:
    return {
        "start": {"position": start_position, "previous_hash": start_hash},
        "records": [{"position": e.position, "previous_hash": e.previous_hash,
                     "hash": e.hash, "fields": e.fields} for e in entries],
    }


async def make_archive(
    tx: Tx, box: SecretBox, company_id: int, first: date, last: date, staff_id: int | None,
) -> Archive:
    """The archive of the company's records from `first` to `last` (its calendar),
    signed with its key; the journal notes that it was made."""
    zone = await zone_of(tx.session, company_id)
    start, end = bounds(first, last, zone)
    session = tx.session
    tills = (await session.scalars(
        select(Till).where(Till.company_id == company_id).order_by(Till.id))).all()
    records: dict[str, Any] = {"format": FORMAT, "company_id": company_id,
                               "period": [first.isoformat(), last.isoformat()], "tills": []}
    chains_csv = io.StringIO()
    chains = csv.writer(chains_csv, lineterminator="\n")
    chains.writerow(["chain", "position", "previous_hash", "hash"])
    lines_csv = io.StringIO()
    lines = csv.writer(lines_csv, lineterminator="\n")
    lines.writerow(["till", "number", "kind", "at", "training", "corrects", "duplicate",
                    "line", "label", "quantity", "unit_price", "discount", "vat_rate",
                    "total_incl", "total_excl", "ticket_total_incl", "hash"])
    signatures: list[dict[str, Any]] = []
    for till in tills:
        chained = await till_chain(session, till.id, start=start, end=end)
        entries = [item.entry for item in chained]
        first_entry = entries[0] if entries else None
        records["tills"].append({
            "till_id": till.id, "till": till.prefix, "site_id": till.site_id,
            **_chain_json(first_entry.position if first_entry else 1,
                          first_entry.previous_hash if first_entry else chain.GENESIS, entries),
        })
        for item in chained:
            entry = item.entry
            chains.writerow([f"till {till.prefix}", entry.position, entry.previous_hash,
                             entry.hash])
            if item.ticket is not None:
                _ticket_rows(lines, till.prefix, entry)
            if item.closing is not None:
                signatures.append({"closing": item.closing.uuid, "kind": item.closing.kind,
                                   "till": till.prefix, "body": item.closing.body,
                                   "signature": item.closing.signature})
    journal = await journal_chain(session, company_id, start=start, end=end)
    records["journal"] = _chain_json(journal[0].position if journal else 1,
                                     journal[0].previous_hash if journal else chain.GENESIS,
                                     journal)
    for entry in journal:
        chains.writerow(["journal", entry.position, entry.previous_hash, entry.hash])
    key = await keys.company_key(tx, box, company_id)
    made = stamp(clock.now())
    files = {
        "README.txt": README.format(format=FORMAT, company_id=company_id, first=first,
                                    last=last, made=made).encode("utf-8"),
        "records.json": json.dumps(records, ensure_ascii=False, indent=1,
                                   sort_keys=True).encode("utf-8"),
        "records.csv": lines_csv.getvalue().encode("utf-8"),
        "chains.csv": chains_csv.getvalue().encode("utf-8"),
        "signatures.json": json.dumps(signatures, indent=1).encode("utf-8"),
        "public_key.pem": key.public_pem.encode("ascii"),
    }
    manifest = json.dumps({
        "format": FORMAT, "company_id": company_id,
        "period": [first.isoformat(), last.isoformat()], "made_at": made,
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
    }, indent=1, sort_keys=True).encode("utf-8")
    files["manifest.json"] = manifest
    files["manifest.sig"] = keys.sign(box, key, manifest).encode("ascii")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    await write(tx, company_id, JournalKind.ARCHIVE_MADE,
                {"period": [first.isoformat(), last.isoformat()],
                 "manifest_sha256": hashlib.sha256(manifest).hexdigest()},
                staff_id=staff_id)
    return Archive(f"comptoir-records-{company_id}-{first}-{last}.zip", buffer.getvalue())


def _ticket_rows(lines: Any, prefix: str, entry: chain.Entry) -> None:
    record = entry.fields["record"]
    head = [prefix, f"{prefix}-{record['sequence']:06d}", record["kind"], record["at"],
            record["training"], record["corrects"] or "", record["duplicate_number"] or ""]
    tail = [record["total_incl"], entry.hash]
    if not record["lines"]:
        lines.writerow([*head, "", "", "", "", "", "", "", "", *tail])
    for line in record["lines"]:
        lines.writerow([*head, line["position"], line["label"], line["quantity"],
                        line["unit_price"], line["discount"], line["vat_rate"],
                        line["total_incl"], line["total_excl"], *tail])
