"""Neo4j Browser links that survive Browser 5's URL handling.

Browser 5 percent-decodes the whole address *before* it splits the parameters, so a `&` or `#`
inside the Cypher ends the query early (and `%`/`+` can be read as escapes or spaces). Inside a
Cypher string literal those characters are written as `\\uXXXX` escapes, which Cypher reads
back as the same characters: the decoded link then holds the full query, and it finds the node.
"""

from __future__ import annotations

import json
import string

# Characters that mean something to a URL after it has been decoded once.
URL_SENSITIVE = "&#%+=?"
_UNRESERVED = frozenset((string.ascii_letters + string.digits + "_.-~").encode())
# `urllib.parse.quote(text, safe="")` as one C-level `str.translate` over the UTF-8 bytes (read
# as Latin-1, one character a byte): quote walks the bytes in Python, ~10 links a response.
_PERCENT = {b: chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in range(256)}


def cypher_string_literal(value: str) -> str:
    """A double-quoted Cypher literal for `value` with URL-sensitive characters escaped."""
    literal = json.dumps(value, ensure_ascii=False)
    for char in URL_SENSITIVE:
        literal = literal.replace(char, f"\\u{ord(char):04x}")
    return literal


def inline_parameters(query: str, params: dict[str, str]) -> str:
    """The query with each `$name` replaced by its literal (longest names first: `$n1` vs `$n10`)."""
    for key in sorted(params, key=len, reverse=True):
        query = query.replace(f"${key}", cypher_string_literal(params[key]))
    return query


def browser_edit_url(base: str, cypher: str) -> str:
    """Opens Browser with `cypher` in the editor (`cmd=edit`), ready to run."""
    return f"{base}?cmd=edit&arg={percent_encode(cypher)}"


def percent_encode(text: str) -> str:
    """Every byte but RFC 3986's unreserved characters as %XX (the same as quote(text, safe=""))."""
    return text.encode("utf-8").decode("latin-1").translate(_PERCENT)
