"""The team server's two lanes of threads: Twilio's webhooks answered whatever the team holds."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests
from flask import Flask

from server.lanes import Lanes
from tests.helpers import wait_until
from webhook import WebhookServer


def _app(release: threading.Event, holding: list[str]) -> Flask:
    app = Flask(__name__)

    def name() -> str:
        return threading.current_thread().name

    @app.get("/team/v1/hold")
    @app.get("/voice/hold")
    def hold() -> str:
        holding.append(name())
        release.wait(30)
        return name()

    @app.get("/team/v1/now")
    @app.get("/voice/now")
    def now() -> str:
        return name()

    return app


def _serve(lanes_made: list[Lanes], **sizes) -> tuple[WebhookServer, threading.Event, list[str]]:
    def lanes() -> Lanes:
        lanes_made.append(Lanes(**sizes))
        return lanes_made[-1]

    release, holding = threading.Event(), []
    server = WebhookServer(_app(release, holding), tasks=lanes)
    server.start()
    return server, release, holding


def test_webhooks_are_answered_on_their_own_threads_while_every_team_thread_is_held():
    made: list[Lanes] = []
    server, release, holding = _serve(made, twilio_threads=1, team_threads=2)
    url = server.local_url
    try:
        with ThreadPoolExecutor(4) as pool:
            held = [pool.submit(requests.get, f"{url}/team/v1/hold", timeout=30) for _ in range(2)]
            wait_until(lambda: len(holding) == 2, timeout=10)  # both team threads are taken
            assert requests.get(f"{url}/voice/now", timeout=10).text.startswith("twilio-")
            waiting = pool.submit(requests.get, f"{url}/team/v1/now", timeout=30)
            wait_until(lambda: made[0].team.queue, timeout=10)  # a third team request waits
            assert not waiting.done()
            release.set()
            assert all(answer.result().text.startswith("team-") for answer in held)
            assert waiting.result().text.startswith("team-")
    finally:
        release.set()
        server.stop()


def test_a_twilio_lane_whose_threads_hang_starts_more_and_lets_them_go_after():
    made: list[Lanes] = []
    server, release, holding = _serve(made, twilio_threads=1, team_threads=4, stuck=0.2)
    url = server.local_url
    lane = made[0].twilio
    try:
        with ThreadPoolExecutor(4) as pool:
            hung = [pool.submit(requests.get, f"{url}/voice/hold", timeout=30) for _ in range(2)]
            wait_until(lambda: len(holding) == 2, timeout=10)  # the second got a new thread
            answer = requests.get(f"{url}/voice/now", timeout=10)  # and a third, while both hang
            assert answer.ok and answer.text.startswith("twilio-")
            assert len(lane.threads) == 3
            release.set()
            assert [request.result().status_code for request in hung] == [200, 200]
        wait_until(lambda: len(lane.threads) == 1, timeout=10)  # back to its usual size
        assert requests.get(f"{url}/voice/now", timeout=10).ok
    finally:
        release.set()
        server.stop()
