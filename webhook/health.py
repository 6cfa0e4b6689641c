"""The unsigned health route the tunnel self-check calls."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from webhook.version import package_version

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    """Report status, version and public URL, echoing the caller's nonce."""
    return jsonify(
        status="ok",
        version=package_version(),
        public_url=current_app.config.get("PUBLIC_URL") or "",
        nonce=request.args.get("nonce", ""),
    )
