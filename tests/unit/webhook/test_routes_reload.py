"""routes.toml as the webhook watches it: off the request path, size limit, deletion, place."""

from __future__ import annotations

import gc
import logging
import os
import subprocess
import sys

import pytest

from console.core.routes_form import file_stamp, load_routes, save_if_unchanged
from tests.helpers import wait_until
from tests.helpers.signing import twilio_signature
from tests.helpers.twiml_parse import parse_twiml, room_of
from tests.unit.webhook.test_routes import EXPECTED, ISSUE_EXAMPLE
from webhook import create_app
from webhook.events import RoutesLoaded
from webhook.incoming import routes_file
from webhook.routes import Route, RoutesError, RoutingRules, parse_routes, render_routes
from webhook.routes_file import (
    MAX_ROUTES_BYTES,
    RoutesFile,
    RoutesTooLarge,
    default_routes_path,
    read_routes,
)

TOKEN = "0123456789abcdef0123456789abcdef"
PUBLIC = "https://switchboard.example.net"
CALL = {"CallSid": "CA" + "2" * 32, "From": "+14155550100", "To": "+15005550006"}


@pytest.fixture
def path(tmp_path):
    path = tmp_path / "routes.toml"
    path.write_text(ISSUE_EXAMPLE, encoding="utf-8")
    return path


@pytest.fixture
def watched(path):
    """The routes file read once and watched, with the changes it reported."""
    changes: list[tuple[RoutingRules, str]] = []
    routes = RoutesFile(path, lambda file: changes.append((file.rules, file.error)), 0.02)
    routes.check()
    routes.start()
    yield routes, changes
    routes.stop()


def test_the_watcher_reads_a_changed_file_without_any_request(path, watched):
    routes, changes = watched
    assert routes.rules == EXPECTED and routes.watching
    path.write_text(ISSUE_EXAMPLE.replace("4242", "4343"), encoding="utf-8")
    wait_until(lambda: "4343" in routes.rules.codes)
    assert changes[-1] == (routes.rules, "")


def test_stop_ends_the_watcher_and_so_does_dropping_the_file(path):
    routes = RoutesFile(path, interval=0.02)
    routes.start()
    thread = routes._thread
    routes.stop()
    assert not routes.watching and not thread.is_alive()

    routes = RoutesFile(path, interval=0.02)
    routes.start()
    thread = routes._thread
    del routes
    gc.collect()
    thread.join(5)
    assert not thread.is_alive()


def test_a_file_over_the_size_limit_is_refused_unread_and_the_rules_kept(path, watched):
    routes, changes = watched
    with path.open("r+b") as stream:
        stream.truncate(MAX_ROUTES_BYTES + 1)  # sparse: not a byte of it needs reading
    wait_until(lambda: routes.error)
    assert routes.rules == EXPECTED
    assert routes.error == (
        f"{path}: is 10,000,001 bytes; a routes file may hold at most 10 MB "
        "(10,000,000 bytes, about 200,000 routes), so it was not read"
    )
    assert changes[-1] == (EXPECTED, routes.error)
    with pytest.raises(RoutesTooLarge, match="at most 10 MB"):
        read_routes(path)
    loaded = load_routes(path)  # as the Routes dialog opens it: the problem, and no text to edit
    assert (loaded.rules, loaded.text, str(loaded.error)) == (None, None, routes.error)


def test_a_duplicate_far_down_a_long_file_names_its_line():
    rules = RoutingRules(tuple(Route(f"+1555{i:07d}", room="DailyStandup") for i in range(5000)))
    text = render_routes(rules) + '\n[[route]]\nnumber = "+15550000007"\nhold = true\n'
    with pytest.raises(RoutesError) as caught:
        parse_routes(text)
    assert (caught.value.line, caught.value.key) == (text.count("\n") - 1, "number")
    assert "+15550000007 already has a route above" in str(caught.value)
    assert parse_routes(render_routes(rules)).route_for("+15550004999").room == "DailyStandup"


def test_a_deleted_file_keeps_the_last_good_rules_and_warns(path, caplog):
    routes = RoutesFile(path)
    routes.check()
    path.unlink()
    with caplog.at_level(logging.WARNING, "webhook.routes_file"):
        assert routes.check() is True
    assert routes.rules == EXPECTED and not routes.exists
    assert routes.error.startswith(f"{path} is missing; the last good rules (3 route(s), 1 code")
    assert [r.getMessage() for r in caplog.records] == [routes.error]
    assert routes.check() is False  # said once, not at every look

    path.write_text(ISSUE_EXAMPLE, encoding="utf-8")  # the same file comes back
    assert routes.check() is True
    assert (routes.rules, routes.error, routes.exists) == (EXPECTED, "", True)


