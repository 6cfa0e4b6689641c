"""Validates sandbox responses against Twilio's own OpenAPI descriptions (openapi-core)."""

from __future__ import annotations

import functools
import json
import os
import re
import threading
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import jsonschema
import requests
from openapi_core import OpenAPI
from openapi_core.configurations import Config
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from console.core.gateways.twilio_http import SandboxHttpClient

SPEC_DIR = Path(os.environ.get("SWITCHBOARD_TWILIO_OAI", "/work/shared/twilio-oai"))
SPECS = {
    "/v1/": ("https://video.twilio.com", "twilio_video_v1.json"),
    "/2010-04-01/": ("https://api.twilio.com", "twilio_api_v2010.json"),
}
E164 = re.compile(r"^\+[1-9]\d{1,14}$")

# Twilio's error body; the specs describe only success responses, so errors are checked here.
ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "code": {"type": "integer"},
        "message": {"type": "string"},
        "more_info": {"type": "string", "pattern": r"^https://www\.twilio\.com/docs/errors/\d+$"},
        "status": {"type": "integer"},
    },
    "required": ["code", "message", "more_info", "status"],
    "additionalProperties": False,
}


def _rfc2822(value: str) -> bool:
    try:
        parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return False
    return bool(
        re.match(r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$", value)
    )


def _iso8601_z(value: str) -> bool:
    return bool(re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$", value))


FORMATS = {
    "date-time-rfc-2822": _rfc2822,
    "phone-number": lambda value: bool(E164.match(value)),
    "date-time": _iso8601_z,
}


RULE_FORMATS = ("subscribe-rule", "recording-rule")


def _unused_filters_may_be_null(rule: dict) -> None:
    """A subscribe or recording rule names only the filters it uses; Twilio's own example
    (SubscribeRules, readEmpty) sends the others as null, which the rule schema forgets."""
    for name, prop in rule.get("properties", {}).items():
        if name != "type":
            prop["nullable"] = True


def _open_free_maps(node):
    """Let objects without declared properties (links, subresource_uris) hold any keys.

    The strict policy below forbids undeclared properties everywhere; Twilio's `uri-map`
    objects declare none, yet Twilio's own examples fill them.
    """
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" not in node:
            node.setdefault("additionalProperties", True)
        if node.get("format") in RULE_FORMATS:
            _unused_filters_may_be_null(node)
        for value in node.values():
            _open_free_maps(value)
    elif isinstance(node, list):
        for value in node:
            _open_free_maps(value)
    return node


@functools.cache
def spec(filename: str) -> OpenAPI:
    """The parsed spec, loaded once per session; every property required, none extra."""
    config = Config(
        extra_format_validators=FORMATS,
        additional_properties_default_policy="forbid",
        response_properties_default_policy="required",
    )
    path = SPEC_DIR / filename
    data = _open_free_maps(json.loads(path.read_text(encoding="utf-8")))
    return OpenAPI.from_dict(data, config=config, base_uri=path.as_uri())


@dataclass
class _Request:
    host_url: str
    path: str
    method: str
    parameters: RequestParameters
    content_type: str = "application/x-www-form-urlencoded"
    body: bytes | None = None


@dataclass
class _Response:
    status_code: int
    data: bytes
    content_type: str
    headers: Headers = field(default_factory=Headers)


class SpecMismatch(AssertionError):
    """A response that does not match Twilio's OpenAPI description."""


def check_response(method: str, url: str, status: int, body: bytes, content_type: str) -> None:
    """Validate one response to a Twilio-path request; raise SpecMismatch if it does not fit."""
    parts = urlsplit(url)
    found = [spec_of for prefix, spec_of in SPECS.items() if parts.path.startswith(prefix)]
    if not found:
        raise SpecMismatch(f"{parts.path} is not a Twilio API path")
    host, filename = found[0]
    where = f"{method} {parts.path} -> {status}"
    if status >= 400:
        try:
            jsonschema.validate(json.loads(body), ERROR_SCHEMA)
        except (ValueError, jsonschema.ValidationError) as error:
            raise SpecMismatch(f"{where}: bad error body: {error}") from None
        if json.loads(body)["status"] != status:
            raise SpecMismatch(f"{method} {parts.path}: error body status != HTTP {status}")
        return
    query = ImmutableMultiDict(parse_qsl(parts.query, keep_blank_values=True))
    request = _Request(host, parts.path, method.lower(), RequestParameters(query=query))
    response = _Response(status, body, content_type.split(";")[0].strip().lower())
    try:
        spec(filename).validate_response(request, response)
    except Exception as error:
        cause = error.__cause__
        details = getattr(cause, "schema_errors", None) or cause or ""
        raise SpecMismatch(f"{where}: {error!r:.300} {details}") from error


class ResponseLog:
    """Counts validated responses, so tests can show validation really ran."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.checked: list[tuple[str, str, int]] = []

    def add(self, method: str, path: str, status: int) -> None:
        with self.lock:
            self.checked.append((method, path, status))


class ValidatingHttpClient(SandboxHttpClient):
    """The SDK's HTTP client for the sandbox, which validates every response against the spec."""

    def __init__(self, base_url: str, log: ResponseLog | None = None) -> None:
        super().__init__(base_url)
        self.log = log or ResponseLog()
        self.last_response = None  # the SDK's Response, checked: what an error's body said

    def request(self, method: str, url: str, *args, **kwargs):
        response = super().request(method, url, *args, **kwargs)
        content_type = response.headers.get("Content-Type", "") if response.headers else ""
        check_response(method, url, response.status_code, response.content.encode(), content_type)
        self.log.add(method.upper(), urlsplit(url).path, response.status_code)
        self.last_response = response
        return response


def check_requests_response(response: requests.Response) -> requests.Response:
    """Validate a response that plain `requests` got from a Twilio path on the sandbox."""
    check_response(
        response.request.method or "GET",
        response.url,
        response.status_code,
        response.content,
        response.headers.get("Content-Type", ""),
    )
    return response
