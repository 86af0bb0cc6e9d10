"""Tills and their records. Records are never updated nor deleted: the migration installs
triggers that refuse it (APPEND_ONLY), and no code path does it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, IdType, Money, Name, Timestamp, intpk, utcnow

# The tables whose rows are records: the triggers refuse UPDATE and DELETE on them.
APPEND_ONLY = (
    "pos_ticket", "pos_ticket_line", "pos_ticket_tax", "pos_ticket_payment", "pos_closing",
    "pos_chain_link", "pos_journal", "pos_signing_key", "pos_archive",
)


def _record_of(target: str, *, nullable: bool = False) -> Mapped[int]:
    """A reference from a record: what a record names can never be deleted under it (NO
    ACTION, checked at the end of a statement, so that a test database can be emptied)."""
    return mapped_column(
        IdType, ForeignKey(target), index=True, nullable=nullable
    )


class Till(Base):
    """A point of sale of a site. Its prefix opens its tickets' numbers (T2-000123)."""

    __tablename__ = "till"
    __table_args__ = (UniqueConstraint("company_id", "prefix"),)

    id: Mapped[intpk]
    company_id: Mapped[int] = _record_of("company.id")
    site_id: Mapped[int] = _record_of("site.id")
    prefix: Mapped[str] = mapped_column(String(8))
    name: Mapped[Name]
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    # The device (pos/device.py): a pairing code valid ten minutes, then the credential the
    # device keeps; both as SHA-256 only. Revoking the till clears the credential.
    pairing_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    pairing_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    credential_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    paired_at: Mapped[datetime | None] = mapped_column(default=None)
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)  # its last request
    # An ESC/POS receipt printer on the shop's network: "host" or "host:port" (9100).
    printer: Mapped[str | None] = mapped_column(String(200), default=None)
    # The offline sync (pos/till_sync.py): when the till last sent all it held, the
    # highest n such that its records 1..n are all here, and the day (the company's
    # calendar) a supervisor declared it out of service: that day's Z does not wait for it.
    synced_at: Mapped[datetime | None] = mapped_column(default=None)
    acked_sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    out_of_service_day: Mapped[date | None] = mapped_column(Date, default=None)


class Ticket(Base):
    """A sale, or a refund, void or duplicate of one: a record of the till's chain.

    `sequence`: the till's own gap-free number (every kind takes one); `uuid`: chosen by
    the client, the idempotency key of a retry. Amounts of refunds and voids are negative.
    """

    __tablename__ = "pos_ticket"
    __table_args__ = (
        UniqueConstraint("till_id", "sequence"),
        CheckConstraint("sequence > 0", name="sequence_positive"),
        CheckConstraint("kind IN ('sale', 'refund', 'void', 'duplicate')", name="kind"),
        Index("ix_pos_ticket_reward_key", "reward_key"),
    )

    id: Mapped[intpk]
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    company_id: Mapped[int] = _record_of("company.id")
    site_id: Mapped[int] = _record_of("site.id")
    till_id: Mapped[int] = _record_of("till.id")
    sequence: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    training: Mapped[bool] = mapped_column(Boolean, default=False)
    supervisor_id: Mapped[int | None] = _record_of("staff.id", nullable=True)
    staff_id: Mapped[int] = _record_of("staff.id")
    created_at: Mapped[Timestamp]  # the server's clock, to the second
    device_at: Mapped[datetime | None] = mapped_column(default=None)  # the till's, as data
    corrects_id: Mapped[int | None] = _record_of("pos_ticket.id", nullable=True)
    duplicate_number: Mapped[int | None] = mapped_column(Integer, default=None)
    reason: Mapped[str] = mapped_column(String(200), default="")
    currency: Mapped[str] = mapped_column(String(3))
    total_incl: Mapped[Money]
    total_excl: Mapped[Money]
    total_vat: Mapped[Money]
    discount: Mapped[Money]
    # The customer identified at the till (a consumer's id, kept as data: no foreign key,
    # since a record is never updated); not part of the chained fields.
    customer_id: Mapped[int | None] = mapped_column(IdType, default=None)
    # The key the loyalty reward (or coupon) applied to this sale was taken under: one
    # reward, one ticket (pos/rewards.py `reward_taken`).
    reward_key: Mapped[str | None] = mapped_column(String(64), default=None)


class TicketLine(Base):
    __tablename__ = "pos_ticket_line"
    __table_args__ = (UniqueConstraint("ticket_id", "position"),)

    id: Mapped[intpk]
    ticket_id: Mapped[int] = _record_of("pos_ticket.id")
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(120))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Money]  # VAT included
    discount: Mapped[Money]
    vat_rate: Mapped[int] = mapped_column(Integer)  # basis points: 5.5 % is 550
    total_incl: Mapped[Money]
    total_excl: Mapped[Money]
    # On a refund or void: the position of the sold line it gives back.
    corrects_position: Mapped[int | None] = mapped_column(Integer, default=None)
    # What the line sold, as the catalog had it (none for a line of no product): for the
    # statistics, not part of the record's chained fields. No foreign key: records outlive
    # the catalog.
    product_id: Mapped[int | None] = mapped_column(IdType, default=None)
    category_id: Mapped[int | None] = mapped_column(IdType, default=None)


