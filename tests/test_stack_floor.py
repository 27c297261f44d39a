"""bench/stack_floor_app.py: the reference bench/pages.py --floor times must be a signed-in 404."""
from __future__ import annotations

from sqlalchemy import select

from bench.stack_floor_app import (
    FloorUser, create_app, db, prepare, prepare_api, prepare_attempts, prepare_documents,
)

USER_AGENT = "callsafe-bench"


def test_its_people_get_a_signed_in_404_that_leaves_their_cookie_alone(tmp_path):
    app = create_app(f"sqlite:///{tmp_path / 'floor.sqlite3'}", "a-secret-key-for-this-test-only-0123456789")
    cookies = [person.cookie for person in prepare(app, 2, USER_AGENT)]
    client = app.test_client(use_cookies=False)  # else the client sends its own (empty) jar, not this header

    response = client.get("/no-such-page", headers={"Cookie": cookies[1], "User-Agent": USER_AGENT},
                          environ_base={"REMOTE_ADDR": "127.0.0.1"})

    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Signed in as <strong>Agent 1</strong>" in page
    assert 'action="/logout"' in page and 'name="csrf_token" value="' in page
    # A rewritten cookie on every request would make the bench time more than a signed-in page.
    assert "Set-Cookie" not in response.headers
    assert response.headers["X-Frame-Options"] == "DENY"


def test_without_a_session_the_404_shows_no_signed_in_layout(tmp_path):
    app = create_app(f"sqlite:///{tmp_path / 'floor.sqlite3'}", "a-secret-key-for-this-test-only-0123456789")
    prepare(app, 1, USER_AGENT)

    response = app.test_client().get("/no-such-page")

    assert response.status_code == 404
    assert 'action="/logout"' not in response.get_data(as_text=True)


def test_its_api_answers_a_live_key_and_refuses_a_wrong_one(tmp_path):
    app = create_app(f"sqlite:///{tmp_path / 'floor.sqlite3'}", "a-secret-key-for-this-test-only-0123456789")
    prepare(app, 2, USER_AGENT)
    api = prepare_api(app)
    client = app.test_client()
    agent = api["ids"][1]

    answered = client.get(f"/api/v1/agents/{agent}/clearance", headers={"Authorization": f"Bearer {api['token']}"})
    refused = client.get(f"/api/v1/agents/{agent}/clearance", headers={"Authorization": f"Bearer {api['token']}x"})

    assert answered.status_code == 200
    assert answered.get_json() == {"id": str(agent), "agent_id": agent, "name": "Agent 1", "cleared": True}
    assert refused.status_code == 401


def test_its_download_sends_the_signed_in_persons_document(tmp_path):
    app = create_app(f"sqlite:///{tmp_path / 'floor.sqlite3'}", "a-secret-key-for-this-test-only-0123456789")
    cookies = [person.cookie for person in prepare(app, 2, USER_AGENT)]
    prepare_documents(app, b"%PDF-1.7 a certificate")
    client = app.test_client(use_cookies=False)

    signed_in = client.get("/certificate.pdf", headers={"Cookie": cookies[0], "User-Agent": USER_AGENT},
                           environ_base={"REMOTE_ADDR": "127.0.0.1"})
    anonymous = client.get("/certificate.pdf")

    assert signed_in.status_code == 200 and signed_in.data == b"%PDF-1.7 a certificate"
    assert signed_in.headers["Content-Disposition"] == 'attachment; filename="certificate.pdf"'
    assert anonymous.status_code == 401


def test_its_scim_create_needs_the_key_and_stores_the_person(tmp_path):
    app = create_app(f"sqlite:///{tmp_path / 'floor.sqlite3'}", "a-secret-key-for-this-test-only-0123456789")
    prepare(app, 0, USER_AGENT)
    api = prepare_api(app)
    client = app.test_client()
    body = b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "new@bench.example"}'

    created = client.post("/scim/v2/Users", data=body, content_type="application/scim+json",
                          headers={"Authorization": f"Bearer {api['token']}"})
    refused = client.post("/scim/v2/Users", data=body, content_type="application/scim+json")
    malformed = client.post("/scim/v2/Users", data=b"{", content_type="application/scim+json",
                            headers={"Authorization": f"Bearer {api['token']}"})

    assert created.status_code == 201 and created.get_json()["userName"] == "new@bench.example"
    assert refused.status_code == 401 and malformed.status_code == 400
    with app.app_context():
        assert db.session.scalars(select(FloorUser.name)).all() == ["new@bench.example"]


def test_its_submit_needs_the_csrf_token_and_wins_once(tmp_path):
    app = create_app(f"sqlite:///{tmp_path / 'floor.sqlite3'}", "a-secret-key-for-this-test-only-0123456789")
    person = prepare(app, 1, USER_AGENT)[0]
    attempt = prepare_attempts(app)[0]
    client = app.test_client(use_cookies=False)
    headers = {"Cookie": person.cookie, "User-Agent": USER_AGENT, "Accept": "application/json"}

    def submit(fields: dict):
        return client.post(f"/attempts/{attempt}/submit", data=fields, headers=headers,
                           environ_base={"REMOTE_ADDR": "127.0.0.1"})

    without_token = submit({})
    first, second = submit({"csrf_token": person.csrf_token}), submit({"csrf_token": person.csrf_token})

    assert without_token.status_code == 400
    assert first.status_code == 200 and first.get_json() == {"submitted": True}
    assert second.status_code == 409
