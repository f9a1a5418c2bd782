"""The app's users: seeded from the manifest, imported from and exported to CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable

from pydantic import ValidationError

from sysjobs.app.ids import new_id
from sysjobs.app.manifest import UserDef
from sysjobs.errors import BadRequest
from sysjobs.store.app_misc import AppMiscStore, UserRow

#: CSV columns of user imports and exports.
USER_COLUMNS = ("email", "firstName", "lastName")


class UsersService:
    def __init__(self, store: AppMiscStore) -> None:
        self.store = store

    def all(self) -> list[UserRow]:
        return self.store.users()

    def add(self, user: UserDef) -> UserRow:
        """Create a user; ``BadRequest`` when the email is taken."""
        if self.store.user_by_email(user.email) is not None:
            raise BadRequest(f"Invalid value '{user.email}' for field 'email': already a user")
        row = UserRow(new_id(), user.email, user.first_name, user.last_name,
                      dt.datetime.now(dt.UTC))
        self.store.insert_user(row)
        return row

    def seed(self, users: Iterable[UserDef]) -> None:
        for user in users:
            if self.store.user_by_email(user.email) is None:
                self.add(user)

    def parse_row(self, row: dict[str, str | None]) -> UserDef:
        """One CSV row as a user, or ``BadRequest`` saying what is wrong with it."""
        try:
            return UserDef.model_validate(
                {k: (row.get(k) or "").strip() for k in USER_COLUMNS}
            )
        except ValidationError as exc:
            err = exc.errors()[0]
            raise BadRequest(f"column '{err['loc'][0]}': {err['msg']}") from exc

    def export_csv(self) -> tuple[bytes, int]:
        """Every user as CSV, and how many there are."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(USER_COLUMNS)
        users = self.all()
        for user in users:
            writer.writerow([user.email, user.first_name, user.last_name])
        return out.getvalue().encode("utf-8"), len(users)
