"""An admin, the Atlas partner and its partner admin, another partner, and a helper to upload files."""
from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lms.accounts.models import OrganisationKind, Role
from lms.extensions import db
from tests import factories
from tests.conftest import csrf_token

UPLOAD = "/people/import"


@pytest.fixture
def people(app: Flask) -> dict:
    app.config["JOBS_RUNNER"] = "eager"
    client_org = factories.organisation("Northwind", OrganisationKind.CLIENT, "IE")
    atlas = factories.organisation("Atlas Care")
    lisboa = factories.organisation("Lisboa CS")
    result = {"client": client_org, "atlas": atlas, "lisboa": lisboa,
              "admin": factories.user(Role.ADMIN, client_org, email="admin@northwind.example"),
              "partner_admin": factories.user(Role.PARTNER_ADMIN, atlas, email="admin@atlas.example")}
    db.session.commit()
    return result


def csv_bytes(*lines: str, bom: bool = False, sep: str = ",") -> bytes:
    text = "\r\n".join(line.replace(",", sep) for line in lines) + "\r\n"
    return (("\ufeff" if bom else "") + text).encode("utf-8")


HEADER = "Employee id,Name,E-mail,Organisation,Role,Team,Start date"


def upload(client: FlaskClient, data: bytes, *, full_roster: bool = False, filename: str = "roster.csv"):
    """POST the file as a browser does. The body is encoded here: Werkzeug's test client spools a
    large one to a temporary file that it never closes (a ResourceWarning, an error in this suite)."""
    fields = {"csrf_token": csrf_token(client, UPLOAD), **({"full_roster": "y"} if full_roster else {})}
    body = io.BytesIO()
    for name, value in fields.items():
        body.write(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    body.write(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
               "Content-Type: text/csv\r\n\r\n".encode())
    body.write(data + f"\r\n--{BOUNDARY}--\r\n".encode())
    return client.post(UPLOAD, data=body.getvalue(), content_type=f"multipart/form-data; boundary={BOUNDARY}")


BOUNDARY = "roster-test-boundary"


def apply(client: FlaskClient, preview_path: str, **fields):
    """Press Apply on the preview page with these boxes ticked, sending the leavers count it shows."""
    html = client.get(preview_path).get_data(as_text=True)
    leavers = re.search(r'name="leavers_seen" value="(\d+)"', html).group(1)
    form = {"csrf_token": csrf_token(client, preview_path), "leavers_seen": leavers, **fields}
    return client.post(preview_path + "/apply", data=form)
