"""A call's Notifications (2010 API): the errors Twilio logged while it played the call."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, request

from sandbox import serialize
from sandbox.current import current_sandbox
from sandbox.date_filters import BEFORE, FROM, ON, admitted, read_bounds
from sandbox.errors import TwilioApiError, not_found
from sandbox.models import CallError

bp = Blueprint("notifications", __name__, url_prefix="/2010-04-01/Accounts")

MESSAGE_DATE_FILTERS = {"MessageDate": ON, "MessageDate<": BEFORE, "MessageDate>": FROM}
ERROR_LOG, WARNING_LOG = "0", "1"  # Twilio's Log values; every error the sandbox keeps is 0


def _sid(error: CallError, index: int) -> str:
    """A notification's SID: NO and 32 hex digits, the same at every read."""
    seed = f"{error.call_sid}/{index}/{error.code}/{error.date.isoformat()}"
    return "NO" + hashlib.md5(seed.encode(), usedforsecurity=False).hexdigest()


def render(account_sid: str, error: CallError, index: int) -> dict[str, Any]:
    """api.v2010.account.call.call_notification, as Twilio writes one."""
    sid = _sid(error, index)
    stamp = serialize.rfc2822(error.date)
    return {
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "call_sid": error.call_sid,
        "date_created": stamp,
        "date_updated": stamp,
        "error_code": str(error.code),
        "log": ERROR_LOG,
        "message_date": stamp,
        "message_text": urlencode({"Msg": error.message, "sourceComponent": "12000"}),
        "more_info": f"https://www.twilio.com/docs/errors/{error.code}",
        "request_method": "POST" if error.url else None,
        "request_url": error.url or None,
        "sid": sid,
        "uri": f"{serialize.API}/Accounts/{account_sid}/Calls/{error.call_sid}/"
        f"Notifications/{sid}.json",
    }


@bp.get("/<account_sid>/Calls/<call_sid>/Notifications.json")
def list_notifications(account_sid: str, call_sid: str) -> Response:
    """GET Calls/{CallSid}/Notifications.json, newest first, filtered by Log and MessageDate."""
    sandbox = current_sandbox()
    if account_sid != sandbox.account_sid:
        raise not_found(request.path)
    sandbox.find_call(call_sid)  # 20404 for a call the account never had
    log = request.args.get("Log")
    if log is not None and log not in (ERROR_LOG, WARNING_LOG):
        raise TwilioApiError(400, 20001, f"Invalid Log: {log} (0 for errors, 1 for warnings)")
    dates = read_bounds(request.args, MESSAGE_DATE_FILTERS)
    with sandbox.state.lock:
        mine = [e for e in sandbox.state.errors if e.call_sid == call_sid]
    numbered = [
        (index, error)
        for index, error in enumerate(mine)
        if (log is None or log == ERROR_LOG) and admitted(error.date, dates)
    ]
    numbered.reverse()  # newest first
    filters: dict[str, str] = {"Log": log} if log is not None else {}
    filters.update({bound.name: request.args[bound.name] for bound in dates})
    body = serialize.v2010_list(
        "notifications",
        numbered,
        lambda item: render(account_sid, item[1], item[0]),
        serialize.Paging(request.args),
        request.path,
        filters,
    )
    return jsonify(body)
