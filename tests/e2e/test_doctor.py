"""`switchboard doctor` against the sandbox, the real webhook, a tunnel stand-in, an agent API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from console.commands.cli import main
from console.core.preferences import Preferences
from tests.helpers.ngrok_agent_stub import AgentApiStub
from tests.helpers.tunneled_webhook import TunneledWebhook, free_port

BOGUS_NGROK_TOKEN = "2bogusNgrokToken_doctor_31415"


@pytest.fixture
def hook(sandbox) -> Iterator[TunneledWebhook]:
    """The webhook checking the sandbox's signatures, behind a loopback tunnel stand-in."""
    tunneled = TunneledWebhook(sandbox.auth_token)
    yield tunneled
    tunneled.stop()


@pytest.fixture
def agent(hook) -> Iterator[AgentApiStub]:
    """An agent API listing an https tunnel to another port and the tunnel to the webhook."""
    stub = AgentApiStub()
    stub.add_tunnel("https://someone-else.ngrok.app", "http://localhost:3000")
    stub.add_tunnel(hook.public_url, f"http://localhost:{hook.port}", proto="http")
    yield stub
    stub.stop()


@pytest.fixture
def live_env(sandbox, sandbox_server, monkeypatch) -> dict[str, str]:
    """Live mode against the sandbox: credentials and SWITCHBOARD_TWILIO_URL in the environment."""
    env = {
        "TWILIO_ACCOUNT_SID": sandbox.account_sid,
        "TWILIO_AUTH_TOKEN": sandbox.auth_token,
        "SWITCHBOARD_TWILIO_URL": sandbox_server.url,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def doctor_process(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `switchboard doctor` as a real process with no keyring of the operator's."""
    return subprocess.run(
        [sys.executable, "-m", "console", "doctor", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            **env,
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
            "PYTHONIOENCODING": "utf-8",
        },
    )


def doctor(capsys, *args: str) -> tuple[int, str]:
    """Run `switchboard doctor` in this process; (exit status, what it printed)."""
    status = main(["doctor", *args])
    return status, capsys.readouterr().out


def test_doctor_json_reports_the_agents_tunnel_and_that_it_reaches_the_webhook(
    hook, agent, live_env, sandbox
):
    done = doctor_process(
        "--json", "--webhook-port", str(hook.port), "--ngrok-api", agent.url, env=live_env
    )

    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["tunnel"] == {
        "provider": "agent",
        "public_url": hook.public_url,
        "reachable": True,
        "error": None,
        "kind": "ok",
    }
    assert report["ok"] is True
    assert report["mode"] == "live"
    assert report["api"] == f"sandbox API at {live_env['SWITCHBOARD_TWILIO_URL']}"
    assert report["credentials"]["sources"]["auth_token"] == "environment"
    assert report["webhook"]["listening"] is True
    assert report["signatures"] == {"ok": True, "error": None}
    assert all(check["ok"] is not False for check in report["checks"])
    assert sandbox.auth_token not in done.stdout + done.stderr
    assert agent.requests == ["/api/tunnels"]


def test_doctor_says_why_the_tunnel_does_not_reach_the_webhook(hook, agent, live_env, sandbox):
    hook.proxy.drop()

    done = doctor_process("--webhook-port", str(hook.port), "--ngrok-api", agent.url, env=live_env)

    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert f"• mode: live, account {sandbox.account_sid}, API: sandbox API at " in lines[0]
    assert lines[1] == "✓ credentials: Account SID from environment, Auth Token from environment"
    assert lines[2].startswith("✓ credential check: sandbox API at ")
    assert lines[3] == f"✓ webhook: listening on http://127.0.0.1:{hook.port}"
    assert lines[4] == f"✓ tunnel: agent, agent API at {agent.url}: {hook.public_url}"
    assert lines[5] == (
        "✗ through the tunnel: tunnel down: ngrok says the endpoint is offline (ERR_NGROK_3200)"
    )
    assert lines[6] == "– signatures: not checked: the webhook is not reachable"
    assert lines[7] == "1 check failed: a live call would not work yet."
    assert "Traceback" not in done.stderr
    assert sandbox.auth_token not in done.stdout + done.stderr


def test_doctor_reports_a_tunnel_to_another_port(hook, live_env, capsys):
    stub = AgentApiStub()
    stub.add_tunnel("https://abc.ngrok.app", "localhost:3000")
    try:
        status, out = doctor(
            capsys, "--json", "--webhook-port", str(hook.port), "--ngrok-api", stub.url
        )
    finally:
        stub.stop()

    assert status == 1
    assert json.loads(out)["tunnel"] == {
        "provider": "agent",
        "public_url": None,
        "reachable": False,
        "error": f"wrong port: the agent forwards to 3000, the webhook listens on {hook.port}",
        "kind": "wrong-port",
    }


def test_doctor_reports_refused_credentials_and_failing_signatures(
    hook, agent, live_env, monkeypatch, capsys
):
    wrong = "f" * 32
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", wrong)

    status, out = doctor(capsys, "--webhook-port", str(hook.port), "--ngrok-api", agent.url)

    assert status == 1
    assert "✗ credential check: sandbox API at " in out and "(Twilio error 20003)" in out
    assert "✓ through the tunnel: the webhook answers through" in out
    assert "✗ signatures: auth failing: the webhook rejected a request signed" in out
    assert wrong not in out


def test_doctor_without_credentials_reports_sandbox_mode(hook, agent, capsys):
    status, out = doctor(
        capsys, "--json", "--webhook-port", str(hook.port), "--ngrok-api", agent.url
    )

    report = json.loads(out)
    assert status == 1
    assert (report["mode"], report["ok"]) == ("sandbox", False)
    assert report["checks"][0] == {
        "name": "credentials",
        "ok": False,
        "detail": "No Twilio credentials",
    }
    assert report["tunnel"]["reachable"] is True  # the rest is still checked


def test_doctor_reports_a_webhook_that_is_not_listening(agent, live_env, capsys):
    port = free_port()
    stub = AgentApiStub()
    stub.add_tunnel("https://abc.ngrok.app", f"localhost:{port}")
    try:
        status, out = doctor(capsys, "--webhook-port", str(port), "--ngrok-api", stub.url)
    finally:
        stub.stop()

    assert status == 1
    assert f"✗ webhook: nothing listens on 127.0.0.1:{port}" in out
    assert "✓ tunnel: agent, agent API at " in out and ": https://abc.ngrok.app" in out


def test_doctor_uses_the_tunnel_chosen_in_settings(hook, live_env, capsys):
    preferences = Preferences.default()
    preferences.webhook_port = hook.port
    preferences.tunnel_provider = "manual"
    preferences.public_url = hook.public_url
    preferences.sync()

    status, out = doctor(capsys)

    assert status == 0, out
    assert f"✓ tunnel: manual: {hook.public_url}" in out
    assert out.rstrip().endswith("Ready for live calls.")


def test_doctor_with_no_tunnel_needs_none_for_a_sandbox_api(hook, live_env, capsys, monkeypatch):
    hook.app.config["PUBLIC_URL"] = hook.local_url
    preferences = Preferences.default()
    preferences.tunnel_provider = "none"
    preferences.sync()

    status, out = doctor(capsys, "--webhook-port", str(hook.port))
    assert status == 0, out
    assert f"✓ tunnel: none: {hook.local_url}" in out

    monkeypatch.delenv("SWITCHBOARD_TWILIO_URL")  # real Twilio: never contacted, only judged
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "")
    status, out = doctor(capsys, "--json", "--webhook-port", str(hook.port))
    assert status == 1
    assert json.loads(out)["tunnel"]["error"] == (
        "no tunnel: Twilio cannot reach a webhook on this computer"
    )


def test_doctor_uses_the_running_consoles_ngrok_tunnel(hook, live_env, capsys):
    preferences = Preferences.default()
    preferences.tunnel_provider = "ngrok"
    preferences.sync()

    status, out = doctor(capsys, "--json", "--webhook-port", str(hook.port))

    assert status == 0, out
    tunnel = json.loads(out)["tunnel"]
    assert (tunnel["provider"], tunnel["public_url"], tunnel["reachable"]) == (
        "ngrok",
        hook.public_url,
        True,
    )


def test_doctor_reports_the_ngrok_sdk_failing_offline_without_the_token(
    hook, live_env, capsys, monkeypatch
):
    hook.app.config["PUBLIC_URL"] = hook.local_url  # no console tunnel: doctor opens its own
    monkeypatch.setenv("NGROK_AUTHTOKEN", BOGUS_NGROK_TOKEN)
    preferences = Preferences.default()
    preferences.tunnel_provider = "ngrok"
    preferences.sync()

    status, out = doctor(capsys, "--webhook-port", str(hook.port))

    assert status == 1
    (line,) = [line for line in out.splitlines() if line.startswith("✗ tunnel: ngrok")]
    assert line.startswith("✗ tunnel: ngrok, authtoken from environment: ")
    assert "tunnel down: ngrok could not reach its service" in line or "rejected" in line
    assert BOGUS_NGROK_TOKEN not in out


def test_doctor_explains_bad_arguments_without_a_traceback(live_env, capsys):
    status, out = doctor(capsys, "--webhook-port", "0", "--ngrok-api", "localhost:4040")

    assert status == 1
    assert "✗ webhook: no port to check (the webhook takes any free port)" in out
    assert "✗ tunnel: agent, agent API at localhost:4040: no webhook port to look for" in out

    status, out = doctor(
        capsys, "--webhook-port", str(free_port()), "--ngrok-api", "localhost:4040"
    )
    assert status == 1
    assert "not a URL for the ngrok agent's API: 'localhost:4040'" in out


def test_doctor_against_a_local_sandbox_needs_no_tunnel(hook, live_env, capsys):
    """No setting touched: the sandbox on this computer calls the webhook on loopback."""
    hook.app.config["PUBLIC_URL"] = hook.local_url
    preferences = Preferences.default()
    preferences.webhook_port = hook.port
    preferences.sync()
    assert not preferences.tunnel_chosen

    status, out = doctor(capsys)

    assert status == 0, out
    assert f"✓ tunnel: not needed (the sandbox at {live_env['SWITCHBOARD_TWILIO_URL']}" in out
    assert "no ngrok agent" not in out
    assert out.rstrip().endswith("Ready for live calls.")
