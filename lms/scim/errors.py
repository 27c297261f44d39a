"""SCIM errors (RFC 7644 §3.12): what a provisioning call answers when it cannot be done."""
from __future__ import annotations


class ScimProblem(Exception):
    """A request the service provider refuses; the view answers it as a SCIM Error message."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type


def not_found(kind: str, resource_id: str) -> ScimProblem:
    return ScimProblem(404, f"No {kind} {resource_id} in this organisation.")


def invalid_value(detail: str) -> ScimProblem:
    return ScimProblem(400, detail, "invalidValue")
