"""The unsigned health route the tunnel self-check calls."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from flask import Blueprint, current_app, jsonify, request

bp = Blueprint("health", __name__)


def package_version() -> str:
    """The installed distribution's version."""
    try:
        return version("room-switchboard")
    except PackageNotFoundError:
        return "0+unknown"


@bp.get("/health")
def health():
    """Report status, version and public URL, echoing the caller's nonce."""
    return jsonify(
        status="ok",
        version=package_version(),
        public_url=current_app.config.get("PUBLIC_URL") or "",
        nonce=request.args.get("nonce", ""),
    )
