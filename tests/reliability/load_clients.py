"""Many Twilio-like clients fetching TwiML and posting signed status callbacks at once.

Run as `python -m tests.reliability.load_clients URL PUBLIC_URL TOKEN CLIENTS SECONDS`; prints one
JSON object: what each client sent and got acknowledged (204), and every error. A process of its
own, so the clients do not share the webhook's interpreter lock (Twilio is another computer).
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
from urllib.parse import urlencode, urlsplit

from twilio.request_validator import RequestValidator

REQUEST_TIMEOUT = 15.0


def post(
    connection: http.client.HTTPConnection, path: str, fields: dict, signature: str
) -> tuple[int, bytes]:
    """POST a form on connection (which reconnects by itself after a close); (status, body)."""
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": signature,
    }
    connection.request("POST", path, urlencode(fields), headers)
    response = connection.getresponse()
    return response.status, response.read()


def run_client(
    number: int,
    target: tuple[str, int],
    public_url: str,
    validator: RequestValidator,
    start: threading.Barrier,
    deadline: list[float],
    out: dict,
) -> None:
    """Play call legs until the deadline: fetch the TwiML, then post a status callback.

    The TwiML comes on a keep-alive connection held for the whole run (as an HTTP client
    that reuses connections does); callbacks go on a second connection.
    """
    acknowledged: list[list] = []
    errors: list[str] = []
    twiml = http.client.HTTPConnection(*target, timeout=REQUEST_TIMEOUT)
    callbacks = http.client.HTTPConnection(*target, timeout=REQUEST_TIMEOUT)
    start.wait()
    sequence = 0
    first = last = 0.0
    while time.monotonic() < deadline[0]:
        call_sid = f"CA{number:08x}{sequence // 4:024x}"
        leg = {"CallSid": call_sid, "AccountSid": "AC" + "0" * 32}
        fields = {
            **leg,
            "CallStatus": ("initiated", "ringing", "in-progress", "completed")[sequence % 4],
            "SequenceNumber": str(sequence % 4),
        }
        answer = f"/voice/outbound?room=Load&identity=c{number}"
        where = f"client {number} request {sequence}"
        try:
            status, body = post(
                twiml, answer, leg, validator.compute_signature(public_url + answer, leg)
            )
            if status != 200 or b"<Room" not in body:
                errors.append(f"{where}: TwiML answered HTTP {status}: {body[:200]!r}")
            url = public_url + "/voice/status"
            status, _ = post(
                callbacks, "/voice/status", fields, validator.compute_signature(url, fields)
            )
        except (OSError, http.client.HTTPException) as error:
            errors.append(f"{where}: {type(error).__name__}: {error}")
            twiml.close()  # both reconnect for the next leg
            callbacks.close()
        else:
            if status == 204:
                acknowledged.append([call_sid, fields["SequenceNumber"]])
                last = time.monotonic()
                first = first or last
            else:
                errors.append(f"{where}: callback answered HTTP {status}")
        sequence += 1
    twiml.close()
    callbacks.close()
    out[number] = {"acknowledged": acknowledged, "errors": errors, "first": first, "last": last}


def main(argv: list[str]) -> int:
    url, public_url, token, clients, seconds = argv
    parts = urlsplit(url)
    target = (parts.hostname or "127.0.0.1", int(parts.port or 80))
    validator = RequestValidator(token)
    count = int(clients)
    start = threading.Barrier(count + 1)
    deadline = [0.0]
    out: dict[int, dict] = {}
    threads = [
        threading.Thread(
            target=run_client,
            args=(n, target, public_url, validator, start, deadline, out),
            daemon=True,
        )
        for n in range(count)
    ]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    deadline[0] = began + float(seconds)
    start.wait()
    for thread in threads:
        thread.join(float(seconds) + REQUEST_TIMEOUT + 5)
    result = {
        "began": began,
        "ended": time.monotonic(),
        "unfinished": sum(thread.is_alive() for thread in threads),
        "clients": {str(n): out[n] for n in sorted(out)},
    }
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
