"""What the API document says of the ordering routes as a whole: their tag and the path
parameters they share."""

from __future__ import annotations

from api.endpoint import Param, Tag

DINERS = Tag("diners", "Phones at the table: identified by the cookie's device id.")

TOKEN = Param("Token", "token", "The table's token, as in its QR code (/t/{token}).",
              {"type": "string", "minLength": 1, "maxLength": 64})
LINE_ID = Param("LineId", "line_id",
                "A cart line's `id` (from the add response or the table view).")
SITE_ID = Param("SiteId", "site_id", "A site's id.")
ROUND_ID = Param("RoundId", "round_id", "A round's id (from the POS queue or the table view).")
TICKET_ID = Param("TicketId", "ticket_id", "A production ticket's id (from a station view).")
TABLE_ID = Param("TableId", "table_id", "A table's id (from the POS view).")
PRODUCT_ID = Param("ProductId", "product_id", "A product's id (from the menu).")
STATION = Param("Station", "station", "A production station's name, e.g. `bar` or `kitchen`.",
                {"type": "string", "minLength": 1, "maxLength": 40})
PAYMENT_ID = Param("PaymentId", "payment_id",
                   "A table payment's id (from the table view's `session.payment`).")
