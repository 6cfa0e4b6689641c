"""JSON shapes Twilio sends: Video v1 (ISO 8601) and the 2010 API (RFC 2822), with paging."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

from sandbox.models import Call, Participant, PhoneNumber, Recording, Room
from sandbox.room_media import CODEC, CONTAINER
from sandbox.track_rules import DEFAULT_SUBSCRIBE_RULES, RECORDING, SUBSCRIBE, shown

API = "/2010-04-01"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def iso8601(moment: datetime | None) -> str | None:
    """A Video date: '2026-11-24T18:00:00Z'."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def rfc2822(moment: datetime | None) -> str | None:
    """A 2010 API date: 'Tue, 24 Nov 2026 18:00:00 +0000'."""
    return format_datetime(moment.replace(microsecond=0)) if moment else None


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return int((end - start).total_seconds())


# -- Video v1 ----------------------------------------------------------------------------------


def room(r: Room, account_sid: str, base: str) -> dict[str, Any]:
    """video.v1.room."""
    url = f"{base}/v1/Rooms/{r.sid}"
    return {
        "sid": r.sid,
        "status": r.status,
        "date_created": iso8601(r.created),
        "date_updated": iso8601(r.updated),
        "account_sid": account_sid,
        "enable_turn": True,
        "unique_name": r.unique_name,
        "status_callback": r.status_callback or None,
        "status_callback_method": r.status_callback_method,
        "end_time": iso8601(r.end_time),
        "duration": _seconds(r.created, r.end_time),
        "type": r.type,
        "max_participants": r.max_participants,
        "max_participant_duration": 14400,
        "max_concurrent_published_tracks": 170,
        "record_participants_on_connect": r.record_on_connect,
        "video_codecs": ["VP8", "H264"],
        "media_region": "us1",
        "audio_only": False,
        "empty_room_timeout": r.empty_room_timeout,
        "unused_room_timeout": r.unused_room_timeout,
        "large_room": False,
        "url": url,
        "links": {
            "participants": f"{url}/Participants",
            "recordings": f"{url}/Recordings",
            "transcriptions": f"{url}/Transcriptions",
            "recording_rules": f"{url}/RecordingRules",
        },
    }


def participant(p: Participant, account_sid: str, base: str) -> dict[str, Any]:
    """video.v1.room.room_participant."""
    url = f"{base}/v1/Rooms/{p.room_sid}/Participants/{p.sid}"
    return {
        "sid": p.sid,
        "room_sid": p.room_sid,
        "account_sid": account_sid,
        "status": p.status,
        "identity": p.identity,
        "date_created": iso8601(p.created),
        "date_updated": iso8601(p.updated),
        "start_time": iso8601(p.created),
        "end_time": iso8601(p.end_time),
        "duration": _seconds(p.created, p.end_time),
        "url": url,
        "links": {
            "published_tracks": f"{url}/PublishedTracks",
            "subscribed_tracks": f"{url}/SubscribedTracks",
            "subscribe_rules": f"{url}/SubscribeRules",
            "anonymize": f"{url}/Anonymize",
        },
    }


def subscribe_rules(p: Participant) -> dict[str, Any]:
    """video.v1.room.room_participant.room_participant_subscribe_rule."""
    rules = DEFAULT_SUBSCRIBE_RULES if p.subscribe_rules is None else p.subscribe_rules
    return {
        "participant_sid": p.sid,
        "room_sid": p.room_sid,
        "date_created": iso8601(p.subscribe_rules_created),
        "date_updated": iso8601(p.subscribe_rules_updated),
        "rules": [shown(rule, SUBSCRIBE) for rule in rules],
    }


def recording_rules(r: Room, rules: list[dict]) -> dict[str, Any]:
    """video.v1.room.room_recording_rule: the rules in force (record-on-connect included)."""
    return {
        "room_sid": r.sid,
        "date_created": iso8601(r.recording_rules_set),
        "date_updated": iso8601(r.recording_rules_set),
        "rules": [shown(rule, RECORDING) for rule in rules],
    }


