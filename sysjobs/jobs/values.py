"""What a value from a script must be before it reaches an encoder, a parser or the database.

Every rule here is written once and used wherever script input enters (the ``sys.jobs`` and
``sys.data`` argument models, the ``find``/``logs`` query maps, the records query language),
with one message shape: ``Invalid value <value> for parameter '<name>'. Allowed values: …``.

The rules, and why:

* **Numbers are finite.** ``NaN`` and ``±Infinity`` are refused, never dropped: a dropped
  bound silently widens a filter to "everything".
* **Integers fit the database's 64-bit columns**, and millisecond timestamps lie in what a
  JavaScript ``Date`` can hold (±8.64e15 ms; only ``>= 0`` for job times), so no
  ``OverflowError`` ever comes from a driver; a record's date field takes years 1 to 9999.
* **Lone UTF-16 surrogates are refused** (``'\\ud800'``) where a script hands text in:
  neither SQLite nor PostgreSQL can encode them, and a replacement would not be the text the
  script gave. Paired surrogates (emoji) are ordinary characters by the time they reach
  Python. Text the *host* writes on a script's behalf — the message of an error a script
  threw, a ``log()`` line, a script's results — cannot be refused without losing it: there
  each lone surrogate is kept as the six characters ``\\udXXX`` (:func:`escape_surrogates`,
  :func:`escape_surrogates_in`), the same on both databases.
* **Text that becomes a SQL pattern is capped** at :data:`MAX_PATTERN_CHARS`: matching cost
  grows with pattern times text, and SQLite refuses patterns past 50,000 bytes. The text
  side is capped in the store: a search reads a text's first
  :data:`~sysjobs.store.search.SEARCHED_CHARS` characters (``sysjobs/store/search.py``).
* **Values are shown, not ``repr``-ed**: strings in single quotes (lone surrogates escaped,
  cut at :data:`SHOWN_CHARS`), everything else as JSON — never Python's spelling.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from sysjobs.errors import BadRequest

#: Largest integer a 64-bit signed database column holds.
INT64_MAX = 2**63 - 1
#: The last millisecond a JavaScript ``Date`` can represent (year 275760).
MAX_MS = 8_640_000_000_000_000
#: The first and last millisecond of a calendar date a record field can hold (years 1-9999).
MIN_DATE_MS = -62_135_596_800_000
MAX_DATE_MS = 253_402_300_799_999
#: Characters of a text filter that becomes a ``LIKE`` pattern (``message``, ``like(…)``).
MAX_PATTERN_CHARS = 1000
#: Characters of a value quoted back in an error message.
SHOWN_CHARS = 80
#: How deep a ``sys.data`` argument may nest (objects and arrays).
MAX_DEPTH = 64
MS_ALLOWED = f"a timestamp in milliseconds since the epoch (integer from 0 to {MAX_MS})"
#: Digits of a whole number given as text (2^63 has 19; Python refuses to read 4300+).
_MAX_DIGITS = 20
_SURROGATE = re.compile("[\ud800-\udfff]")
#: One escape sequence of JSON text (a backslash and what it escapes, ``\\uXXXX`` whole).
_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{4}|.)")


def shown(value: Any) -> str:
    """``value`` as messages quote it: strings in single quotes, the rest as JSON."""
    if isinstance(value, str):
        text = value if len(value) <= SHOWN_CHARS else value[:SHOWN_CHARS] + "…"
        return "'" + escape_surrogates(text) + "'"
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=True, default=_type_name)
    except (ValueError, RecursionError):  # circular or too deep: say what it is
        text = type(value).__name__
    text = text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"
    return escape_surrogates(text)


def _type_name(value: object) -> str:
    return f"<{type(value).__name__}>"


def bad(parameter: str, value: Any, allowed: str) -> BadRequest:
    """The one message for a value a parameter does not accept."""
    return BadRequest(
        f"Invalid value {shown(value)} for parameter '{parameter}'. Allowed values: {allowed}"
    )


def has_lone_surrogate(text: str) -> bool:
    """Whether ``text`` holds a UTF-16 surrogate no encoder can write (linear, in C)."""
    return _SURROGATE.search(text) is not None


def escape_surrogates(text: str) -> str:
    """``text`` with each lone surrogate written as ``\\udXXX`` (safe to print and encode)."""
    if not has_lone_surrogate(text):
        return text
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


#: Values without text (``bool``, ``int``, ``float``: json.dumps writes them without a string).
_PLAIN = (bool, int, float)


def _plain_record(value: Any) -> bool:
    """Whether ``value`` is a flat dict of ASCII keys without NUL and plain values (None,
    bool, int, float): no text in it to escape. A script job's results are most often
    ``{"value": <a number>}``, and every job's end asks this of them."""
    if type(value) is not dict:
        return False
    for key, item in value.items():
        if type(key) is not str or not key.isascii() or "\0" in key:
            return False
        if item is not None and type(item) not in _PLAIN:
            return False
    return True


def escape_surrogates_in(value: Any) -> Any:
    """``value`` (JSON data) with :func:`escape_surrogates` applied to every string and key,
    and each NUL character written as U+FFFD (as in log lines: PostgreSQL cannot turn
    ``\\u0000`` into text, and a job whose results hold one could never end).

    The common case costs one ``json.dumps`` and two searches; only a value that holds a
    lone surrogate or a NUL is rebuilt (each surrogate written into the JSON text as an
    escaped backslash, so it reads back as the six characters ``\\udXXX``)."""
    if value is None or type(value) in _PLAIN or _plain_record(value):  # no text to escape
        return value
    text = json.dumps(value, ensure_ascii=False, default=str)
    nul = "\\u0000" in text
    if not nul and not has_lone_surrogate(text):
        return value
    if nul:  # every backslash in JSON text starts an escape: match them whole, in order
        text = _ESCAPE.sub(lambda m: "\ufffd" if m.group() == "\\u0000" else m.group(), text)
    return json.loads(_SURROGATE.sub(lambda m: f"\\\\u{ord(m.group()):04x}", text))


