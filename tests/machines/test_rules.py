"""The pure rules: access modes, the brew state table, drink needs, schedules, amounts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from customers.errors import BadAmount, SignInRequired
from customers.schedule import BadSchedule, current_period
from machines import recipes
from machines.access import Brewer, Charge, Mode, decide
from machines.brew_state import Step, progress, step
from machines.commands import ManualCredit, Recipe
from machines.errors import (
    AccountNotReady,
    BadBrewTransition,
    BadRecipe,
    NotAuthorised,
)
from tests.machines.conftest import given

KEY = "a-client-key"
ANONYMOUS = Brewer(None)
MEMBER = Brewer(7, ready=True, groups=((3, None),))
OUTSIDER = Brewer(8, ready=True)
UNCONFIRMED = Brewer(9, ready=False, groups=((3, None),))


@pytest.mark.parametrize(
    ("mode", "brewer", "charge"),
    [
        (Mode.OPEN, ANONYMOUS, Charge.NONE),
        (Mode.OPEN, OUTSIDER, Charge.NONE),
        (Mode.PREPAID, MEMBER, Charge.CREDIT),
        (Mode.AUTHORISED, MEMBER, Charge.NONE),
        (Mode.PAYMENT, ANONYMOUS, Charge.PAYMENT),
        (Mode.CUSTOM, ANONYMOUS, Charge.PAYMENT),
        (Mode.CUSTOM, MEMBER, Charge.CREDIT),
    ],
)
def test_who_may_brew_and_how_they_pay(mode: Mode, brewer: Brewer, charge: Charge) -> None:
    grant = decide(mode, brewer, default_selection=1)
    assert grant.charge is charge
    assert grant.charge_for(0) is Charge.NONE  # a free drink is free in every mode


@pytest.mark.parametrize(
    ("mode", "brewer", "error"),
    [
        (Mode.PREPAID, ANONYMOUS, SignInRequired),
        (Mode.PREPAID, OUTSIDER, NotAuthorised),
        (Mode.PREPAID, UNCONFIRMED, AccountNotReady),
        (Mode.AUTHORISED, ANONYMOUS, SignInRequired),
        (Mode.AUTHORISED, OUTSIDER, NotAuthorised),
    ],
)
def test_who_is_refused(mode: Mode, brewer: Brewer, error: type[Exception]) -> None:
    with pytest.raises(error):
        decide(mode, brewer, default_selection=1)


def test_custom_mode_uses_the_groups_selection() -> None:
    grant = decide(Mode.CUSTOM, Brewer(7, True, ((3, None), (4, 42))), default_selection=1)
    assert (grant.selection_id, grant.group_id) == (42, 4)
    assert decide(Mode.CUSTOM, ANONYMOUS, default_selection=1).selection_id == 1


def test_brew_state_table() -> None:
    assert step("requested", "accepted") is Step.APPLY
    assert step("requested", "brewing") is Step.APPLY  # a machine may skip steps
    assert step("brewing", "brewing") is Step.APPLY  # progress
    assert step("brewing", "accepted") is Step.IGNORE  # a repeat arriving late
    assert step("done", "done") is Step.IGNORE
    assert step("failed", "done") is Step.IGNORE  # the server's timeout stands
    assert step("failed", "brewing") is Step.IGNORE  # late news of a timed-out brew
    assert step("done", "brewing") is Step.IGNORE
    with pytest.raises(BadBrewTransition):
        step("paying", "brewing")  # not before it is paid: never sent to the machine
    with pytest.raises(BadBrewTransition):
        step("paying", "failed")  # the payment's end decides, not the machine
    assert progress(40, "brewing", 30) == 40
    assert progress(40, "brewing", 100) == 100
    assert progress(40, "brewing", None) == 40
    assert progress(40, "done", None) == 100


def test_alerts_stop_only_the_drinks_that_need_what_is_missing() -> None:
    assert recipes.blocking("cappuccino", ["milk"]) == ["milk"]
    assert recipes.blocking("espresso", ["milk", "descaling"]) == []
    assert recipes.blocking("hot_water", ["beans", "grounds"]) == []
    assert recipes.blocking("lungo", ["water"]) == ["water"]
    assert recipes.clean_alerts(["beans", "nonsense", "beans", 3]) == ["beans"]

def test_a_recipe_sets_only_what_it_names_within_the_limits() -> None:
    assert given(Recipe, strength=3, volume_ml=40).values() == {"strength": 3, "volume_ml": 40}
    assert list(Recipe.model_fields) == list(recipes.RECIPE_LIMITS)
    for bad in ({"strength": 9}, {"sugar": 2}, {"strength": True}, {"strength": "3"},
                {"milk_ml": None}):
        with pytest.raises(BadRecipe):
            given(Recipe, **bad)


def test_recharge_periods_in_the_company_time_zone() -> None:
    paris = "Europe/Paris"
    summer_morning = datetime(2026, 7, 1, 5, 30, tzinfo=UTC)  # 07:30 in Paris
    assert current_period("day", "07:00", paris, summer_morning)[0] == "2026-07-01"
    assert current_period("day", "08:00", paris, summer_morning)[0] == "2026-06-30"
    assert current_period("week", "07:00", paris, summer_morning)[0] == "2026-W27"
    assert current_period("month", "07:00", paris, summer_morning)[0] == "2026-07"
    assert current_period("month", "08:00", paris, summer_morning)[0] == "2026-06"
    with pytest.raises(BadSchedule):
        current_period("hour", "07:00", paris, summer_morning)


def test_amounts_a_person_credits_are_whole_cents_up_to_the_limit() -> None:
    assert given(ManualCredit, amount=500, idempotency_key=KEY).amount == 500
    for bad in (0, -5, True, 1.5, "500", 10**9):
        with pytest.raises(BadAmount):
            given(ManualCredit, amount=bad, idempotency_key=KEY)
