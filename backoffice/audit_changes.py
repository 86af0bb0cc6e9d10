"""An audit entry's changes as an administrator reads them: each field by its name in the
reader's language, amounts as money, VAT rates as percentages, yes and no, a role's
before and after side by side; never a code or a raw structure."""

from __future__ import annotations

from typing import Any

from accounts.sections import LABELS
from errors import N_
from ordering.menu_rules import format_vat
from web.i18n import gettext, money, typed_decimal

# What each recorded field is called; a field not listed shows as recorded.
FIELDS = {
    "name": N_("Name"), "email": N_("Email"), "site": N_("Site"), "site_id": N_("Site"),
    "label": N_("Label"), "till": N_("Till"), "role": N_("Role"), "reason": N_("Reason"),
    "model": N_("Model"), "mode": N_("Mode"), "ticket": N_("Ticket"),
    "table_mode": N_("Ordering mode"), "serial": N_("Serial number"), "price": N_("Price"),
    "limit_percent": N_("Limit, in percent"), "group": N_("Group"), "group_id": N_("Group"),
    "discount": N_("Discount"), "of": N_("On an amount of"), "created": N_("Created"),
    "changed": N_("Changed"), "approved_by": N_("Approved by"), "acted_by": N_("Done by"),
    "topup_amounts": N_("Top-up amounts"), "staff": N_("Staff member"),
    "staff_id": N_("Staff member"), "sites": N_("Sites"), "all_sites": N_("Every site"),
    "sections": N_("Sections"), "all_sections": N_("Every section"),
    "settled": N_("Settled"), "session": N_("Table session"), "room": N_("Room"),
    "restored": N_("Brought back"), "products": N_("Products"), "product_id": N_("Product"),
    "printer": N_("Printer"), "prefix": N_("Prefix"), "period": N_("Period"),
    "number": N_("Number"), "note": N_("Note"), "line": N_("Line"), "kind": N_("Kind"),
    "imported": N_("Imported"), "groups": N_("Groups"), "file": N_("File"), "day": N_("Day"),
    "counted_cash": N_("Cash counted"), "corrects": N_("Corrects ticket"),
    "clocked_in_at": N_("Clocked in at"), "clocked_out_at": N_("Clocked out at"),
    "address": N_("Address"), "opening_hours": N_("Opening hours"),
    "ticket_amber_min": N_("Amber after (minutes)"), "ticket_red_min": N_("Red after (minutes)"),
    "discount_limit_percent": N_("Discount a cashier gives alone, in percent"),
    "offline_warn_hours": N_("Warn after offline (hours)"), "currency": N_("Currency"),
    "timezone": N_("Time zone"), "locale": N_("Language"), "launch_on": N_("Launch date"),
    "recharge_every": N_("Recharge every"), "recharge_at": N_("Recharge at"),
    "recharge_amount": N_("Recharge amount"), "category_id": N_("Category"),
    "description": N_("Description"), "vat_rate": N_("VAT rate"),
    "vat_rate_takeaway": N_("VAT rate to take away"), "allergens": N_("Allergens"),
    "station": N_("Production station"), "available": N_("Available"),
    "reference": N_("Reference"), "archived": N_("Archived"), "type": N_("Type"),
    "recipe": N_("Recipe"), "enabled": N_("Offered"), "provider": N_("Payment provider"),
    # Loyalty's rules and rewards (backoffice/loyalty_forms.py records them).
    "programme": N_("Loyalty programme on"), "points_per_visit": N_("Points per visit"),
    "points_per_unit": N_("Points per euro spent"),
    "cap_per_visit": N_("Most points a visit earns"),
    "min_delay_minutes": N_("Minutes between two visits that earn"),
    "contactless_may_redeem": N_("A customer with no e-mail or phone may take a reward"),
    "referrer_points": N_("Points for bringing a new customer"),
    "referred_points": N_("Points for the new customer brought"),
    "profile_points": N_("Points for a completed profile"),
    "ask_phone": N_("Sign-up asks the phone"), "ask_birthday": N_("Sign-up asks the birthday"),
    "ask_postcode": N_("Sign-up asks the postcode"),
    "cost_points": N_("Cost in points"), "venue_cost": N_("What it costs the venue"),
    "effect": N_("What it does"), "amount": N_("Amount"), "percent": N_("Percentage off"),
    "product_name": N_("Product given"),
    "trigger": N_("Coupon given"), "every": N_("Every (visits or days)"),
    "reward": N_("Reward"), "valid_days": N_("Valid for (days)"), "active": N_("On"),
    "copy_of": N_("Copy of trigger no."),
    "phone": N_("Phone"), "birthday": N_("Birthday"), "postcode": N_("Postcode"),
    "email_consent": N_("Offers by e-mail"), "sms_consent": N_("Offers by SMS"),
    "points": N_("Points"), "spent": N_("Spent"), "entries": N_("Points entries"),
    "coupons": N_("Coupons"),
    # SMS settings and blocked sends (loyalty/sms_settings.py, backoffice/sms_pages.py).
    "sms_provider": N_("SMS provider"), "sms_sender": N_("SMS sender name"),
    "stop_mention": N_("STOP line"), "holiday_subdivision": N_("Regional holidays"),
    "sms_api_key_replaced": N_("SMS API key replaced"),
    "sms_requeued": N_("Blocked SMS queued again"), "sms_campaign": N_("Campaign no."),
    "sms_report_url_renewed": N_("Delivery reports URL renewed"),
    # Campaigns (loyalty/campaigns.py, campaign_send.py record them).
    "campaign": N_("Campaign"), "channel": N_("Channel"), "status": N_("State"),
    "subject": N_("Subject"), "segment": N_("Segment no."), "blocks": N_("E-mail blocks"),
    "send_at": N_("Send on (UTC)"), "recipients": N_("Recipients"),
    "copy_of_campaign": N_("Copy of campaign no."),
    "sent_when": N_("Sent"),  # an automatic send's trigger (loyalty/automatic.py)
    # Segments (loyalty/segment_admin.py records them).
    "definition": N_("Criteria"), "match": N_("Customers who match"),
    "criteria": N_("Criteria"), "start": N_("From"), "end": N_("To"), "days": N_("Days"),
    "months": N_("Over the last months"), "at_least": N_("At least"),
    "at_most": N_("At most"), "when": N_("Last visit"), "reward_id": N_("Reward"),
    "best": N_("Only the best customers"), "n": N_("How many (N)"),
    "by": N_("By"), "copy_of_segment": N_("Copy of segment no."),
}
MONEY = frozenset({"price", "discount", "of", "counted_cash", "recharge_amount",
                   "topup_amounts", "amount", "venue_cost", "spent"})
