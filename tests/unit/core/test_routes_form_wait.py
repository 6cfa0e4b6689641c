"""The Routes dialog's tables keep a route that waits for its room to start."""

from __future__ import annotations

from console.core.routes_form import ACTION_WAIT, check_route_rows, route_rows, rules_from_rows
from webhook.routes import parse_routes, render_routes


def test_a_route_that_waits_for_its_room_keeps_waiting_when_saved():
    text = '[[route]]\nnumber = "*"\nroom = "Standup"\nwait_for_room = true\nmax_wait = 60\n'
    loaded = parse_routes(text)
    rows = route_rows(loaded)
    assert rows == [("*", ACTION_WAIT, "Standup")]
    assert check_route_rows([("*", ACTION_WAIT, "")]) == {(0, 2): "Enter the room."}
    kept = rules_from_rows(rows, [], [], {"*": 60})
    assert parse_routes(render_routes(kept)) == loaded
    assert rules_from_rows(rows, [], [], {}).routes[0].max_wait == 900  # the default
