"""The JSON API under /api/v1: mounts each package's blueprint; OpenAPI from the code."""

from __future__ import annotations

import json

from flask import Blueprint, Flask, current_app, request

from hearings.courts.views import api as courts_api
from hearings.errors import MalformedRequest
from hearings.extensions import spec
from hearings.notify.views import api as notify_api
from hearings.openapi import finished_document
from hearings.rooms.views import api as rooms_api
from hearings.scheduling.views import api as scheduling_api
from hearings.witness.views import api as witness_api

api = Blueprint("api", __name__, url_prefix="/api/v1")


@api.before_request
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


@api.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3 description of this API, generated from the routes and their models."""
    extensions = current_app.extensions
    if "hearings.openapi" not in extensions:
        extensions["hearings.openapi"] = finished_document(spec.spec)
    return extensions["hearings.openapi"]


api.register_blueprint(courts_api)
api.register_blueprint(scheduling_api)
api.register_blueprint(rooms_api)
api.register_blueprint(witness_api)
api.register_blueprint(notify_api)


def register_api(app: Flask) -> None:
    """Mount the API and let spectree read its routes for the OpenAPI document."""
    app.register_blueprint(api)
    # Not spec.register(app): that also serves spectree's raw document at
    # /api/docs/openapi.json, which says less than the finished one above (and disagrees).
    spec.app = app