def test_saving_an_empty_set_clears_the_rules_on_purpose(path):
    """What the console's Routes dialog writes when the operator removes every rule."""
    routes = RoutesFile(path)
    routes.check()
    save_if_unchanged(path, RoutingRules(), file_stamp(path))
    assert routes.check() is True
    assert (routes.rules, routes.error, routes.exists) == (RoutingRules(), "", True)
    path.unlink()
    assert routes.check() is True  # nothing left to keep: a missing file is no problem then
    assert (routes.rules, routes.error, routes.exists) == (RoutingRules(), "", False)


def _signed_post(app, route: str):
    signature = twilio_signature(TOKEN, PUBLIC + route, CALL)
    response = app.test_client().post(route, data=CALL, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    return parse_twiml(response.data)


def test_after_deletion_the_next_caller_still_follows_the_routes(path):
    events: list = []
    config = {
        "AUTH_TOKEN": TOKEN,
        "PUBLIC_URL": PUBLIC,
        "ROUTES_FILE": str(path),
        "DEFAULT_ROOM": "Lobby",
    }
    app = create_app(config, events.append)
    path.unlink()
    problem = wait_until(lambda: routes_file(app).error)
    room = room_of(_signed_post(app, "/voice/incoming"))
    assert (room.text, room.attrib["participantIdentity"]) == ("DailyStandup", "alice")
    app.extensions["switchboard.events"].close()
    assert [e.error for e in events if isinstance(e, RoutesLoaded)] == ["", problem]
    routes_file(app).stop()


def test_routes_live_in_the_settings_directory(tmp_path):
    """QSettings as the console opens it, and routes.toml, in a process of their own."""
    script = (
        "from pathlib import Path\n"
        "from console.core.preferences import Preferences\n"
        "from webhook.routes_file import default_routes_path\n"
        "print(Path(Preferences.default().settings.fileName()).parent)\n"
        "print(default_routes_path().parent)\n"
    )
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    shown = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0, shown.stderr
    settings, routes = shown.stdout.split()
    assert settings == routes == str(tmp_path / "Switchboard")


def test_an_old_routes_file_is_moved_beside_the_settings(user_dirs, caplog):
    old = user_dirs.config / "switchboard" / "routes.toml"
    old.parent.mkdir()
    old.write_text(ISSUE_EXAMPLE, encoding="utf-8")
    with caplog.at_level(logging.INFO, "webhook.routes_file"):
        path = default_routes_path()
    assert path == user_dirs.config / "Switchboard" / "routes.toml"
    assert read_routes(path) == EXPECTED
    assert not old.parent.exists()  # nothing else was in it: one directory is left
    assert caplog.messages == [f"moved routes file {old} to {path}, beside the settings"]
    assert default_routes_path() == path  # the next start finds nothing to move


def test_an_old_file_never_replaces_one_already_there(user_dirs, caplog):
    old = user_dirs.config / "switchboard" / "routes.toml"
    new = user_dirs.config / "Switchboard" / "routes.toml"
    for target, text in ((old, ISSUE_EXAMPLE), (new, "")):
        target.parent.mkdir()
        target.write_text(text, encoding="utf-8")
    with caplog.at_level(logging.INFO, "webhook.routes_file"):
        assert default_routes_path() == new
    assert new.read_text(encoding="utf-8") == "" and old.read_text(encoding="utf-8")
    assert caplog.messages == [f"routes file {old} is not used: {new} is (it was there first)"]


def test_one_file_under_two_spellings_is_left_alone(user_dirs, caplog):
    """As on a file system that ignores case (macOS, Windows): both names are one directory."""
    new = user_dirs.config / "Switchboard" / "routes.toml"
    new.parent.mkdir()
    new.write_text(ISSUE_EXAMPLE, encoding="utf-8")
    (user_dirs.config / "switchboard").symlink_to(new.parent)
    with caplog.at_level(logging.INFO, "webhook.routes_file"):
        assert default_routes_path() == new
    assert read_routes(new) == EXPECTED and not caplog.messages


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX only")
def test_a_forked_child_watches_the_file_with_a_thread_of_its_own(path, watched):
    """As a server that builds the app before forking its workers: the watcher is restarted."""
    routes, _ = watched
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # the child: report what it sees, then leave without running any cleanup
        try:
            watching = routes.watching
            path.write_text(ISSUE_EXAMPLE.replace("4242", "4545"), encoding="utf-8")
            wait_until(lambda: "4545" in routes.rules.codes)
            os.write(writer, b"ok" if watching else b"not watching")
        finally:
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as stream:
        said = stream.read()
    os.waitpid(child, 0)
    assert said == b"ok"