def recording(rec: Recording, account_sid: str, base: str) -> dict[str, Any]:
    """video.v1.room.room_recording."""
    url = f"{base}/v1/Rooms/{rec.room_sid}/Recordings/{rec.sid}"
    return {
        "account_sid": account_sid,
        "status": rec.status,
        "date_created": iso8601(rec.created),
        "sid": rec.sid,
        "source_sid": rec.track.sid,
        "size": rec.size,
        "url": url,
        "type": rec.track.kind,
        "duration": rec.duration,
        "container_format": CONTAINER,
        "codec": CODEC,
        "grouping_sids": {"room_sid": rec.room_sid, "participant_sid": rec.participant_sid},
        "track_name": rec.track.name,
        "offset": rec.offset_ms,
        "media_external_location": None,
        "room_sid": rec.room_sid,
        "links": {"media": f"{url}/Media"},
    }


class Paging:
    """Page and PageSize of a list request, and the records on that page."""

    def __init__(self, args: Any) -> None:
        from sandbox.errors import TwilioApiError

        try:
            self.page = int(args.get("Page", 0))
            self.page_size = int(args.get("PageSize", DEFAULT_PAGE_SIZE))
        except ValueError:
            raise TwilioApiError(400, 20001, "Page and PageSize must be integers") from None
        if self.page < 0 or not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise TwilioApiError(400, 20001, "Page or PageSize is out of range")

    def slice(self, records: Sequence) -> tuple[list, bool]:
        """(records on this page, whether there is a next page)."""
        start = self.page * self.page_size
        return list(records[start : start + self.page_size]), len(records) > start + self.page_size

    def query(self, filters: dict[str, str], page: int) -> str:
        """The query string of a page, filters first, as Twilio writes it."""
        items = [(k, v) for k, v in filters.items() if v is not None]
        items += [("PageSize", str(self.page_size)), ("Page", str(page))]
        return urlencode(items)


def video_list(
    key: str,
    records: Sequence,
    render: Callable[[Any], dict],
    paging: Paging,
    url: str,
    filters: dict[str, str],
) -> dict[str, Any]:
    """A Video list page with its `meta`."""
    items, more = paging.slice(records)
    page = paging.page
    return {
        key: [render(r) for r in items],
        "meta": {
            "page": page,
            "page_size": paging.page_size,
            "first_page_url": f"{url}?{paging.query(filters, 0)}",
            "previous_page_url": f"{url}?{paging.query(filters, page - 1)}" if page else None,
            "url": f"{url}?{paging.query(filters, page)}",
            "next_page_url": f"{url}?{paging.query(filters, page + 1)}" if more else None,
            "key": key,
        },
    }


# -- 2010 API ----------------------------------------------------------------------------------


def account(account_sid: str, auth_token: str, created: datetime) -> dict[str, Any]:
    """api.v2010.account."""
    uri = f"{API}/Accounts/{account_sid}"
    names = ("calls", "incoming_phone_numbers", "outgoing_caller_ids")
    paths = ("Calls", "IncomingPhoneNumbers", "OutgoingCallerIds")
    return {
        "auth_token": auth_token,
        "date_created": rfc2822(created),
        "date_updated": rfc2822(created),
        "friendly_name": "Switchboard sandbox",
        "owner_account_sid": account_sid,
        "sid": account_sid,
        "status": "active",
        "subresource_uris": {n: f"{uri}/{p}.json" for n, p in zip(names, paths, strict=True)},
        "type": "Full",
        "uri": f"{uri}.json",
    }


