"""The back office's own tables, read side: figures rolled up from the rooms' domain events
(it never reads their tables) and each manager's dashboard widgets."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, IdType, Timestamp, foreign_key, intpk, utcnow


class StatRollup(Base):
    """One measure of one site over one bucket of local time, optionally for one dimension.

    `grain` is "hour", "day" or "month"; `bucket` the bucket's start in the company's local
    time ("2026-10-25T02", "2026-10-25", "2026-10"); or "wh", a month's totals by weekday and
    hour ("2026-10/7/14"), for the busiest days and hours. `dim_kind` is "" for the site's total,
    else what `dim_id` names ("method" ids are the `Method` enum's index, "product",
    "category", "machine", "consumer", "group", "selection", "station"). Values only ever grow
    by increments from events (backoffice/facts.py), and a rebuild replays the events.
    """

    __tablename__ = "stat_rollup"

    company_id: Mapped[int] = mapped_column(IdType, primary_key=True)
    grain: Mapped[str] = mapped_column(String(5), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(13), primary_key=True)
    site_id: Mapped[int] = mapped_column(IdType, primary_key=True)
    measure: Mapped[str] = mapped_column(String(16), primary_key=True)
    dim_kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    dim_id: Mapped[int] = mapped_column(IdType, primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    quantity: Mapped[int] = mapped_column(BigInteger, default=0)
    amount: Mapped[int] = mapped_column(BigInteger, default=0)  # minor units
    seconds: Mapped[int] = mapped_column(BigInteger, default=0)  # durations summed

    __table_args__ = (
        # Covering on PostgreSQL: a year's figures by consumer read the index alone (an
        # index-only scan) instead of fetching rows scattered over the table by the events.
        Index("ix_stat_rollup_lookup", "company_id", "measure", "dim_kind", "grain", "bucket",
              postgresql_include=["site_id", "dim_id", "count", "quantity", "amount",
                                  "seconds"]),
    )


class DashboardWidget(Base):
    """One widget of one member's dashboard: what it measures, over which period, shown how."""

    __tablename__ = "dashboard_widget"

    id: Mapped[intpk]
    company_id: Mapped[int] = foreign_key("company.id")
    staff_id: Mapped[int] = foreign_key("staff.id", ondelete="CASCADE")
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(80))
    subtitle: Mapped[str] = mapped_column(String(120), default="")
    measure: Mapped[str] = mapped_column(String(24))
    # {"sites": [ids], "machines": [ids], "categories": [ids]}; empty lists mean all.
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    period: Mapped[str] = mapped_column(String(12), default="today")
    range_start: Mapped[str | None] = mapped_column(String(10))  # ISO dates, "range" only
    range_end: Mapped[str | None] = mapped_column(String(10))
    compare: Mapped[bool] = mapped_column(default=True)
    values: Mapped[str] = mapped_column(String(10), default="absolute")  # percent, both
    chart: Mapped[str] = mapped_column(String(8), default="number")  # bar, line
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
