"""Tests of the webhook's parts: TwiML, signatures, routes, incoming calls, events, server."""
