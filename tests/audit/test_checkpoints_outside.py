"""Checkpoints kept outside the database: the append-only file, `lms audit checkpoint --out`,
`lms audit verify --checkpoint`, and the daily e-mail to auditors (over a real SMTP server)."""
from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, text

from lms.accounts.models import Role
from lms.audit.checkpoints import checkpoint_note, notes_in, parse_notes
from lms.audit.models import AuditCheckpoint
from lms.audit.publishing import publish, seal_and_publish
from lms.audit.services import latest_checkpoint, record
from lms.audit.verify import verify
from lms.extensions import db
from lms.reminders.models import Message, MessageKind
from tests import factories
from tests.reminders.conftest import at, send, smtp  # noqa: F401 (fixtures)


@pytest.fixture
def published(app: Flask, signing_key, tmp_path: Path) -> Path:
    """Eight events sealed in three seals (sizes 3, 5 and 8), each checkpoint appended to the file."""
    path = tmp_path / "outside" / "checkpoints.txt"
    app.config["AUDIT_CHECKPOINT_FILE"] = str(path)
    for i in range(8):
        record("test.event", target_type="thing", target_id=i, actor_label=f"person{i}@example.org", n=i)
        db.session.commit()
        if i in (2, 4, 7):
            seal_and_publish()
    return path


def _cli(runner, *args: str):
    return runner.invoke(args=["lms", "audit", *args])


def _truncate_to(size: int) -> None:
    """What an administrator with SQL access can do unseen inside the database: drop the newest
    leaves, their events and the checkpoints that cover them."""
    db.session.execute(text("DELETE FROM audit_checkpoint WHERE tree_size > :n"), {"n": size})
    seqs = [row[0] for row in db.session.execute(text('SELECT event_seq FROM audit_leaf WHERE "index" >= :n'),
                                                 {"n": size})]
    db.session.execute(text('DELETE FROM audit_leaf WHERE "index" >= :n'), {"n": size})
    for seq in seqs:
        db.session.execute(text("DELETE FROM audit_personal WHERE event_seq = :s"), {"s": seq})
        db.session.execute(text("DELETE FROM audit_event WHERE seq = :s"), {"s": seq})
    db.session.commit()


def test_every_seal_appends_its_signed_checkpoint_to_the_file(app, published):
    notes = parse_notes(published.read_text())
    stored = db.session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size)).all()
    assert [n.tree_size for n in notes] == [c.tree_size for c in stored] == [3, 5, 8]
    assert [n.root.hex() for n in notes] == [c.root_hash for c in stored]
    assert published.read_text().endswith(checkpoint_note(stored[-1]))
    assert publish() == 0  # nothing new: nothing appended twice
    assert len(parse_notes(published.read_text())) == 3


