"""Each event's page offers an inclusion proof that anyone can check offline against a signed
checkpoint, holding only our signing certificate; erased events still prove."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from lms.accounts.models import Role
from lms.audit.proof_check import ProofError, check_bundle
from lms.audit.proofs import inclusion_bundle
from lms.audit.sealing import seal
from lms.audit.services import erase_personal_data, record
from lms.config import PROJECT_ROOT
from lms.evidence.signing import ensure_dev_key
from lms.extensions import db
from tests import factories


@pytest.fixture
def world(app: Flask, signing_key):
    """An admin, a scoped auditor of a partner, and eleven sealed events (one by a partner agent)."""
    partner = factories.organisation("Atlas Care")
    admin = factories.user(Role.ADMIN, email="admin@example.org")
    scoped = factories.user(Role.AUDITOR, email="scoped@example.org", scope=partner)
    agent = factories.user(Role.AGENT, partner, email="agent@atlas.example")
    db.session.commit()
    events = [record("test.event", actor=admin, target_type="thing", target_id=i, ip="192.0.2.1", n=i)
              for i in range(10)]
    by_agent = record("test.by_agent", actor=agent, ip="198.51.100.9")
    db.session.commit()
    seal()
    return {"admin": admin, "scoped": scoped, "agent": agent, "events": events, "by_agent": by_agent}


def _download(client, seq: int) -> dict:
    response = client.get(f"/audit/events/{seq}/proof.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == f'attachment; filename="audit-event-{seq}-proof.json"'
    return response.get_json()


def _check_offline(tmp_path: Path, bundle: dict, certificate: bytes) -> subprocess.CompletedProcess:
    """The checker run as an auditor would: its own process, no app, no database, no configuration."""
    (tmp_path / "proof.json").write_text(json.dumps(bundle))
    (tmp_path / "cert.pem").write_bytes(certificate)
    return subprocess.run([sys.executable, "-m", "lms.audit.proof_check", str(tmp_path / "proof.json"),
                           "--certificate", str(tmp_path / "cert.pem")],
                          capture_output=True, text=True, cwd=PROJECT_ROOT, env={"PATH": "/usr/bin:/bin"}, timeout=60)


def test_an_events_page_offers_its_proof_and_it_checks_offline(app, world, client, login_as, signing_key, tmp_path):
    event = world["events"][6]
    login_as(world["admin"])
    html = client.get(f"/audit/events/{event.seq}").get_data(as_text=True)
    assert "Sealed as leaf #6 of the Merkle tree" in html and "covers 11 events" in html
    assert f'href="/audit/events/{event.seq}/proof.json"' in html and "python -m lms.audit.proof_check" in html
    assert "admin@example.org" in html and "192.0.2.1" in html
    bundle = _download(client, event.seq)
    assert bundle["leaf_index"] == 6 and bundle["tree_size"] == 11
    assert "admin@example.org" not in json.dumps(bundle) and "192.0.2.1" not in json.dumps(bundle)
    checked = check_bundle(bundle, signing_key)
    assert checked.event["seq"] == event.seq and checked.event["data"] == {"n": 6}
    result = _check_offline(tmp_path, bundle, signing_key)
    assert result.returncode == 0, result.stderr
    assert f"proven. Event #{event.seq} (test.event," in result.stdout and "leaf #6" in result.stdout


def test_the_list_links_each_event_to_its_page(app, world, client, login_as):
    login_as(world["admin"])
    html = client.get("/audit/").get_data(as_text=True)
    assert f'href="/audit/events/{world["by_agent"].seq}"' in html


@pytest.mark.parametrize("tamper, reason", [
    (lambda b: b.update(leaf_input=b["leaf_input"].replace('"n":3', '"n":4')), "does not lead from leaf #3"),
    (lambda b: b.update(leaf_index=4), "does not lead from leaf #4"),
    (lambda b: b["audit_path"].reverse(), "does not lead"),
    (lambda b: b.update(tree_size=12), "says tree size 12 but its checkpoint has 11"),
    (lambda b: b.update(checkpoint=b["checkpoint"].replace("\n11\n", "\n12\n")), "not signed by the given"),
    (lambda b: b.update(event_seq=b["event_seq"] + 1), "not the event the bundle names"),
    (lambda b: b.pop("audit_path"), "malformed"),
])
def test_a_tampered_proof_fails_and_says_which_step(app, world, signing_key, tamper, reason):
    bundle = inclusion_bundle(world["events"][3])
    assert check_bundle(bundle, signing_key).leaf_index == 3
    tamper(bundle)
    with pytest.raises(ProofError, match=reason):
        check_bundle(bundle, signing_key)


def test_a_proof_is_refused_against_another_certificate(app, world, tmp_path):
    other_key, other_cert = tmp_path / "other" / "key.pem", tmp_path / "other" / "cert.pem"
    ensure_dev_key(other_key, other_cert)
    result = _check_offline(tmp_path, inclusion_bundle(world["events"][0]), other_cert.read_bytes())
    assert result.returncode == 1 and "NOT PROVEN: the checkpoint is not signed by the given certificate" in result.stderr


def test_an_unsealed_event_says_so_and_has_no_proof_yet(app, world, client, login_as):
    pending = record("test.pending", actor=world["admin"])
    db.session.commit()
    login_as(world["admin"])
    html = client.get(f"/audit/events/{pending.seq}").get_data(as_text=True)
    assert "Not sealed yet" in html and "proof.json" not in html
    assert client.get(f"/audit/events/{pending.seq}/proof.json").status_code == 404
    seal()
    assert _download(client, pending.seq)["leaf_index"] == 11


def test_a_scoped_auditor_sees_only_their_partners_events(app, world, client, login_as):
    login_as(world["scoped"])
    assert client.get(f"/audit/events/{world['by_agent'].seq}").status_code == 200
    assert client.get(f"/audit/events/{world['by_agent'].seq}/proof.json").status_code == 200
    admin_event = world["events"][0].seq
    assert client.get(f"/audit/events/{admin_event}").status_code == 404
    assert client.get(f"/audit/events/{admin_event}/proof.json").status_code == 404


def test_an_erased_persons_event_shows_their_pseudonym_and_still_proves(app, world, client, login_as, signing_key,
                                                                        tmp_path):
    agent, event = world["agent"], world["by_agent"]
    before = inclusion_bundle(event)
    erase_personal_data(agent.id)
    db.session.commit()
    login_as(world["admin"])
    html = client.get(f"/audit/events/{event.seq}").get_data(as_text=True)
    assert f"erased person #P-{agent.id:04X}" in html and "personal fields (who, from which address" in html
    assert "agent@atlas.example" not in html and "198.51.100.9" not in html
    bundle = _download(client, event.seq)
    assert bundle == before  # the proof never held the erased fields
    assert _check_offline(tmp_path, bundle, signing_key).returncode == 0
