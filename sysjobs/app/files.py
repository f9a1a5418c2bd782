"""The files store: CSV imports and exports kept in the database next to the jobs.

An export's ``fileLink`` carries an unguessable token that expires; only its sha256 is
stored, so a database dump does not hand out working links. The host serves the link by
calling :meth:`FilesService.download`, with the token from the link's query string or
from a request header.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sysjobs.app.fields import is_id
from sysjobs.app.ids import new_id
from sysjobs.errors import AccessForbidden, BadRequest, NotFound
from sysjobs.jobs.values import shown
from sysjobs.store.app_misc import AppMiscStore, FileRow

#: How long an export link works.
LINK_TTL = dt.timedelta(hours=24)
#: Path of the download route the host serves (``{id}`` is the file id).
DOWNLOAD_PATH = "/api/files/{id}/download"


@dataclass(frozen=True)
class StoredFile:
    id: str
    name: str
    content_type: str
    content: bytes


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class FilesService:
    def __init__(self, store: AppMiscStore) -> None:
        self.store = store

    def put(self, name: str, content: bytes, content_type: str = "text/csv") -> str:
        """Store a file and return its id."""
        now = dt.datetime.now(dt.UTC)
        row = FileRow(new_id(), name, content_type, content, len(content), None, None, now)
        self.store.insert_file(row)
        return row.id

    def get(self, file_id: str) -> StoredFile:
        if not is_id(file_id):
            raise BadRequest(
                f"Invalid value {shown(file_id)} for parameter 'fileId': "
                "expected 24 hexadecimal characters"
            )
        row = self.store.file(file_id)
        if row is None:
            raise NotFound(f"File '{file_id}' not found.")
        return StoredFile(row.id, row.name, row.content_type, row.content)

    def link(self, file_id: str, ttl: dt.timedelta = LINK_TTL) -> str:
        """A fresh download link for ``file_id`` (replaces any earlier token)."""
        token = secrets.token_urlsafe(32)
        self.store.set_file_token(file_id, _hash(token), dt.datetime.now(dt.UTC) + ttl)
        return DOWNLOAD_PATH.format(id=file_id) + "?token=" + token

    def download(self, file_id: str, token: str | None) -> StoredFile:
        """The file behind a link, if ``token`` is its current, unexpired token."""
        stored = self.get(file_id)
        row = self.store.file(file_id)
        assert row is not None
        if not token or row.token_hash is None or row.token_expires_at is None:
            raise AccessForbidden("A valid download token is required.")
        expires = row.token_expires_at
        if expires.tzinfo is None:  # SQLite returns naive datetimes
            expires = expires.replace(tzinfo=dt.UTC)
        if not hmac.compare_digest(_hash(token), row.token_hash) or expires < dt.datetime.now(
            dt.UTC
        ):
            raise AccessForbidden("The download token is invalid or expired.")
        return stored
