"""Imports every model so that Base.metadata knows every table (for Alembic)."""

from __future__ import annotations

import accounts.models  # noqa: F401
import backoffice.models  # noqa: F401
import customers.models  # noqa: F401
import domain.models  # noqa: F401
import loyalty.models  # noqa: F401
import machines.models  # noqa: F401
import ordering.models  # noqa: F401
import payments.models  # noqa: F401
import pos.models  # noqa: F401
import realtime.models  # noqa: F401
import web.models  # noqa: F401
