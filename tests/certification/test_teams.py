"""The dashboard, its CSV and the evidence pack filter and group by team (#15)."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

from lms.accounts.models import Role
from lms.certification import services
from lms.extensions import db
from tests import factories
from tests.certification.conftest import START


def _world(at):
    atlas, lisboa = factories.organisation("Atlas Care"), factories.organisation("Lisboa CS")
    billing = [factories.user(Role.AGENT, atlas, name=f"Billing Agent {n}") for n in range(2)]
    for person in billing:
        person.team = "Billing B"
    billing[0].employee_id = "AT-0001"
    moves = factories.user(Role.AGENT, atlas, name="Moves Agent")
    moves.team = "Home moves"
    loner = factories.user(Role.AGENT, atlas, name="Teamless Agent")
    elsewhere = factories.user(Role.AGENT, lisboa, name="Lisboa Billing")
    elsewhere.team = "Billing B"  # the same name at another organisation
    admin = factories.user(Role.ADMIN)
    programme = factories.programme()
    for org in (atlas, lisboa):
        services.assign(admin, programme, organisation_id=org.id, due_days=30)
    db.session.commit()
    at(START + timedelta(days=1))
    return {"atlas": atlas, "lisboa": lisboa, "moves": moves, "loner": loner}


def _agents_table(html: str) -> str:
    return html[html.index("<tbody>", html.index("agents-heading")):]


def test_team_filter_and_counts_by_team(app, content, at, client, login_as):
    w = _world(at)
    app.config["DASHBOARD_COUNTS_SECONDS"] = 30  # the filter must not be answered from another key's counts
    trainer = factories.user(Role.TRAINER)
    db.session.commit()
    login_as(trainer)
    everyone = client.get("/dashboard").get_data(as_text=True)
    assert '<option value="Billing B">Billing B</option>' in everyone and "Home moves" in everyone
    html = client.get(f"/dashboard?team=Billing+B&organisation={w['atlas'].id}").get_data(as_text=True)
    table = _agents_table(html)
    assert "Billing Agent 0" in table and "Billing Agent 1" in table and "AT-0001" in table
    assert "Moves Agent" not in table and "Teamless Agent" not in table and "Lisboa Billing" not in table
    atlas_row = html.split('<th scope="row">Atlas Care</th>')[1].split("</tr>")[0]
    assert atlas_row.rsplit("<td>", 1)[1].startswith("2<")  # counted for the team, not the cached whole
    grouped = client.get(f"/dashboard?group=team&organisation={w['atlas'].id}").get_data(as_text=True)
    assert "Agents by organisation and team" in grouped
    for label, total in (("Atlas Care · Billing B", "2"), ("Atlas Care · Home moves", "1"),
                         ("Atlas Care · no team", "1")):
        row = grouped.split(f'<th scope="row">{label}</th>')[1].split("</tr>")[0]
        assert row.rsplit("<td>", 1)[1].split("</td>")[0] == total, label
    by_team = _agents_table(client.get("/dashboard?sort=team").get_data(as_text=True))
    assert by_team.index("Billing Agent") < by_team.index("Moves Agent")


def test_csv_has_employee_id_and_team_and_follows_the_team_filter(app, content, at, client, login_as):
    _world(at)
    trainer = factories.user(Role.TRAINER)
    db.session.commit()
    login_as(trainer)
    body = client.get("/dashboard.csv?team=Home+moves").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][-2:] == ["Employee id", "Team"]
    assert [(row[0], row[-1]) for row in rows[1:]] == [("Moves Agent", "Home moves")]
    body = client.get("/dashboard.csv?team=Billing+B&sort=name").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))[1:]
    assert [(row[0], row[-2]) for row in rows] == [("Billing Agent 0", "AT-0001"), ("Billing Agent 1", ""),
                                                   ("Lisboa Billing", "")]


def test_a_partner_admin_sees_their_teams_only(app, content, at, client, login_as):
    w = _world(at)
    lisboa_admin = factories.user(Role.PARTNER_ADMIN, w["lisboa"])
    db.session.commit()
    login_as(lisboa_admin)
    html = client.get("/dashboard").get_data(as_text=True)
    assert "Home moves" not in html and "Billing B" in html
    table = _agents_table(client.get("/dashboard?team=Billing+B").get_data(as_text=True))
    assert "Lisboa Billing" in table and "Billing Agent" not in table
