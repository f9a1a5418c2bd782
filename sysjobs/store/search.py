"""How much of a text a substring search reads: its first :data:`SEARCHED_CHARS` characters.

``like(x)`` on a record field and the ``message`` filter of ``logs`` are ``LIKE '%x%'``.
Matching costs up to the pattern's length times the text's (SQLite's ``patternCompare``
retries the pattern at every position: a 1,000-character pattern over 1,000,000 characters
took 1.7 s), and SQLite's progress handler — what stops a script's query at its deadline —
runs *between* VM steps, never inside one ``LIKE``: a single row with a huge text held a
worker (and the GIL) past the script's limit. So only a text's first ``SEARCHED_CHARS``
characters are searched, on both databases alike: with patterns capped at 1,000 characters
(``sysjobs.jobs.values.MAX_PATTERN_CHARS``) one row costs at most ~65 million character
steps (~0.1 s on a 2-core development machine), after which the progress handler or
``statement_timeout`` stops the query at the deadline. It equals the default cap of a
log line (``Caps.max_message_chars``), so by default every log line is searched whole.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

#: Characters of a text (from its start) that ``like()`` and a logs ``message`` filter read.
SEARCHED_CHARS = 65_536


def searched(text: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
    """The part of ``text`` a substring search reads (its first SEARCHED_CHARS characters)."""
    part: sa.ColumnElement[str] = sa.func.substr(text, 1, SEARCHED_CHARS)
    return part
