"""A drink whose need the machine lacks is shown unavailable by the stylesheet alone: every
need an alert can take away has its rule in static/machines.css."""

from __future__ import annotations

from machines import recipes
from settings import ROOT


def test_every_need_an_alert_takes_away_has_its_rule() -> None:
    css = (ROOT / "static" / "machines.css").read_text()
    needs = {need for need in recipes.ALERTS.values() if need}
    assert needs
    for need in needs:
        for part in ("button", ".unavailable"):
            rule = (f'body:has(.machine-state[data-missing~="{need}"]) '
                    f'.drink[data-needs~="{need}"] {part}')
            assert rule in css, rule
