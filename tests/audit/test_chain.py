"""Audit log v2: the sealer builds the Merkle tree; the verifier catches every kind of tampering
and names the first bad leaf; erasing a person's data breaks nothing."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from lms.accounts.models import Role
from lms.audit import merkle
from lms.audit.checkpoints import note_text, parse_note, sign_note, signed_note, verify_note
from lms.audit.leaves import leaf_hash_of
from lms.audit.models import AuditCheckpoint, AuditEvent, AuditLeaf, AuditPersonal
from lms.audit.sealing import seal
from lms.audit.services import erase_personal_data, head, latest_checkpoint, leaf_hashes, record
from lms.audit.verify import verify
from lms.evidence.signing import ensure_dev_key
from lms.extensions import db
from tests import factories


@pytest.fixture
def log(app: Flask, signing_key):
    """Eight events sealed in two checkpoints (sizes 5 and 8), each by its own actor and address."""
    for i in range(8):
        record("test.event", target_type="thing", target_id=i, actor_label=f"person{i}@example.org",
               ip=f"10.0.0.{i}", n=i)
        db.session.commit()
        if i == 4:
            assert seal().tree_size == 5
    assert seal().tree_size == 8


def _cli(runner, *args: str):
    return runner.invoke(args=["lms", "audit", *args])


def _leaf_rows() -> list[tuple[int, int, bytes]]:
    return [tuple(r) for r in db.session.execute(
        select(AuditLeaf.index, AuditLeaf.event_seq, AuditLeaf.hash).order_by(AuditLeaf.index))]


def _rewrite_tree(checkpoint_key: str | None) -> None:
    """What an admin with SQL access would do: recompute every leaf hash and every checkpoint's root
    from the (edited) events, and re-sign each with the private key at `checkpoint_key`, or keep
    the old signatures."""
    events = {e.seq: e for e in db.session.scalars(select(AuditEvent))}
    hashes = []
    for index, seq, _ in _leaf_rows():
        digest = leaf_hash_of(events[seq])
        hashes.append(digest)
        db.session.execute(text("UPDATE audit_leaf SET hash = :h WHERE \"index\" = :i"), {"h": digest, "i": index})
    for checkpoint in db.session.scalars(select(AuditCheckpoint)).all():
        compact = merkle.CompactRange()
        compact.extend(hashes[:checkpoint.tree_size])
        values = {"r": compact.root().hex(), "s": checkpoint.tree_size, "sig": checkpoint.signature}
        if checkpoint_key is not None:
            rewritten = SimpleNamespace(tree_size=checkpoint.tree_size, root_hash=values["r"],
                                        created_at=checkpoint.created_at)
            values["sig"] = _sign_with(checkpoint_key, note_text(rewritten))
        db.session.execute(text("UPDATE audit_checkpoint SET root_hash = :r, signature = :sig WHERE tree_size = :s"),
                           values)
    db.session.commit()
    db.session.expire_all()


def _sign_with(key_path: str, text_: str) -> str:
    import base64

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = serialization.load_pem_private_key(Path(key_path).read_bytes(), password=None)
    return base64.b64encode(key.sign(text_.encode(), ec.ECDSA(hashes.SHA256()))).decode()


# --- recording and sealing ---------------------------------------------------------------------


def test_an_intact_log_verifies(app, log, runner):
    result = verify()
    assert result.ok and result.leaves == 8 and result.checkpoints == 2 and result.pending == 0
    output = _cli(runner, "verify").output
    assert output.strip() == "Audit log intact: 8 leaves, 2 tree head(s) checked; 0 event(s) waiting to be sealed."


def test_record_keeps_personal_fields_out_of_the_event(app, signing_key):
    event = record("test.personal", actor_label="ann@example.org", ip="192.0.2.7", subject_label="bob@example.org",
                   size=3)
    db.session.commit()
    row = db.session.execute(text("SELECT * FROM audit_event WHERE seq = :s"), {"s": event.seq}).mappings().one()
    stored = " ".join(str(v) for v in row.values())
    assert "ann@example.org" not in stored and "192.0.2.7" not in stored and "bob@example.org" not in stored
    personal = db.session.get(AuditPersonal, event.seq)
    assert (personal.actor_label, personal.ip, personal.subject_label) == ("ann@example.org", "192.0.2.7",
                                                                          "bob@example.org")
    assert len(personal.salt) == 32 and len(row["commitment"]) == 64
    assert event.actor_label == "ann@example.org" and event.ip == "192.0.2.7"


def test_a_created_users_email_is_not_in_the_hashed_data(app, signing_key):
    admin = factories.user(Role.ADMIN)
    agent = factories.user(Role.AGENT, email="new.agent@example.org")
    db.session.commit()
    from lms.accounts import services as accounts

    made = accounts.create_user(admin, accounts.UserData(email="made@example.org", name="Made Up", role=Role.AGENT,
                                                         organisation_id=agent.organisation_id))
    accounts.update_user(admin, made, accounts.UserData(email="renamed@example.org", name="Renamed",
                                                        role=Role.TRAINER, organisation_id=agent.organisation_id))
    db.session.commit()
    created = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.created",
                                                          AuditEvent.target_id == str(made.id))).one()
    changed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.role_changed")).one()
    assert "made@example.org" not in str(created.data) and created.subject_label == "made@example.org"
    assert changed.data["changes"] == {"role": ["agent", "trainer"]}
    assert changed.data["personal_fields_changed"] == ["email", "name"]
    assert "Made Up" not in str(changed.data) and changed.subject_label == "renamed@example.org"


def test_the_tree_is_the_rfc_9162_tree_of_the_leaves(app, log):
    hashes = leaf_hashes()
    assert len(hashes) == 8 and leaf_hashes(5) == hashes[:5]
    checkpoints = db.session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size)).all()
    assert [(c.tree_size, c.root_hash) for c in checkpoints] == [(5, merkle.root(hashes[:5]).hex()),
                                                                 (8, merkle.root(hashes).hex())]
    assert head() == (8, merkle.root(hashes).hex()) and latest_checkpoint().tree_size == 8
    # The leaves are the events in order, each hashed from its row.
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [seq for _, seq, _ in _leaf_rows()] == [e.seq for e in events]
    assert hashes == [leaf_hash_of(e) for e in events]


def test_a_seal_with_nothing_new_writes_no_checkpoint_and_limit_is_kept(app, log, runner):
    assert seal().checkpoint is None
    assert db.session.scalar(select(func.count()).select_from(AuditCheckpoint)) == 2
    for i in range(3):
        record("test.more", n=i)
    db.session.commit()
    assert (seal(limit=2).sealed, seal(limit=2).sealed) == (2, 1)
    assert verify().ok and verify().checkpoints == 4
    assert "Nothing to seal; the tree has 11 leaves." in _cli(runner, "seal").output
    record("test.more", n=4)
    db.session.commit()
    assert "Sealed 1 event(s); the tree has 12 leaves" in _cli(runner, "seal").output


def test_the_checkpoint_is_a_signed_note(app, log, signing_key):
    checkpoint = latest_checkpoint()
    note = signed_note(checkpoint, checkpoint.key_id, checkpoint.signature)
    assert note.startswith("CallSafe Academy audit log\n8\n")
    parsed = parse_note(note)
    assert (parsed.tree_size, parsed.root.hex(), parsed.key_id) == (8, checkpoint.root_hash, checkpoint.key_id)
    assert parsed.created_at == checkpoint.created_at and parsed.body == note_text(checkpoint)
    assert verify_note(parsed.body, parsed.key_id, parsed.signature, signing_key)
    assert not verify_note(parsed.body.replace("\n8\n", "\n9\n"), parsed.key_id, parsed.signature, signing_key)
    assert not verify_note(parsed.body, "0123456789abcdef", parsed.signature, signing_key)
    key_id, signature = sign_note("anything\n")
    assert key_id == checkpoint.key_id and verify_note("anything\n", key_id, signature, signing_key)
    with pytest.raises(ValueError, match="four lines"):
        parse_note("CallSafe Academy audit log\n8\n")


def test_the_orm_refuses_to_update_or_delete_events_leaves_and_checkpoints(app, log):
    for model in (AuditEvent, AuditLeaf, AuditCheckpoint):
        row = db.session.scalars(select(model).limit(1)).one()
        db.session.delete(row)
        with pytest.raises(RuntimeError, match="append-only"):
            db.session.flush()
        db.session.rollback()
    event = db.session.scalars(select(AuditEvent).limit(1)).one()
    event.action = "rewritten"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()


def test_the_audit_page_shows_events_and_the_latest_checkpoint(app, log, client, login_as):
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    login_as(admin)
    html = client.get("/audit/?action=test.").get_data(as_text=True)
    assert html.count("test.event") == 8 and "person3@example.org" in html
    assert f"Latest checkpoint: 8 events, root <code class=\"mono\">{head()[1][:16]}" in html


def test_sealing_refuses_without_a_signing_key(app, runner):
    record("test.event")
    db.session.commit()
    app.config.update(SIGNING_KEY_PATH="/nonexistent/key.pem")
    result = _cli(runner, "seal")
    assert result.exit_code == 1 and "Cannot read the signing key" in result.output
    assert db.session.scalar(select(func.count()).select_from(AuditLeaf)) == 0


# --- tampering ----------------------------------------------------------------------------------


def _broken(runner, where: str, why: str) -> None:
    result = _cli(runner, "verify")
    assert result.exit_code == 1, result.output
    assert f"Audit log broken at {where}" in result.output and why in result.output, result.output


def test_an_edited_event_is_caught(app, log, runner):
    db.session.execute(text("UPDATE audit_event SET target_id = '99' WHERE seq = 3"))
    db.session.commit()
    result = verify()
    assert (result.bad_leaf, result.bad_seq) == (2, 3)
    _broken(runner, "leaf #2 (event #3)", "edited")


def test_edited_personal_fields_are_caught(app, log, runner):
    db.session.execute(text("UPDATE audit_personal SET ip = '203.0.113.9' WHERE event_seq = 4"))
    db.session.commit()
    _broken(runner, "leaf #3 (event #4)", "personal fields of event #4 do not match")


def test_a_deleted_event_and_its_leaf_are_caught(app, log, runner):
    for table, column in (("audit_personal", "event_seq"), ("audit_leaf", "event_seq"), ("audit_event", "seq")):
        db.session.execute(text(f"DELETE FROM {table} WHERE {column} = 2"))
    db.session.commit()
    _broken(runner, "leaf #1", "leaf #1 is missing")


def test_a_deleted_leaf_is_caught(app, log, runner):
    db.session.execute(text("DELETE FROM audit_leaf WHERE \"index\" = 6"))
    db.session.commit()
    _broken(runner, "leaf #6", "leaf #6 is missing (leaf #7 follows leaf #5)")


def test_a_deleted_newest_leaf_is_caught_against_the_checkpoints(app, log, runner):
    db.session.execute(text("DELETE FROM audit_leaf WHERE \"index\" = 7"))
    db.session.commit()
    _broken(runner, "leaf #7", "the tree ends at 7 leaves, but a stored checkpoint has 8")


def test_swapped_leaves_are_caught(app, log, runner):
    for old, new in ((1, -1), (3, 1), (-1, 3)):
        db.session.execute(text("UPDATE audit_leaf SET \"index\" = :n WHERE \"index\" = :o"), {"n": new, "o": old})
    db.session.commit()
    result = verify()
    assert (result.bad_leaf, result.bad_seq) == (1, 4)
    _broken(runner, "leaf #1 (event #4)", "out of order")


def test_truncating_leaves_and_checkpoints_is_caught_against_a_head_kept_outside(app, log, runner, signing_key):
    """Removing the newest leaves with their checkpoints leaves a consistent log; a head printed
    in a document (or a signed checkpoint kept outside) catches it."""
    recorded = _cli(runner, "head").output.strip()
    assert recorded == f"8:{head()[1]}"
    latest = latest_checkpoint()
    kept_note = parse_note(signed_note(latest, latest.key_id, latest.signature))
    db.session.execute(text("DELETE FROM audit_checkpoint WHERE tree_size > 5"))
    db.session.execute(text("DELETE FROM audit_leaf WHERE \"index\" >= 5"))
    db.session.commit()
    assert verify().ok  # the database alone cannot tell
    result = _cli(runner, "verify", "--head", recorded[:14])
    assert result.exit_code == 1
    assert "Audit log broken at leaf #5: the tree ends at 5 leaves, but a recorded head has 8" in result.output
    assert verify(external=[kept_note]).bad_leaf == 5


def test_an_edit_with_recomputed_leaves_is_caught_by_the_checkpoint_root(app, log, runner):
    db.session.execute(text("UPDATE audit_event SET target_id = '99' WHERE seq = 7"))
    digest = leaf_hash_of(db.session.get(AuditEvent, 7))
    db.session.execute(text("UPDATE audit_leaf SET hash = :h WHERE event_seq = 7"), {"h": digest})
    db.session.commit()
    _broken(runner, "leaf #5", "rewritten between leaf #5 and leaf #7")


def test_a_rewrite_with_fresh_roots_and_old_signatures_is_caught(app, log, runner):
    db.session.execute(text("UPDATE audit_event SET target_id = '99' WHERE seq = 7"))
    db.session.commit()
    _rewrite_tree(None)
    _broken(runner, "leaf #5", "checkpoint at tree size 8 is not signed by a trusted key")


def test_a_rewrite_signed_with_another_key_is_caught(app, log, runner, tmp_path):
    other_key, other_cert = tmp_path / "other" / "key.pem", tmp_path / "other" / "cert.pem"
    ensure_dev_key(other_key, other_cert)
    db.session.execute(text("UPDATE audit_event SET target_id = '99' WHERE seq = 2"))
    db.session.commit()
    _rewrite_tree(str(other_key))
    result = verify()
    assert result.bad_leaf == 0 and "checkpoint at tree size 5 is not signed" in result.reason
    _broken(runner, "leaf #0", "forged or rewritten")


def test_an_event_slipped_in_below_the_tree_is_caught(app, log, runner):
    event = db.session.get(AuditEvent, 3)
    db.session.execute(text("INSERT INTO audit_event (seq, occurred_at, actor_id, action, target_type, target_id, "
                            "data, commitment, xid) VALUES (0, :at, NULL, 'forged', '', '', '{}', :c, 0)"),
                       {"at": event.occurred_at, "c": event.commitment})
    db.session.commit()
    _broken(runner, "event #0", "not in the tree")


# --- erasure ------------------------------------------------------------------------------------


def test_erasing_a_person_removes_their_personal_rows_and_everything_still_verifies(app, signing_key, client,
                                                                                      login_as):
    person = factories.user(Role.TRAINER, email="erase.me@example.org")
    other = factories.user(Role.ADMIN, email="keep.me@example.org")
    db.session.commit()
    record("test.by_person", actor=person, ip="198.51.100.1")
    record("test.about_person", actor=other, target=person, subject_label=person.email)
    record("auth.login_failed", actor_label=person.email, ip="198.51.100.2")
    kept = record("test.by_other", actor=other, ip="198.51.100.3")
    db.session.commit()
    seal()
    before = head()

    assert erase_personal_data(person.id) == 3
    db.session.commit()
    labels = set(db.session.scalars(select(AuditPersonal.actor_label)))
    subjects = set(db.session.scalars(select(AuditPersonal.subject_label)))
    assert "erase.me@example.org" not in labels | subjects and labels == {"keep.me@example.org"}
    ips = set(db.session.scalars(select(AuditPersonal.ip)))
    assert ips == {"198.51.100.3"}
    for table in ("audit_event", "audit_leaf", "audit_checkpoint"):
        dump = " ".join(str(tuple(r)) for r in db.session.execute(text(f"SELECT * FROM {table}")))
        assert "erase.me@example.org" not in dump and "198.51.100.1" not in dump
    assert db.session.get(AuditEvent, kept.seq).actor_label == "keep.me@example.org"
    erased = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "test.by_person")).one()
    assert erased.actor_label is None and erased.ip is None and erased.actor_id == person.id

    result = verify(heads={before[0]: before[1]})
    assert result.ok and result.leaves == 4
    record("test.after", actor=other)
    db.session.commit()
    assert seal().sealed == 1 and verify().ok

    login_as(other)
    html = client.get("/audit/?action=test.by_person").get_data(as_text=True)
    assert "erase.me@example.org" not in html
    assert f"Erased person P-{person.id:04X}: test by person" in html  # the pseudonym, not a blank
    assert f"<dd>erased person #P-{person.id:04X}</dd>" in html  # as its recorded details say
