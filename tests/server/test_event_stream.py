"""The event stream: ids, resume exactly once and in order, reload past the window, revocation."""

from __future__ import annotations

import threading

from console.core.gateways.gateway import Gateway
from console.core.gateways.twilio_http import make_client
from server import event_log, operators
from server.app import close_app, create_app
from tests.helpers import wait_until
from tests.helpers.event_stream import EventStreamReader, parse_events
from webhook import WebhookServer


def _append(team_server, count: int, kind: str = "test.event") -> list[int]:
    ids = []
    for number in range(count):
        with team_server.database.connection() as connection:
            ids.append(event_log.append(connection, team_server.account, kind, {"n": number}))
    return ids


def test_a_new_stream_says_hello_then_carries_new_events(team_server):
    token = team_server.token("alice")
    stream = EventStreamReader(team_server.api("/events"), token)
    try:
        hello = stream.next_of("hello")
        assert hello.data["operator"] == "alice"
        ids = _append(team_server, 3)
        got = [stream.next_of("test.event") for _ in ids]
        assert [event.id for event in got] == ids
        assert [event.data["data"]["n"] for event in got] == [0, 1, 2]
    finally:
        stream.close()


def test_resuming_from_an_id_gives_every_later_event_once_in_order(team_server):
    token = team_server.token("alice")
    first = _append(team_server, 5)
    stream = EventStreamReader(team_server.api("/events"), token, last_event_id=first[1])
    try:
        later = _append(team_server, 2)
        seen = [stream.next_of("test.event").id for _ in range(5)]
        assert seen == first[2:] + later
    finally:
        stream.close()


def test_a_console_away_past_the_window_is_told_to_reload(team_server):
    token = team_server.token("alice")
    ids = _append(team_server, 3)
    with team_server.database.connection() as connection:
        connection.execute("UPDATE event_log SET at = now() - interval '25 hours'")
        assert event_log.prune(connection, team_server.account) >= 3
    stream = EventStreamReader(team_server.api("/events"), token, last_event_id=ids[0])
    reload = stream.next()
    assert reload is not None and reload.kind == "reload"
    assert stream.next() is None  # and the stream ends
    # From the last event it saw, past the pruned ones, a console resumes as usual.
    resumed = EventStreamReader(team_server.api("/events"), token, last_event_id=ids[-1])
    try:
        later = _append(team_server, 1)
        assert resumed.next_of("test.event").id == later[0]
    finally:
        resumed.close()


def test_presence_is_streamed_when_operators_come_and_go(team_server):
    alice = EventStreamReader(team_server.api("/events"), team_server.token("alice"))
    try:
        alice.next_of("hello")
        assert alice.next_of("operator.online").data["data"]["operator"] == "alice"
        bob = EventStreamReader(team_server.api("/events"), team_server.token("bob"))
        assert alice.next_of("operator.online").data["data"]["operator"] == "bob"
        online = team_server.session("carol").get(team_server.api("/operators"), timeout=10)
        assert online.json()["online"] == ["alice", "bob"]
        bob.close()
        assert alice.next_of("operator.offline").data["data"]["operator"] == "bob"
    finally:
        alice.close()


def test_revoking_a_token_closes_its_open_stream(team_server):
    stream = EventStreamReader(team_server.api("/events"), team_server.token("alice"))
    stream.next_of("hello")
    with team_server.database.connection() as connection:
        operators.revoke(connection, team_server.account, "alice")
    assert stream.next_of("revoked").data["operator"] == "alice"
    assert stream.next() is None


def test_a_bad_last_event_id_is_a_400(team_server):
    answer = team_server.session("alice").get(
        team_server.api("/events"), headers={"Last-Event-ID": "x"}, timeout=10
    )
    assert answer.status_code == 400


def test_a_console_further_back_than_memory_reads_the_log(database, tmp_path):
    account = "AC" + "1" * 32
    with database.connection() as connection:
        early = [event_log.append(connection, account, "test.event", {"n": n}) for n in range(3)]
        token = operators.add(connection, account, "alice")[1]
    client = make_client(account, "token", base_url="http://127.0.0.1:9")
    config = {"ACCOUNT_SID": account, "AUTH_TOKEN": "t", "SPOOL_DIR": str(tmp_path)}
    app = create_app(config, gateway=Gateway(client), database=database)  # its hub starts now
    server = WebhookServer(app, threads=4)
    server.start()
    try:
        team = app.extensions["switchboard.team"]
        assert team.hub.events_after(early[0]) is None  # before the hub's memory begins
        stream = EventStreamReader(f"{server.local_url}/team/v1/events", token, early[0])
        with database.connection() as connection:
            later = event_log.append(connection, account, "test.event", {"n": 3})
        seen = [stream.next_of("test.event").id for _ in range(3)]
        assert seen == [*early[1:], later]
        stream.close()
    finally:
        server.stop()
        close_app(app)


def test_a_stream_waiting_before_the_hub_began_is_woken_by_its_first_read(database):
    import threading

    from server.event_hub import EventHub

    account = "AC" + "2" * 32
    with database.connection() as connection:
        first = event_log.append(connection, account, "test.event", {"n": 0})
    hub = EventHub(database, account)
    woke: list[int] = []
    # A stream that read the log itself (the hub had no memory yet) and now waits for more.
    waiter = threading.Thread(target=lambda: (hub.wait_after(0, 60), woke.append(hub.last_id)))
    waiter.start()
    hub.start()  # its first read finds the event appended before it listened
    try:
        waiter.join(20)  # not the 60 s of the wait: the first read wakes it
        assert woke == [first]
    finally:
        hub.stop()
        waiter.join(5)


