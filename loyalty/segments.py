"""A segment's definition: criteria combined with all / any, and optionally only the best N
customers by visits or spend over a period. Typed pydantic models (a discriminated union
of criteria, read from the JSON kept in `Segment.definition` or from the editor's form);
each refusal is an InvalidInput naming its place ("criteria.2.days") with a clear message.

The criteria, all counted back from `now` (months are calendar months):
- birthday_between: a birthday from one month-day to another, both included, wrapping the
  year's end (12-15 to 01-15); birthday_soon: a birthday today or in the next N days;
- spent: spent more than an amount (minor units) over the last M months (refunds deducted);
- visits: at least and/or at most N visits over the last M months;
- last_visit: last visited before N days ago (and not since), after N days ago, or never;
- site: visited this site over the last M months (0: ever);
- reward_taken: took this reward (or any) with points or a coupon over the last M months;
- consent: gave their consent to e-mail or SMS.
The queries are loyalty/segment_query.py's.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from errors import N_, InvalidInput

MAX_CRITERIA = 20
MAX_MONTHS = 120
MAX_DAYS = 3650
MAX_COUNT = 100_000
MAX_AMOUNT = 10_000_000_00  # minor units: ten million


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Months = Annotated[int, Field(ge=1, le=MAX_MONTHS)]
MonthDay = Annotated[str, Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]


class BirthdayBetween(Rule):
    kind: Literal["birthday_between"] = "birthday_between"
    start: MonthDay  # "MM-DD"
    end: MonthDay


class BirthdaySoon(Rule):
    kind: Literal["birthday_soon"] = "birthday_soon"
    days: Annotated[int, Field(ge=0, le=MAX_DAYS)]  # 365 or more: every birthday


class Spent(Rule):
    kind: Literal["spent"] = "spent"
    amount: Annotated[int, Field(ge=0, le=MAX_AMOUNT)]
    months: Months


class Visits(Rule):
    kind: Literal["visits"] = "visits"
    at_least: Annotated[int, Field(ge=0, le=MAX_COUNT)] | None = None
    at_most: Annotated[int, Field(ge=0, le=MAX_COUNT)] | None = None
    months: Months


class LastVisit(Rule):
    kind: Literal["last_visit"] = "last_visit"
    when: Literal["before", "after", "never"]
    days: Annotated[int, Field(ge=0, le=MAX_DAYS)] = 0


class SiteVisited(Rule):
    kind: Literal["site"] = "site"
    site_id: Annotated[int, Field(ge=1)]
    months: Annotated[int, Field(ge=0, le=MAX_MONTHS)] = 0  # 0: ever


class RewardTaken(Rule):
    kind: Literal["reward_taken"] = "reward_taken"
    reward_id: Annotated[int, Field(ge=1)] | None = None  # None: any reward
    months: Months


class Consent(Rule):
    kind: Literal["consent"] = "consent"
    channel: Literal["email", "sms"]


Criterion = Annotated[
    BirthdayBetween | BirthdaySoon | Spent | Visits | LastVisit | SiteVisited | RewardTaken
    | Consent,
    Field(discriminator="kind"),
]
KINDS = ("birthday_between", "birthday_soon", "spent", "visits", "last_visit", "site",
         "reward_taken", "consent")


class Best(Rule):
    n: Annotated[int, Field(ge=1, le=MAX_COUNT)]
    by: Literal["visits", "spend"]
    months: Months


class Definition(Rule):
    match: Literal["all", "any"] = "all"
    criteria: Annotated[list[Criterion], Field(max_length=MAX_CRITERIA)] = []
    best: Best | None = None


# What each field expects, said when it is refused.
MESSAGES = {
    "match": N_("Choose whether customers match all the criteria or any of them."),
    "criteria": N_("A segment has at most 20 criteria."),
    "kind": N_("Choose a criterion."),
    "start": N_("Give a day and a month, like 12-31 for 31 December."),
    "end": N_("Give a day and a month, like 12-31 for 31 December."),
    "days": N_("Give a number of days from 0 to 3650."),
    "amount": N_("Give an amount, 0 or more."),
    "months": N_("Give a number of months from 1 to 120."),
    "at_least": N_("Give a number of visits, 0 or more."),
    "at_most": N_("Give a number of visits, 0 or more."),
    "when": N_("Choose before, after or never."),
    "site_id": N_("Choose one of the company's sites."),
    "reward_id": N_("Choose one of the company's rewards."),
    "channel": N_("Choose e-mail or SMS."),
    "n": N_("Give a number of customers from 1 to 100000."),
    "by": N_("Choose visits or spend."),
}
FALLBACK = N_("This segment's definition is not understood.")
DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def refusal(field: str, message: str, **params: Any) -> InvalidInput:
    error = InvalidInput(message, **params)
    error.field = field
    return error


def _place(loc: tuple[int | str, ...]) -> tuple[str, str]:
    """The refused field's place ("criteria.1.days", "best.n") and its name; a union
    member's tag ("visits") in the location is not a field."""
    parts = [str(p) for p in loc if str(p) not in KINDS]
    name = next((p for p in reversed(parts) if not p.isdecimal()), "_")
    if name == "criteria" and len(parts) > 1 and parts[-1].isdecimal():
        name = "kind"
        parts.append(name)
    return ".".join(parts) or "_", name


def _checked(definition: Definition) -> Definition:
    for index, rule in enumerate(definition.criteria):
        place = f"criteria.{index}"
        if isinstance(rule, BirthdayBetween):
            for name, value in (("start", rule.start), ("end", rule.end)):
                month, day = (int(p) for p in value.split("-"))
                if day > DAYS_IN_MONTH[month - 1]:
                    raise refusal(f"{place}.{name}", MESSAGES[name])
        elif isinstance(rule, Visits):
            if rule.at_least is None and rule.at_most is None:
                raise refusal(f"{place}.at_least",
                              N_("Give at least or at most how many visits."))
            if rule.at_least is not None and rule.at_most is not None \
                    and rule.at_least > rule.at_most:
                raise refusal(f"{place}.at_most",
                              N_("At most cannot be fewer visits than at least."))
        elif isinstance(rule, LastVisit) and rule.when != "never" and rule.days < 1:
            raise refusal(f"{place}.days", N_("Give a number of days from 1 to 3650."))
    return definition


def parse(data: Any) -> Definition:
    """`data` (the stored JSON, or what the editor sent) as a definition, or the first
    refused field's InvalidInput."""
    try:
        definition = Definition.model_validate(data)
    except ValidationError as failure:
        problem = failure.errors()[0]
        place, name = _place(tuple(problem["loc"]))
        raise refusal(place, MESSAGES.get(name, FALLBACK)) from None
    return _checked(definition)


def stored(definition: Definition) -> dict[str, Any]:
    """What `Segment.definition` keeps: the JSON, without the fields left at None."""
    return definition.model_dump(mode="json", exclude_none=True)
