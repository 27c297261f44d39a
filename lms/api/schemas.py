"""The API's request and reply shapes (marshmallow): they validate what comes in and generate the
OpenAPI document, so the document cannot drift from what the endpoints do."""
from __future__ import annotations

from datetime import UTC

from marshmallow import Schema, ValidationError, fields, validate

from lms.api.clearance import MAX_BATCH
from lms.certification.status import Status

STATUSES = [s.value for s in Status]


class Moment(fields.DateTime):
    """An ISO 8601 moment; without an offset it is read as UTC."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        except (OverflowError, ValueError) as error:  # an offset that pushes it past year 1 or 9999
            raise ValidationError("Not a moment this API can answer for.") from error


# PostgreSQL refuses NUL in text: a value holding one is the client's error, not a failed query.
# As a pattern, the document says so too.
NO_NUL_PATTERN = r"^[^\x00]*$"
_NO_NUL = validate.Regexp(NO_NUL_PATTERN, error="Must not contain NUL characters.")


ID_LENGTH = 60  # at most, per agent reference


class AgentRefs(fields.List):
    """A list of agent references. A list of well-formed ones passes in one sweep; anything else goes
    through each item's own field, for its errors. A thousand String fields one by one took a tenth
    of a batch's time (bench/clearance.py)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, list) and all(type(ref) is str and 1 <= len(ref) <= ID_LENGTH and "\x00" not in ref
                                           for ref in value):
            return list(value)
        return super()._deserialize(value, attr, data, **kwargs)


class ClearanceQuery(Schema):
    programme = fields.String(validate=[validate.Length(1, 100), _NO_NUL],
                              metadata={"description": "Only this programme (its slug); default: every mandatory one"})
    at = Moment(metadata={"description": "The moment asked about (ISO 8601, UTC if no offset); default: now"})


class BatchRequest(ClearanceQuery):
    ids = AgentRefs(fields.String(validate=[validate.Length(1, ID_LENGTH), _NO_NUL]), required=True,
                      validate=validate.Length(1, MAX_BATCH,
                                               error=f"Send between 1 and {MAX_BATCH} ids per request."),
                      metadata={"description": "Agent ids, or employee:<employee id>"})


class Reason(Schema):
    programme = fields.String(allow_none=True, required=True)
    status = fields.String(required=True, metadata={"description": "a certification status, or not_assigned"})
    message = fields.String(required=True)
    due_at = fields.DateTime(allow_none=True, required=True)
    valid_until = fields.DateTime(allow_none=True, required=True)


class ProgrammeStanding(Schema):
    programme = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    due_at = fields.DateTime(required=True)
    valid_until = fields.DateTime(allow_none=True, required=True)
    certificate_code = fields.String(allow_none=True, required=True)


class ClearanceReply(Schema):
    id = fields.String(required=True, metadata={"description": "The id as asked"})
    agent_id = fields.Integer(required=True)
    employee_id = fields.String(allow_none=True, required=True)
    organisation_id = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    cleared = fields.Boolean(required=True, metadata={"description": "May take live calls at `at`"})
    valid_until = fields.DateTime(allow_none=True, required=True,
                                  metadata={"description": "When the clearance ends unless renewed"})
    certificate_codes = fields.List(fields.String(), required=True)
    programmes = fields.List(fields.Nested(ProgrammeStanding), required=True)
    reasons = fields.List(fields.Nested(Reason), required=True,
                          metadata={"description": "What is missing, overdue or expiring, and when"})


class BatchItem(Schema):
    """One id of a batch: found=true and the fields of a clearance, or found=false and an error."""

    id = fields.String(required=True, metadata={"description": "The id as asked"})
    found = fields.Boolean(required=True)
    error = fields.String()
    agent_id = fields.Integer()
    employee_id = fields.String(allow_none=True)
    organisation_id = fields.Integer()
    at = fields.DateTime()
    cleared = fields.Boolean()
    valid_until = fields.DateTime(allow_none=True)
    certificate_codes = fields.List(fields.String())
    programmes = fields.List(fields.Nested(ProgrammeStanding))
    reasons = fields.List(fields.Nested(Reason))


class BatchReply(Schema):
    at = fields.DateTime(required=True)
    results = fields.List(fields.Nested(BatchItem), required=True)


class PageQuery(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=100, validate=validate.Range(1, 500))


class AgentsQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(STATUSES))
    programme = fields.String(validate=[validate.Length(1, 100), _NO_NUL])
    at = Moment()


class AgentStanding(Schema):
    agent_id = fields.Integer(required=True)
    employee_id = fields.String(allow_none=True, required=True)
    organisation_id = fields.Integer(required=True)
    programme = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    due_at = fields.DateTime(required=True)
    valid_until = fields.DateTime(allow_none=True, required=True)
    certificate_code = fields.String(allow_none=True, required=True)


class Page(Schema):
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    next_page = fields.Integer(allow_none=True, required=True, metadata={"description": "null on the last page"})


class AgentsPage(Page):
    at = fields.DateTime(required=True)
    items = fields.List(fields.Nested(AgentStanding), required=True)


class AwardsQuery(PageQuery):
    agent_id = fields.Integer(validate=validate.Range(1, 2**31 - 1))
    programme = fields.String(validate=[validate.Length(1, 100), _NO_NUL])


class AwardItem(Schema):
    id = fields.Integer(required=True)
    agent_id = fields.Integer(required=True)
    organisation_id = fields.Integer(required=True)
    programme = fields.String(required=True)
    issued_at = fields.DateTime(required=True)
    valid_until = fields.DateTime(required=True)
    revoked_at = fields.DateTime(allow_none=True, required=True)
    certificate_code = fields.String(required=True)
    verify_url = fields.String(required=True, metadata={"description": "The public verification page"})


class AwardsPage(Page):
    items = fields.List(fields.Nested(AwardItem), required=True)


class EvidencePackItem(Schema):
    id = fields.Integer(required=True)
    organisation_id = fields.Integer(allow_none=True, required=True)
    state = fields.String(required=True, validate=validate.OneOf(["queued", "running", "succeeded", "failed"]))
    progress_done = fields.Integer(required=True)
    progress_total = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(allow_none=True, required=True)


class EvidencePacksPage(Page):
    items = fields.List(fields.Nested(EvidencePackItem), required=True)