def test_the_hub_reads_the_log_on_one_backend_and_replaces_it_when_it_dies(database, monkeypatch):
    from server.event_hub import EventHub

    account = "AC" + "3" * 32
    backends: list[int] = []
    read = event_log.after

    def after(connection, *args, **kwargs):
        backends.append(connection.info.backend_pid)
        return read(connection, *args, **kwargs)

    monkeypatch.setattr(event_log, "after", after)
    with database.pool.connection(), database.pool.connection(), database.pool.connection():
        pass  # the pool now holds three idle connections, handed out in turn

    def appended_and_read() -> int:
        with database.connection() as connection:
            new = event_log.append(connection, account, "test.event", {})
        hub.wait_after(new - 1, 20)
        return hub.last_id

    hub = EventHub(database, account)
    hub.start()
    try:
        assert hub.connected.wait(20)
        ids = [appended_and_read() for _ in range(5)]
        assert ids == sorted(set(ids)) and len(ids) == 5
        assert len(set(backends)) == 1  # warm: the same backend for every read
        with database.connection() as connection:  # a restart, for that backend alone
            connection.execute("SELECT pg_terminate_backend(%s)", (backends[-1],))
        died = backends[-1]
        assert appended_and_read() > ids[-1]  # read all the same, on a fresh backend
        assert backends[-1] != died
    finally:
        hub.stop()


def test_in_a_burst_the_hub_reads_without_listening_hears_revocations_then_listens_again(
    database,
):
    from server.event_hub import EventHub

    account = "AC" + "4" * 32
    listen = "LISTEN switchboard_events"

    def hub_said(statement: str) -> bool:  # the hub's listening connection's last statement
        with database.connection() as connection:
            rows = connection.execute(
                "SELECT query FROM pg_stat_activity WHERE query IN (%s, 'UNLISTEN *')", (listen,)
            ).fetchall()
        return [row[0] for row in rows] == [statement]

    hub = EventHub(database, account)
    hub.start()
    appended: list[int] = []
    burst_over = threading.Event()

    def burst() -> None:  # back to back, each committed, as a busy team's callbacks come
        with database.pool.connection() as connection:  # autocommit
            while not burst_over.is_set() and len(appended) < 4000:  # the hub keeps 5000
                appended.append(event_log.append(connection, account, "test.event", {}))

    writer = threading.Thread(target=burst, daemon=True)
    try:
        assert hub.connected.wait(20)
        wait_until(lambda: hub_said(listen), timeout=20)
        writer.start()
        wait_until(lambda: hub_said("UNLISTEN *"), timeout=20)  # reading the log instead
        with database.connection() as connection:
            alice, _ = operators.add(connection, account, "alice")
        with database.connection() as connection:
            operators.revoke(connection, account, "alice")
        wait_until(lambda: alice.id in hub.revoked, timeout=20)
        burst_over.set()
        writer.join(20)
        wait_until(lambda: hub_said(listen), timeout=20)  # the burst is over: listening again
        read = hub.events_after(appended[0] - 1)
        assert read is not None
        assert [e.id for e in read if e.kind == "test.event"] == appended  # once each, in order
        with database.connection() as connection:  # a NOTIFY wakes it again
            single = event_log.append(connection, account, "test.event", {})
        hub.wait_after(single - 1, 20)
        assert hub.last_id == single
    finally:
        burst_over.set()
        hub.stop()


def test_a_stream_catching_up_is_told_to_reload_when_the_log_is_pruned_under_it(database, tmp_path):
    """The pruned mark is checked at every read of the log, not only when the stream opens:
    a prune between two reads of a long catch-up would otherwise skip events unnoticed."""
    account = "AC" + "2" * 32
    with database.connection() as connection:
        ids = [
            event_log.append(connection, account, "test.event", {"n": n})
            for n in range(event_log.READ_BATCH + 50)
        ]
    with database.connection() as connection:
        token = operators.add(connection, account, "alice")[1]
    client = make_client(account, "token", base_url="http://127.0.0.1:9")
    config = {"ACCOUNT_SID": account, "AUTH_TOKEN": "t", "SPOOL_DIR": str(tmp_path)}
    app = create_app(config | {"STREAM_HEARTBEAT": 0.2}, gateway=Gateway(client), database=database)
    try:
        headers = {"Authorization": f"Bearer {token}", "Last-Event-ID": str(ids[0] - 1)}
        answer = app.test_client().get("/team/v1/events", headers=headers, buffered=False)
        chunks = answer.iter_encoded()  # the stream's writes, one at a time, as it makes them
        assert next(chunks).startswith(b"retry:")
        first = list(parse_events(next(chunks).decode().split("\n")))
        assert [event.id for event in first] == ids[: event_log.READ_BATCH]  # one read's worth
        with database.connection() as connection:  # the housekeeping prune, mid catch-up
            connection.execute(
                "UPDATE event_log SET at = now() - interval '25 hours' WHERE id <= %s",
                (ids[event_log.READ_BATCH + 10],),
            )
            assert event_log.prune(connection, account) == event_log.READ_BATCH + 11
            head = event_log.head(connection, account)
        (reload,) = parse_events(next(chunks).decode().split("\n"))
        assert reload.kind == "reload" and reload.data["id"] == head
        with database.connection() as connection:
            later = event_log.append(connection, account, "test.event", {"n": "later"})
        after = []
        while not after:  # keepalives aside, the stream goes on from the newest id
            after = [e for e in parse_events(next(chunks).decode().split("\n")) if e.id]
        assert [event.id for event in after] == [later]
        answer.close()
    finally:
        close_app(app)
