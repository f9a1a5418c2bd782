"""The files store: CSV imports and exports kept in the database next to the jobs.

An export's ``fileLink`` names the file and holds no secret: as the contract says, whoever
downloads it sends a token in the request's headers. Who may download is the host's
decision (the dashboard allows its admin token only, see :mod:`sysjobs.web.scripts`), so
the link in a job's results — which any script can read — opens nothing by itself. This
module stores and reads files; it knows no HTTP and no tokens.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sysjobs.app.fields import is_id
from sysjobs.app.ids import new_id
from sysjobs.errors import BadRequest, NotFound
from sysjobs.jobs.values import shown
from sysjobs.store.app_misc import AppMiscStore, FileRow

#: Path of the download route the host serves (``{id}`` is the file id).
DOWNLOAD_PATH = "/api/files/{id}/download"


@dataclass(frozen=True)
class StoredFile:
    """A file as stored: its id, name, media type and bytes."""

    id: str
    name: str
    content_type: str
    content: bytes


class FilesService:
    """Put and get files of one app."""

    def __init__(self, store: AppMiscStore) -> None:
        self.store = store

    def put(self, name: str, content: bytes, content_type: str = "text/csv") -> str:
        """Store a file and return its id."""
        now = dt.datetime.now(dt.UTC)
        row = FileRow(new_id(), name, content_type, content, len(content), None, None, now)
        self.store.insert_file(row)
        return row.id

    def get(self, file_id: str) -> StoredFile:
        """The file, ``BadRequest`` for a malformed id, ``NotFound`` for an unknown one."""
        if not is_id(file_id):
            raise BadRequest(
                f"Invalid value {shown(file_id)} for parameter 'fileId': "
                "expected 24 hexadecimal characters"
            )
        row = self.store.file(file_id)
        if row is None:
            raise NotFound(f"File '{file_id}' not found.")
        return StoredFile(row.id, row.name, row.content_type, row.content)

    def link(self, file_id: str) -> str:
        """The download path of ``file_id`` — no token in it: the downloader authenticates."""
        return DOWNLOAD_PATH.format(id=file_id)
