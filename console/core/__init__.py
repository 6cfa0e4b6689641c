"""What runs without a display: records, the Twilio gateway, history, settings and runtime."""