EFFECTS = {"amount_off": N_("An amount off the bill"),
           "percent_off": N_("A percentage off the bill"), "free_product": N_("A product given")}
VAT = frozenset({"vat_rate", "vat_rate_takeaway"})
LISTS = frozenset({"sites", "sections"})  # recorded as lists: a pair is two lists
ROLES = {"kitchen": N_("Kitchen"), "cashier": N_("Cashier"), "supervisor": N_("Supervisor"),
         "manager": N_("Manager"), "admin": N_("Administrator"),
         "product_manager": N_("Product manager"), "user_manager": N_("User manager"),
         "machine_owner": N_("Machine owner"), "reporter": N_("Reporter")}
TRIGGERS = {"visits": N_("Every N visits"), "birthday": N_("N days before the birthday"),
            "absence": N_("After N days without a visit")}


def _value(key: str, value: Any, locale: str, currency: str) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return gettext(locale, N_("Yes") if value else N_("No"))
    if isinstance(value, list):
        return ", ".join(_value(key, item, locale, currency) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{label}: {text}" for label, text in shown(value, locale, currency))
    if key == "role" and value in ROLES:
        return gettext(locale, ROLES[value])
    if key == "effect" and value in EFFECTS:
        return gettext(locale, EFFECTS[value])
    if key in ("trigger", "sent_when") and value in TRIGGERS:
        return gettext(locale, TRIGGERS[value])
    if key == "sections" and value in LABELS:
        return gettext(locale, LABELS[value])
    if isinstance(value, int) and key in MONEY:
        return money(value, currency, locale)
    if isinstance(value, int) and key in VAT:
        return f"{typed_decimal(format_vat(value), locale)} %"
    return str(value)


def _flat(changes: dict[str, Any]) -> dict[str, Any]:
    """{"before": {…}, "after": {…}} as the fields that differ, each [before, after]."""
    before, after = changes.get("before"), changes.get("after")
    if set(changes) != {"before", "after"} or not isinstance(before, dict) or not isinstance(
            after, dict):
        return changes
    return {key: [before.get(key), after.get(key)] for key in sorted(before.keys() | after)
            if before.get(key) != after.get(key)}


def shown(changes: Any, locale: str, currency: str) -> list[tuple[str, str]]:
    """(the field's name, what it became or was) for each recorded field, in `locale`."""
    if not isinstance(changes, dict):
        return [("", _value("", changes, locale, currency))]
    out = []
    for key, value in sorted(_flat(changes).items()):
        label = gettext(locale, FIELDS[key]) if key in FIELDS else key
        # [before, after], as audit.diff records a change; a list of ids (or of sections)
        # is a list.
        pair = isinstance(value, list) and len(value) == 2 \
            and key not in ("products", "criteria") and not (
            key in LISTS and not all(isinstance(v, list) or v is None for v in value))
        text = (f"{_value(key, value[0], locale, currency)} → "
                f"{_value(key, value[1], locale, currency)}" if pair
                else _value(key, value, locale, currency))
        out.append((label, text))
    return out
