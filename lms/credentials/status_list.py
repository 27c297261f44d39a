"""W3C Bitstring Status List: the published list that says which badges are revoked.

Each badge owns one bit, at a place fixed when it was issued. The list credential is rebuilt
from the awards on every request (revoked_at set: bit 1), signed with the issuer key, and served
as VC-JWT; the badges themselves are never touched. A list holds 131,072 bits, the
specification's minimum, so that one holder's bit hides among many (herd privacy).
"""
from __future__ import annotations

import base64
import gzip
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from lms.addresses import external_url
from lms.certification.models import Award
from lms.clock import now
from lms.credentials import keys
from lms.credentials.models import OpenBadge
from lms.extensions import db

LIST_SIZE = 131_072  # bits; 16 KiB uncompressed
PURPOSE = "revocation"
# How long a verifier may keep a fetched list before asking again.
TTL = timedelta(minutes=5)


def place(award_id: int) -> tuple[int, int]:
    """The list (from 1) and the bit index of an award's badge.

    Derived from the award's id, which is unique and never reused, so two awards issued at the
    same moment can never be given the same bit, without a lock or a counter row.
    """
    return award_id // LIST_SIZE + 1, award_id % LIST_SIZE


def list_url(number: int) -> str:
    return external_url("credentials.status_list_credential", number=number)


def status_entry(award_id: int) -> dict[str, Any]:
    """The credentialStatus of a badge: a BitstringStatusListEntry pointing at its bit."""
    number, index = place(award_id)
    url = list_url(number)
    return {"id": f"{url}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": PURPOSE,
            "statusListIndex": str(index), "statusListCredential": url}


def encode(bits: set[int], size: int = LIST_SIZE) -> str:
    """Multibase base64url (prefix "u", no padding) of the GZIP of the bitstring; bit 0 is the
    most significant bit of the first byte."""
    data = bytearray(size // 8)
    for index in bits:
        data[index // 8] |= 0x80 >> (index % 8)
    compressed = gzip.compress(bytes(data), mtime=0)  # mtime 0: the same list gives the same bytes
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode()


def revoked_indexes(number: int) -> set[int]:
    rows = db.session.scalars(select(OpenBadge.status_index).join(Award, Award.id == OpenBadge.award_id)
                              .where(OpenBadge.status_list == number, Award.revoked_at.is_not(None)))
    return set(rows)


def list_exists(number: int) -> bool:
    return db.session.scalar(select(OpenBadge.id).where(OpenBadge.status_list == number).limit(1)) is not None


def status_list_credential(number: int) -> dict[str, Any]:
    """The BitstringStatusListCredential of list `number`, as of now."""
    url = list_url(number)
    at = now().replace(microsecond=0)
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": keys.issuer_did(),
        "validFrom": at.isoformat().replace("+00:00", "Z"),
        "validUntil": (at + TTL).isoformat().replace("+00:00", "Z"),
        "credentialSubject": {"id": f"{url}#list", "type": "BitstringStatusList", "statusPurpose": PURPOSE,
                              "ttl": int(TTL.total_seconds() * 1000),
                              "encodedList": encode(revoked_indexes(number))},
    }

