"""The JSON API under /api/v1: each package mounts its blueprint from its ``init_app``
(``mount``); ``init_app`` here puts them under the prefix with the API's own checks, and
serves the OpenAPI document generated from the code."""

from __future__ import annotations

import json

from flask import Blueprint, Flask, current_app, request

from hearings.errors import MalformedRequest
from hearings.extensions import spec
from hearings.openapi import finished_document

PREFIX = "/api/v1"
_MOUNTED = "hearings.api.mounted"


def mount(app: Flask, blueprint: Blueprint) -> None:
    """Put a package's API blueprint under /api/v1 (called from the package's init_app)."""
    app.extensions.setdefault(_MOUNTED, []).append(blueprint)


def _require_well_formed_json() -> None:
    """A body that is not a JSON object is malformed (400), whatever else it says."""
    if request.method not in ("POST", "PATCH", "PUT") or not request.get_data():
        return
    if not request.is_json:
        raise MalformedRequest("json-required")
    try:
        body = json.loads(request.get_data())
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedRequest("json-invalid", reason=str(error)) from None
    if not isinstance(body, dict):
        raise MalformedRequest("json-not-object")


def openapi_document():  # type: ignore[no-untyped-def]
    """The OpenAPI 3 description of this API, generated from the routes and their models."""
    extensions = current_app.extensions
    if "hearings.openapi" not in extensions:
        extensions["hearings.openapi"] = finished_document(spec.spec)
    return extensions["hearings.openapi"]


def init_app(app: Flask) -> None:
    """Register the API (after the packages have mounted theirs) and let spectree read its
    routes for the OpenAPI document."""
    api = Blueprint("api", __name__, url_prefix=PREFIX)
    api.before_request(_require_well_formed_json)
    api.add_url_rule("/openapi.json", view_func=openapi_document, methods=["GET"])
    for blueprint in app.extensions.get(_MOUNTED, []):
        api.register_blueprint(blueprint)
    app.register_blueprint(api)
    # Not spec.register(app): that also serves spectree's raw document at
    # /api/docs/openapi.json, which says less than the finished one above (and disagrees).
    spec.app = app
