"""The one way to Twilio or a team server: the gateways, their HTTP clients, the event stream."""