def call(c: Call, account_sid: str) -> dict[str, Any]:
    """api.v2010.account.call."""
    uri = f"{API}/Accounts/{account_sid}/Calls/{c.sid}"
    duration = c.duration  # empty for busy, failed, unanswered or ongoing calls, as Twilio's
    return {
        "sid": c.sid,
        "date_created": rfc2822(c.created),
        "date_updated": rfc2822(c.updated),
        "parent_call_sid": None,
        "account_sid": account_sid,
        "to": c.to,
        "to_formatted": c.to,
        "from": c.from_,
        "from_formatted": c.from_,
        "phone_number_sid": c.phone_number_sid,
        "status": c.status,
        "start_time": rfc2822(c.start_time),
        "end_time": rfc2822(c.end_time),
        "duration": str(duration) if duration is not None else None,
        "price": None,
        "price_unit": "USD",
        "direction": c.direction,
        "answered_by": None,
        "api_version": "2010-04-01",
        "forwarded_from": None,
        "group_sid": None,
        "caller_name": None,
        "queue_time": str(round(c.queue_seconds * 1000)),  # milliseconds in the CPS queue
        "trunk_sid": None,
        "uri": f"{uri}.json",
        "subresource_uris": {
            name: f"{uri}/{path}.json"
            for name, path in (
                ("notifications", "Notifications"),
                ("recordings", "Recordings"),
                ("payments", "Payments"),
                ("events", "Events"),
                ("siprec", "Siprec"),
                ("streams", "Streams"),
                ("transcriptions", "Transcriptions"),
                ("user_defined_message_subscriptions", "UserDefinedMessageSubscriptions"),
                ("user_defined_messages", "UserDefinedMessages"),
            )
        },
    }


def incoming_number(n: PhoneNumber, account_sid: str) -> dict[str, Any]:
    """api.v2010.account.incoming_phone_number."""
    return {
        "account_sid": account_sid,
        "address_sid": None,
        "address_requirements": "none",
        "api_version": "2010-04-01",
        "beta": False,
        "capabilities": {"mms": False, "sms": False, "voice": True, "fax": False},
        "date_created": rfc2822(n.created),
        "date_updated": rfc2822(n.updated),
        "friendly_name": n.friendly_name,
        "identity_sid": None,
        "phone_number": n.phone_number,
        "origin": "twilio",
        "sid": n.sid,
        "sms_application_sid": None,
        "sms_fallback_method": "POST",
        "sms_fallback_url": None,
        "sms_method": "POST",
        "sms_url": None,
        "status_callback": n.status_callback or None,
        "status_callback_method": n.status_callback_method,
        "trunk_sid": None,
        "uri": f"{API}/Accounts/{account_sid}/IncomingPhoneNumbers/{n.sid}.json",
        "voice_receive_mode": "voice",
        "voice_application_sid": None,
        "voice_caller_id_lookup": False,
        "voice_fallback_method": "POST",
        "voice_fallback_url": None,
        "voice_method": n.voice_method,
        "voice_url": n.voice_url or None,
        "emergency_status": "Inactive",
        "emergency_address_sid": None,
        "emergency_address_status": "unregistered",
        "bundle_sid": None,
        "status": "in-use",
        "type": "local",
    }


def caller_id(n: PhoneNumber, account_sid: str) -> dict[str, Any]:
    """api.v2010.account.outgoing_caller_id."""
    return {
        "sid": n.sid,
        "date_created": rfc2822(n.created),
        "date_updated": rfc2822(n.updated),
        "friendly_name": n.friendly_name,
        "account_sid": account_sid,
        "phone_number": n.phone_number,
        "uri": f"{API}/Accounts/{account_sid}/OutgoingCallerIds/{n.sid}.json",
    }


def v2010_list(
    key: str,
    records: Sequence,
    render: Callable[[Any], dict],
    paging: Paging,
    path: str,
    filters: dict[str, str],
) -> dict[str, Any]:
    """A 2010 API list page with its envelope; URIs are relative, as Twilio sends them."""
    items, more = paging.slice(records)
    page = paging.page
    start = page * paging.page_size
    return {
        key: [render(r) for r in items],
        "end": start + max(len(items) - 1, 0),
        "first_page_uri": f"{path}?{paging.query(filters, 0)}",
        "next_page_uri": f"{path}?{paging.query(filters, page + 1)}" if more else None,
        "page": page,
        "page_size": paging.page_size,
        "previous_page_uri": f"{path}?{paging.query(filters, page - 1)}" if page else None,
        "start": start,
        "uri": f"{path}?{paging.query(filters, page)}",
    }
