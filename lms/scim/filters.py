"""The one filter form the academy serves (RFC 7644 §3.4.2.2): `<attribute> eq "<value>"`.

It is what identity providers send to find a person before creating them. Anything else is an
`invalidFilter` (400), never a server error: the filter comes from outside.
"""
from __future__ import annotations

import json
import re

from lms.scim.errors import ScimProblem

_EQUALS = re.compile(r'^\s*([A-Za-z][\w.:-]*)\s+eq\s+("(?:[^"\\]|\\.)*")\s*$', re.IGNORECASE)


def parse_equals(filter_text: str | None, attributes: set[str]) -> tuple[str | None, str | None]:
    """(attribute in lower case, value) of an equality filter on one of `attributes`, or (None, None)."""
    if filter_text is None or not filter_text.strip():
        return None, None
    match = _EQUALS.match(filter_text)
    if match is None:
        raise ScimProblem(400, 'Only filters of the form attribute eq "value" are supported.', "invalidFilter")
    attribute = match.group(1).rsplit(":", 1)[-1].lower()  # a schema-qualified name is the same attribute
    if attribute not in attributes:
        raise ScimProblem(400, f"Filtering on {match.group(1)} is not supported.", "invalidFilter")
    try:
        value = json.loads(match.group(2))
    except ValueError as error:
        raise ScimProblem(400, "The filter's value is not a valid string.", "invalidFilter") from error
    return attribute, value