def test_checkpoint_out_writes_the_latest_note_and_verify_checks_it(app, published, runner, tmp_path):
    out = tmp_path / "kept.txt"
    result = _cli(runner, "checkpoint", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_text() == checkpoint_note(latest_checkpoint())
    result = _cli(runner, "verify", "--checkpoint", str(out), "--checkpoint", str(published))
    assert result.exit_code == 0, result.output
    assert "Audit log intact: 8 leaves" in result.output
    assert "The log extends the 4 given checkpoint(s): consistency proof from tree size 3 to today's 8" in result.output


def test_a_truncated_log_passes_the_plain_verify_but_not_against_a_kept_checkpoint(app, published, runner):
    _truncate_to(5)
    plain = _cli(runner, "verify")
    assert plain.exit_code == 0 and "Audit log intact: 5 leaves" in plain.output  # the database alone cannot tell
    result = _cli(runner, "verify", "--checkpoint", str(published))
    assert result.exit_code == 1
    assert "Audit log broken at leaf #5: the tree ends at 5 leaves, but a given checkpoint has 8" in result.output


def test_a_rewritten_event_is_caught_against_the_kept_checkpoints_naming_the_first_bad_leaf(app, published, runner):
    db.session.execute(text("UPDATE audit_event SET target_id = '99' WHERE seq = 4"))
    db.session.commit()
    result = _cli(runner, "verify", "--checkpoint", str(published))
    assert result.exit_code == 1 and "leaf #3 (event #4)" in result.output and "edited" in result.output


def test_the_sealer_refuses_to_continue_a_file_the_log_no_longer_matches(app, published, caplog):
    _truncate_to(5)
    with pytest.raises(ValueError, match="ends with a checkpoint at tree size 8 that this log does not hold"):
        publish()
    record("test.after")
    db.session.commit()
    with caplog.at_level(logging.ERROR, logger="lms.audit.publishing"):
        assert seal_and_publish().tree_size == 6  # the seal itself goes on; the alarm is logged
    assert "was sealed but not appended" in caplog.text and "does not hold" in caplog.text
    assert [n.tree_size for n in parse_notes(published.read_text())] == [3, 5, 8]  # nothing appended


def test_a_failed_append_is_caught_up_by_the_next_seal(app, signing_key, tmp_path, caplog):
    blocker = tmp_path / "outside"
    blocker.write_text("a file where the directory should be")
    app.config["AUDIT_CHECKPOINT_FILE"] = str(blocker / "checkpoints.txt")
    record("test.one")
    db.session.commit()
    with caplog.at_level(logging.ERROR, logger="lms.audit.publishing"):
        assert seal_and_publish().tree_size == 1
    assert "was sealed but not appended" in caplog.text
    blocker.unlink()
    record("test.two")
    db.session.commit()
    seal_and_publish()
    assert [n.tree_size for n in parse_notes((blocker / "checkpoints.txt").read_text())] == [1, 2]


def test_a_forged_or_malformed_checkpoint_file_is_refused_with_its_reason(app, published, runner, tmp_path):
    note = checkpoint_note(latest_checkpoint())
    forged = tmp_path / "forged.txt"
    forged.write_text(note.replace("\n8\n", "\n9\n"))  # a bigger tree than was signed
    result = _cli(runner, "verify", "--checkpoint", str(forged))
    assert result.exit_code == 1 and "the given checkpoint at tree size 9 is not signed by a trusted key" in result.output
    broken = tmp_path / "broken.txt"
    broken.write_text(note + "\nCallSafe Academy audit log\nnot a size\n")
    result = _cli(runner, "verify", "--checkpoint", str(broken))
    assert result.exit_code != 0 and f"{broken}: line 8:" in result.output
    json_file = tmp_path / "other.json"
    json_file.write_text('{"document": "something else"}')
    result = _cli(runner, "verify", "--checkpoint", str(json_file))
    assert result.exit_code != 0 and "audit_checkpoint.note" in result.output


def test_the_daily_run_mails_the_checkpoint_to_company_wide_auditors(app, published, smtp, send, at, runner,
                                                                      tmp_path):
    partner = factories.organisation("Atlas Care")
    auditor = factories.user(Role.AUDITOR, email="auditor@example.org")
    factories.user(Role.AUDITOR, email="scoped@example.org", scope=partner)  # sees one partner only
    factories.user(Role.AUDITOR, email="former@example.org", active=False)
    db.session.commit()
    app.config["AUDIT_CHECKPOINT_RECIPIENTS"] = "archive@outside.example, auditor@example.org"
    send()
    send()  # the same day again: nothing sent twice
    queued = db.session.scalars(select(Message).where(Message.kind == MessageKind.AUDIT_CHECKPOINT)).all()
    assert sorted(m.recipient for m in queued) == ["archive@outside.example", "auditor@example.org"]
    assert sorted(m["To"] for m in smtp.messages) == ["archive@outside.example", "auditor@example.org"]
    mail = smtp.to(auditor.email)[0]
    assert mail["Subject"].endswith(": 8 events")
    body = mail.get_content()  # as a mail client shows it: CRLF line ends
    kept = re.search(r"----- checkpoint -----\r?\n(.*?)----- end -----", body, re.S).group(1)
    assert kept.replace("\r\n", "\n") == checkpoint_note(latest_checkpoint())
    saved = tmp_path / "from-mail.txt"
    saved.write_bytes(kept.encode())  # saved as it is, CRLF and all
    assert notes_in(saved.read_text())[0].tree_size == 8
    _truncate_to(5)
    result = _cli(runner, "verify", "--checkpoint", str(saved))
    assert result.exit_code == 1 and "a given checkpoint has 8" in result.output


def test_no_checkpoint_mail_before_the_first_seal(app, signing_key, smtp, send, at):
    factories.user(Role.AUDITOR, email="auditor@example.org")
    db.session.commit()
    send()
    assert smtp.to("auditor@example.org") == []
    assert verify().ok


def test_a_signature_wrapped_by_a_mail_client_or_a_pdf_still_reads(app, published, runner, tmp_path):
    note = checkpoint_note(latest_checkpoint())
    body, signature_line = note.rstrip("\n").rsplit("\n", 1)
    dash, key_id, signature = signature_line.split(" ")
    wrapped = f"{body}\n{dash} {key_id}\n{signature[:30]}\n{signature[30:]}\n"
    kept = tmp_path / "wrapped.txt"
    kept.write_text("\n" + note + "\n" + wrapped)  # two notes, the second one wrapped
    assert [n.signature for n in parse_notes(kept.read_text())] == [signature, signature]
    result = _cli(runner, "verify", "--checkpoint", str(kept))
    assert result.exit_code == 0, result.output