def check_text(value: Any, parameter: str, *, max_chars: int | None = None) -> str:
    """A string without lone surrogates (and at most ``max_chars`` long when given)."""
    if not isinstance(value, str):
        raise bad(parameter, value, "a string")
    if has_lone_surrogate(value):
        raise bad(parameter, value, "text without lone UTF-16 surrogates (e.g. '\\ud800')")
    if max_chars is not None and len(value) > max_chars:
        raise bad(parameter, value, f"a string of at most {max_chars} characters")
    return value


def check_pattern(value: Any, parameter: str) -> str:
    """Text searched for with ``LIKE``: no NUL, no lone surrogate, capped length."""
    text = check_text(value, parameter, max_chars=MAX_PATTERN_CHARS)
    if "\x00" in text:
        raise bad(parameter, value, "a string without NUL characters")
    return text


def whole_number(value: Any) -> int | None:
    """``value`` as an int if it is one (an int, an integral float, or a string of digits)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    text = value.strip() if isinstance(value, str) else ""
    if 0 < len(text) <= _MAX_DIGITS and text.isascii() and text.isdigit():
        return int(text)
    return None


def check_int(value: Any, parameter: str, low: int, high: int, allowed: str = "") -> int:
    """A whole number in ``[low, high]``; ``allowed`` describes it (default: the range)."""
    number = whole_number(value)
    if number is None or not low <= number <= high:
        raise bad(parameter, value, allowed or f"an integer from {low} to {high}")
    return number


def check_ms(value: Any, parameter: str) -> int:
    """A job time: milliseconds since the epoch, from 0 to :data:`MAX_MS`."""
    return check_int(value, parameter, 0, MAX_MS, MS_ALLOWED)


def check_json(value: Any, parameter: str) -> Any:
    """``value`` if every number in it is finite and fits 64 bits, every string (and key)
    is free of lone surrogates and it nests at most :data:`MAX_DEPTH` deep. A refusal names
    the path to the value (``query.employees``), as the script spelled it.

    A quick pass without paths decides first (a record's save walked its every key into a
    path string: most of the check's cost); only a value it does not pass walks again,
    building the paths, for the refusal's message — or to find nothing wrong after all."""
    if not surely_json_clean(value):
        _walk(value, parameter, 0)
    return value


def check_no_nul(value: Any, parameter: str) -> Any:
    """``value`` (JSON data) if no string or key in it holds NUL, else ``badRequest``
    naming ``parameter``: a job's data holding one could not be written on PostgreSQL
    (``\\u0000 cannot be converted to text``), and SQLite would keep what PostgreSQL cannot."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    if "\\u0000" in text and any(m.group() == "\\u0000" for m in _ESCAPE.finditer(text)):
        raise bad(parameter, value, "JSON data without NUL characters ('\\u0000')")
    return value


def surely_json_clean(value: Any) -> bool:
    """True when :func:`check_json` surely refuses nothing in ``value`` (a quick pass, no
    paths built); False says only "maybe": let ``check_json`` decide and word it."""
    return _clean(value, 0)


def _clean(value: Any, depth: int) -> bool:
    """True when :func:`_walk` surely finds nothing to refuse in ``value`` (JSON's own
    types only; anything else is left to the walk)."""
    if depth > MAX_DEPTH:
        return False
    kind = type(value)
    if kind is str:
        return _SURROGATE.search(value) is None
    if kind is dict:
        return all(
            type(key) is str and _SURROGATE.search(key) is None and _clean(item, depth + 1)
            for key, item in value.items()
        )
    if kind is list:
        return all(_clean(item, depth + 1) for item in value)
    if kind is int:
        return bool(-INT64_MAX - 1 <= value <= INT64_MAX)
    if kind is float:
        return math.isfinite(value)
    return value is None or kind is bool


def _walk(value: Any, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise BadRequest(
            f"Invalid value for parameter '{path}': nested more than {MAX_DEPTH} levels deep"
        )
    if isinstance(value, str):
        check_text(value, path)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if not -INT64_MAX - 1 <= value <= INT64_MAX:
            raise bad(path, value, f"integers from {-INT64_MAX - 1} to {INT64_MAX}")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise bad(path, value, "finite numbers (not NaN or ±Infinity)")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            name = f"{path}.{_key(key)}"
            if isinstance(key, str):
                check_text(key, name)
            _walk(item, name, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            _walk(item, path, depth + 1)


def _key(key: object) -> str:
    """A map key as a path part: surrogates escaped, cut at 40 characters."""
    text = escape_surrogates(str(key))
    return text if len(text) <= 40 else text[:40] + "…"


def log_row(level: str, message: object, info: Any, ts_ms: int) -> dict[str, Any]:
    """A validated log row (``message`` must be a string) stamped ``ts_ms``.

    Every line the host writes passes here — a failed script's error, a ``log()`` line —
    so a lone surrogate in it is kept as ``\\udXXX`` text, not an encoder error.
    """
    if not isinstance(message, str):
        raise BadRequest(
            f"Invalid value {shown(message)} for parameter 'message'. Allowed values: a string"
        )
    message, info = escape_surrogates(message), escape_surrogates_in(info)
    return {"ts_ms": ts_ms, "level": level, "message": message, "additional_info": info}