class TicketTax(Base):
    """A ticket's totals for one VAT rate."""

    __tablename__ = "pos_ticket_tax"

    ticket_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("pos_ticket.id"), primary_key=True
    )
    vat_rate: Mapped[int] = mapped_column(Integer, primary_key=True)
    total_excl: Mapped[Money]
    total_vat: Mapped[Money]
    total_incl: Mapped[Money]


class TicketPayment(Base):
    """How a ticket was paid (or a refund given back): `amount` counts toward the ticket;
    cash handed over is `tendered`, the rest given back is `change`."""

    __tablename__ = "pos_ticket_payment"
    __table_args__ = (
        UniqueConstraint("ticket_id", "position"),
        CheckConstraint("method IN ('cash', 'card')", name="method"),
    )

    id: Mapped[intpk]
    ticket_id: Mapped[int] = _record_of("pos_ticket.id")
    position: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(10))
    amount: Mapped[Money]
    tendered: Mapped[Money]
    change: Mapped[Money]


class ReceiptPrint(Base):
    """A ticket's receipt went to a printer once: it was the original. Any later print is a
    reprint, recorded as a duplicate ticket (pos/corrections.py). Not a record of the chain:
    a claim that a failed print gives back (pos/printing.py)."""

    __tablename__ = "pos_receipt_print"

    id: Mapped[intpk]
    company_id: Mapped[int] = mapped_column(IdType, ForeignKey("company.id"), index=True)
    ticket_id: Mapped[int] = mapped_column(IdType, ForeignKey("pos_ticket.id"), unique=True)
    staff_id: Mapped[int] = mapped_column(IdType, ForeignKey("staff.id"), index=True)
    printed_at: Mapped[Timestamp]


class SigningKey(Base):
    """A company's Ed25519 key pair; the private half sealed with SECRET_KEY."""

    __tablename__ = "pos_signing_key"

    id: Mapped[intpk]
    company_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("company.id"), unique=True
    )
    public_pem: Mapped[str] = mapped_column(Text)
    sealed_private: Mapped[str] = mapped_column(Text)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)


class Closing(Base):
    """A Z of a site: a day, a month or a year; its report as signed (canonical JSON)."""

    __tablename__ = "pos_closing"
    __table_args__ = (
        UniqueConstraint("site_id", "kind", "period_start"),
        CheckConstraint("kind IN ('day', 'month', 'year')", name="kind"),
    )

    id: Mapped[intpk]
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    company_id: Mapped[int] = _record_of("company.id")
    site_id: Mapped[int] = _record_of("site.id")
    kind: Mapped[str] = mapped_column(String(5))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)  # the last day it covers
    created_at: Mapped[Timestamp]
    staff_id: Mapped[int] = _record_of("staff.id")
    body: Mapped[str] = mapped_column(Text)  # the signed fields, canonical JSON
    key_id: Mapped[int] = _record_of("pos_signing_key.id")
    signature: Mapped[str] = mapped_column(String(100))


class ChainLink(Base):
    """A record's place in its till's chain: a ticket, or a closing of the till's site."""

    __tablename__ = "pos_chain_link"
    __table_args__ = (
        UniqueConstraint("till_id", "position"),
        UniqueConstraint("till_id", "closing_id"),
        CheckConstraint(
            "(ticket_id IS NULL) <> (closing_id IS NULL)", name="one_record"
        ),
    )

    id: Mapped[intpk]
    company_id: Mapped[int] = _record_of("company.id")
    till_id: Mapped[int] = _record_of("till.id")
    position: Mapped[int] = mapped_column(Integer)
    ticket_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("pos_ticket.id"), unique=True, nullable=True
    )
    closing_id: Mapped[int | None] = _record_of("pos_closing.id", nullable=True)
    recorded_at: Mapped[Timestamp]
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class JournalEntry(Base):
    """The technical event journal of a company, chained like the tills' records."""

    __tablename__ = "pos_journal"
    __table_args__ = (UniqueConstraint("company_id", "position"),)

    id: Mapped[intpk]
    company_id: Mapped[int] = _record_of("company.id")
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(30))
    site_id: Mapped[int | None] = _record_of("site.id", nullable=True)
    till_id: Mapped[int | None] = _record_of("till.id", nullable=True)
    staff_id: Mapped[int | None] = _record_of("staff.id", nullable=True)
    recorded_at: Mapped[Timestamp]
    detail: Mapped[str] = mapped_column(Text)  # canonical JSON
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Shift(Base):
    """A member of staff's time at work, from clocking in to clocking out (pos/shifts.py).

    Not a record: its clock-out is written once it happens. At most one shift per member of
    staff is open, which the database guarantees (a partial unique index, on SQLite as on
    PostgreSQL): two clock-ins at once make one shift. The keys are the clients' idempotency
    keys of the clock-in and clock-out that made it, so that a late retry changes nothing.
    """

    __tablename__ = "pos_shift"
    __table_args__ = (
        Index("uq_pos_shift_open", "staff_id", unique=True,
              sqlite_where=text("clocked_out_at IS NULL"),
              postgresql_where=text("clocked_out_at IS NULL")),
        UniqueConstraint("staff_id", "in_key"),
        UniqueConstraint("staff_id", "out_key"),
        CheckConstraint("clocked_out_at IS NULL OR clocked_out_at >= clocked_in_at",
                        name="out_after_in"),
        Index("ix_pos_shift_site_id_clocked_in_at", "site_id", "clocked_in_at"),
    )

    id: Mapped[intpk]
    company_id: Mapped[int] = _record_of("company.id")
    site_id: Mapped[int] = mapped_column(IdType, ForeignKey("site.id"))
    till_id: Mapped[int | None] = _record_of("till.id", nullable=True)
    staff_id: Mapped[int] = _record_of("staff.id")
    clocked_in_at: Mapped[Timestamp]
    clocked_out_at: Mapped[datetime | None] = mapped_column(default=None)
    # Who clocked out: the member of staff themself, or a manager who closed a forgotten
    # shift (with the reason, also in the audit log).
    closed_by_id: Mapped[int | None] = _record_of("staff.id", nullable=True)
    close_reason: Mapped[str] = mapped_column(String(200), default="")
    in_key: Mapped[str | None] = mapped_column(String(64), default=None)
    out_key: Mapped[str | None] = mapped_column(String(64), default=None)
