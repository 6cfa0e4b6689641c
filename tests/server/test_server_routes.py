"""The team server serves every route `switchboard webhook` serves, behind the same checks."""

from __future__ import annotations

import requests

from webhook.app import create_app as create_webhook_app


def _routes(app) -> dict[str, tuple[frozenset[str], str]]:
    return {
        rule.rule: (frozenset(rule.methods or ()), rule.endpoint)
        for rule in app.url_map.iter_rules()
    }


def test_every_webhook_route_is_served_by_the_team_server_with_its_methods(team_server):
    webhook = _routes(create_webhook_app({"AUTH_TOKEN": "x"}))
    served = _routes(team_server.app)
    assert webhook, "the webhook app has routes"
    for path, (methods, endpoint) in webhook.items():
        assert path in served, f"{path} is not served by the team server"
        assert methods <= served[path][0], f"{path}: {methods - served[path][0]} missing"
        assert served[path][1] == endpoint


def test_each_twilio_route_refuses_an_unsigned_request_on_the_team_server(team_server):
    webhook = create_webhook_app({"AUTH_TOKEN": "x"})
    twilio_paths = [
        rule.rule
        for rule in webhook.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and "<" not in rule.rule
    ]
    assert "/voice/outbound" in twilio_paths and "/voice/status" in twilio_paths
    for path in twilio_paths:
        answer = requests.post(
            team_server.url + path, data={"CallSid": "CA" + "1" * 32}, timeout=10
        )
        assert answer.status_code == 403, path
    assert requests.get(team_server.url + "/health", timeout=10).status_code == 200
