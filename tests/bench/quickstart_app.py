"""Baseline: a quickstart-style Flask webhook (VoiceResponse, no signature check, dev server)."""

import sys

from flask import Flask, request
from twilio.twiml.voice_response import Connect, VoiceResponse

app = Flask(__name__)


@app.post("/voice/outbound")
def outbound():
    response = VoiceResponse()
    connect = Connect()
    connect.room(request.args.get("room", ""), participant_identity=request.args.get("identity"))
    response.append(connect)
    return str(response), 200, {"Content-Type": "text/xml"}


if __name__ == "__main__":
    print("quickstart ready", flush=True)
    app.run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
