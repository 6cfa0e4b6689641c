"""End-to-end tests: the sandbox, the webhook, the gateway and the commands together over HTTP."""
