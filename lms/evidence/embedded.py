"""Reading back the files we embed in our own PDFs (certificate.json, transcript.json, ...).

Used on stored certificates only, which we rendered ourselves; never on an upload. pyHanko is
imported when a file is read, not when the app loads.
"""
from __future__ import annotations

import io
import json


def embedded_file(pdf: bytes, name: str) -> bytes | None:
    """The bytes of the embedded file called `name`, or None if the PDF has none by that name."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        root = PdfFileReader(io.BytesIO(pdf), strict=False).root
        names = root["/Names"]["/EmbeddedFiles"]["/Names"]
        for index in range(0, len(names) - 1, 2):
            if str(names[index]) == name:
                return names[index + 1].get_object()["/EF"]["/F"].get_object().data
    except (KeyError, PdfError):
        return None
    return None


def embedded_json(pdf: bytes, name: str) -> dict | None:
    """An embedded JSON file, decoded; None when it is missing or not a JSON object."""
    data = embedded_file(pdf, name)
    if data is None:
        return None
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