class StoredArchive(Base):
    """An archive kept by Comptoir: the file pos/archive.py made for a period (the yearly
    one is made once, after the year ends, by pos/archive_sweeper.py). Never changed nor
    removed; one per company and period, whichever process makes it first."""

    __tablename__ = "pos_archive"
    __table_args__ = (UniqueConstraint("company_id", "period_start", "period_end"),)

    id: Mapped[intpk]
    company_id: Mapped[int] = _record_of("company.id")
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)  # the last day it covers
    created_at: Mapped[Timestamp]
    staff_id: Mapped[int | None] = _record_of("staff.id", nullable=True)  # None: scheduled
    name: Mapped[str] = mapped_column(String(120))  # the file's name
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class SyncedSale(Base):
    """A sale a till uploaded (pos/till_sync.py): its uuid, its number and the SHA-256 of
    its canonical content, so that the same uuid again is told a retry (same content) from
    a conflict (other content). One per uuid, and per number of a till."""

    __tablename__ = "pos_sync_sale"
    __table_args__ = (UniqueConstraint("till_id", "sequence"),)

    id: Mapped[intpk]
    company_id: Mapped[int] = _record_of("company.id")
    till_id: Mapped[int] = _record_of("till.id")
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    sequence: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[int] = _record_of("pos_ticket.id")
    received_at: Mapped[Timestamp]


class SyncIssue(Base):
    """Something a manager should look at in what a till uploaded: a sale kept at the
    price it was sold although the catalog changed (`price_changed`, `product_gone`), a
    discount above the limit without an approval that could be checked
    (`unverified_discount`), a loyalty reward's discount the customer did not take
    (`unverified_reward`), a table whose bill changed (`table_changed`), the same uuid
    with another content (`conflict`: nothing recorded), a sale refused (`refused`)."""

    __tablename__ = "pos_sync_issue"
    __table_args__ = (Index("ix_pos_sync_issue_site_id_created_at", "site_id", "created_at"),)

    id: Mapped[intpk]
    company_id: Mapped[int] = _record_of("company.id")
    site_id: Mapped[int] = mapped_column(IdType, ForeignKey("site.id"))
    till_id: Mapped[int] = _record_of("till.id")
    uuid: Mapped[str] = mapped_column(String(36))
    sequence: Mapped[int | None] = mapped_column(Integer, default=None)
    kind: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str] = mapped_column(Text)  # JSON
    ticket_id: Mapped[int | None] = _record_of("pos_ticket.id", nullable=True)
    created_at: Mapped[Timestamp]
    # A manager dealt with it (looked, corrected what needed it elsewhere): when, who, how.
    dealt_at: Mapped[datetime | None] = mapped_column(default=None)
    dealt_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("staff.id"),
                                                    default=None)
    dealt_note: Mapped[str] = mapped_column(String(200), default="")


class CloseRequest(Base):
    """When a site's Z of a day was first asked for: a till that has not synced since
    holds it back (pos/till_sync.py)."""

    __tablename__ = "pos_close_request"
    __table_args__ = (UniqueConstraint("site_id", "day"),)

    id: Mapped[intpk]
    company_id: Mapped[int] = _record_of("company.id")
    site_id: Mapped[int] = mapped_column(IdType, ForeignKey("site.id"))
    day: Mapped[date] = mapped_column(Date)
    requested_at: Mapped[Timestamp]
