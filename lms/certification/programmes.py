"""Programmes from the content files: certification keeps its own rows in step with them.

Learning reads and validates the files once and sends `signals.content_loaded` with the parsed
tree; the receiver below syncs the programmes into versions by the same rules as courses and
quizzes (lms.learning.sync), into the same load report and transaction.
"""
from __future__ import annotations

from lms import signals
from lms.certification.models import Programme, ProgrammeVersion
from lms.content import ContentTree
from lms.content import model as spec
from lms.learning.sync import LoadReport, sync_single, sync_versioned


@signals.content_loaded.connect
def _sync_programmes(actor: object, tree: ContentTree, report: LoadReport, keep: bool, **_: object) -> None:
    sync_versioned("programme", Programme, ProgrammeVersion.programme_id, tree.programmes,
                   _new_programme_version, report, keep)


def sync_programme(item: spec.Programme) -> tuple[ProgrammeVersion, LoadReport]:
    """Sync ONE validated programme (authoring's publish), touching nothing else; flush only."""
    return sync_single("programme", Programme, ProgrammeVersion.programme_id, item, _new_programme_version)


def _new_programme_version(row: Programme, programme: spec.Programme) -> ProgrammeVersion:
    return ProgrammeVersion(programme=row, content_hash=programme.content_hash, title=programme.title,
                            spec=dict(programme.source))
