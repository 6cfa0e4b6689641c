"""The real webhook on loopback, with every number of the account routed to it."""

from __future__ import annotations

from twilio.rest import Client

from webhook import WebhookServer


def serve_incoming(app, client: Client) -> WebhookServer:
    """Start app's webhook; each number's VoiceUrl and StatusCallback now point at it."""
    server = WebhookServer(app)
    server.start()
    app.config["PUBLIC_URL"] = server.local_url
    for number in client.incoming_phone_numbers.list():
        client.incoming_phone_numbers(number.sid).update(
            voice_url=f"{server.local_url}/voice/incoming",
            status_callback=f"{server.local_url}/voice/status",
        )
    return server
