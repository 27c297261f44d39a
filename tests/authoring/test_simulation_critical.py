"""The simulation editor reads and writes a reply's `critical` and `discloses`, so that editing a
node in the browser never drops the mark of a breach."""
from __future__ import annotations

from tests.authoring.test_quiz_editor import BASE, _draft_data, editor, form_data  # noqa: F401 (editor: a fixture)

PAGE = f"{BASE}/simulations/sim-impostor/nodes/n3"
REASON = "Reading the bill to an unverified caller discloses personal data (Art. 5(1)(f))."


def _n3_b() -> dict:
    sim = next(q for q in _draft_data()["questions"] if q["id"] == "sim-impostor")
    node = next(n for n in sim["nodes"] if n["id"] == "n3")
    return next(c for c in node["choices"] if c["id"] == "b")


def test_a_reply_can_be_marked_critical_and_the_mark_survives_another_edit(client, editor):
    node = form_data(client.get(PAGE).get_data(as_text=True), "caller")
    assert node["choices-1-id"] == "b" and node["choices-1-critical"] == ""
    node.update({"choices-1-score": "0", "choices-1-critical": REASON, "choices-1-discloses": "y"})
    assert client.post(PAGE, data=node).status_code == 302
    assert _n3_b() == {"id": "b", "text": "Great, here is the bill.", "feedback": "Not verified.", "score": 0,
                       "critical": REASON, "discloses": True, "next": "end-breach"}

    # Saved again with only the caller's line changed: the form read the mark back.
    html = client.get(PAGE).get_data(as_text=True)
    again = form_data(html, "caller")
    assert again["choices-1-critical"] == REASON and again["choices-1-discloses"] == "y"
    assert client.post(PAGE, data=dict(again, caller="Hello, this is Sarah speaking.")).status_code == 302
    assert _n3_b()["critical"] == REASON and _n3_b()["discloses"] is True


def test_a_disclosure_without_a_reason_is_flagged_by_the_validator(client, editor):
    node = form_data(client.get(PAGE).get_data(as_text=True), "caller")
    node.update({"choices-1-score": "0", "choices-1-discloses": "y"})
    assert client.post(PAGE, data=node).status_code == 302
    assert "critical" not in _n3_b() and _n3_b()["discloses"] is True
    html = client.get(f"{BASE}/simulations/sim-impostor").get_data(as_text=True)
    assert "it discloses personal data (discloses: true), so it must be critical" in html
