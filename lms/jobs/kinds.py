"""The registry of job kinds: a name, a label for people, and the function that does the work."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lms.jobs import exports
from lms.jobs.context import JobContext, OutputFile
from lms.privacy import erasure_job
from lms.roster import job as roster_job
from lms.xapi import export as xapi_export


@dataclass(frozen=True)
class JobKind:
    name: str
    label: str
    run: Callable[[JobContext], Sequence[OutputFile]]


_REGISTRY: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    """Add a kind (a later name replaces an earlier one, so tests can register their own)."""
    _REGISTRY[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def get(name: str) -> JobKind | None:
    return _REGISTRY.get(name)


def all_kinds() -> list[JobKind]:
    return list(_REGISTRY.values())


def export_kinds() -> list[JobKind]:
    """The kinds people start from the exports page, in the order the form lists them."""
    return [_REGISTRY[name] for name in exports.EXPORT_KINDS if name in _REGISTRY]


register(JobKind(exports.CERTIFICATES_ZIP, "All certificates (ZIP with manifest)", exports.certificates_zip))
register(JobKind(exports.EVIDENCE_PACK, "Evidence pack (PDF, JSON and roster CSV)", exports.evidence_pack))
register(JobKind(erasure_job.KIND, "Erasure of personal data (Art. 17)", erasure_job.run_erasure))
register(JobKind(xapi_export.KIND, xapi_export.LABEL, xapi_export.ndjson_export))
register(JobKind(roster_job.KIND, roster_job.LABEL, roster_job.run_import))
