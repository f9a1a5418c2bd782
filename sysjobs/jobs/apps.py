"""App keys: which app a row of the shared database belongs to.

Many apps may share one database; every row that belongs to an app carries the app's key
and every query is scoped by it. An app's key is its manifest ``name``; a Host without an
app folder (the demo app) uses :data:`DEFAULT_APP`. Rows written before apps had keys are
marked :data:`UNOWNED` by the migration until the first app that opens the database
claims them (see ``docs/many-apps.md``); no key can be spelled like the sentinel, so no
app reads an unowned row.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints, TypeAdapter, ValidationError

from sysjobs.errors import BadRequest
from sysjobs.jobs.values import shown

#: The key of a Host without an app folder.
DEFAULT_APP = "default"
#: The key rows carry while they belong to no app yet (an upgraded single-app database).
UNOWNED = ""
#: The form of a key, as error messages state it.
KEY_FORM = "1 to 64 characters: letters, digits, '_', '-' or '.', starting with a letter or digit"

AppKey = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$", strict=True)
]
_ADAPTER: TypeAdapter[str] = TypeAdapter(AppKey)


def check_app_key(value: object, parameter: str = "app") -> str:
    """``value`` as an app key, or ``BadRequest`` naming ``parameter`` and the allowed form."""
    try:
        return _ADAPTER.validate_python(value)
    except ValidationError:
        raise BadRequest(
            f"Invalid value {shown(value)} for parameter '{parameter}'. Allowed values: {KEY_FORM}"
        ) from None
