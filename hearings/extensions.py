"""Extension objects: created here, bound to the app in ``create_app``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sock import Sock
from flask_sqlalchemy import SQLAlchemy
from spectree import SecurityScheme, SpecTree
from spectree.models import SecureType, SecuritySchemeData
from spectree.plugins.flask_plugin import FlaskPlugin
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from hearings.inputs import DB_ID_MAX, invalid_request
from hearings.openapi import Problem


class Base(DeclarativeBase):
    """Declarative base with constraint names Alembic can find again."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


# Objects stay readable after commit without a reload: a reload after the commit would
# open a new transaction (on SQLite: take the write lock) just to render the response.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
if TYPE_CHECKING:
    # Type checkers can't see through db.Model; at run time it is a subclass of Base.
    Model = Base
else:
    Model = db.Model
migrate = Migrate()


def writes_on_read(view: Any) -> Any:
    """Mark a GET view that writes (an access logged, a join link issued): on SQLite its
    transaction takes the write lock at once, so a concurrent writer can't make it fail."""
    view.writes_on_read = True
    return view


sock = Sock()
login_manager = LoginManager()


def _validation_problem(
    req: Any, resp: Any, error: Exception | None, instance: Any, *rest: Any
) -> None:
    """spectree hook: turn a validation failure into our problem+json 422."""
    if error is not None:
        raise invalid_request(error)


class _Routes(FlaskPlugin):
    """spectree's Flask plugin, knowing our ``id`` path converter: an integer 1 … DB_ID_MAX."""

    def parse_path(self, route: Any, path_parameter_descriptions: Any) -> tuple[str, list]:
        """The OpenAPI path and its parameters (an ``id`` documented as a bounded integer)."""
        rule = str(route).replace("<id:", f"<int(min=1, max={DB_ID_MAX}):")
        return super().parse_path(rule, path_parameter_descriptions)  # type: ignore[arg-type]


#: The OpenAPI document is generated from the routes' pydantic models by spectree.
spec = SpecTree(
    "flask",
    backend=_Routes,
    title="hearings: video hearings of the Luoyang and Luohe intermediate courts",
    version="1",
    # spectree's own copy would be under /api/docs; it is not served (hearings.api serves the
    # finished document at /api/v1/openapi.json).
    path="api/docs",
    page_templates={},
    mode="strict",
    annotations=True,
    validation_error_status=422,
    # The hook below answers a validation failure with a problem document.
    validation_error_model=Problem,
    before=_validation_problem,
    security_schemes=[
        SecurityScheme(
            name="bearer",
            data=SecuritySchemeData(type=SecureType.HTTP, scheme="bearer", bearer_format="JWT"),
        )
    ],
    security={"bearer": []},
)
