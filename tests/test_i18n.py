"""Which language and time zone a request uses (lms/i18n.py), and how times are shown."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from flask_babel import force_locale

from lms.accounts.locale_defaults import forget_organisation
from lms.extensions import db
from lms.i18n import date_local, datetime_local
from tests import factories


def _html_tag(response) -> str:
    return re.search(r"<html[^>]*>", response.get_data(as_text=True)).group(0)


def test_a_visitor_gets_the_browsers_language_among_those_shipped(client):
    assert 'lang="pt"' in _html_tag(client.get("/login", headers={"Accept-Language": "pt-PT,pt;q=0.9,en;q=0.5"}))
    assert 'lang="en"' in _html_tag(client.get("/login", headers={"Accept-Language": "pl"}))


def test_the_users_choice_beats_the_organisations_which_beats_the_browsers(app, client, login_as):
    with app.app_context():
        org = factories.organisation()
        org.language = "es"
        agent = factories.user(org=org)
        db.session.commit()
        agent_id, org_id = agent.id, org.id
    login_as(agent)
    assert 'lang="es" dir="ltr"' in _html_tag(client.get("/", headers={"Accept-Language": "fr"}))
    with app.app_context():
        db.session.get(type(agent), agent_id).language = "ar"
        db.session.commit()
    assert 'lang="ar" dir="rtl"' in _html_tag(client.get("/"))
    with app.app_context():
        db.session.get(type(agent), agent_id).language = None
        db.session.get(type(org), org_id).language = None
        db.session.commit()
        forget_organisation(org_id)
    assert 'lang="fr"' in _html_tag(client.get("/", headers={"Accept-Language": "fr"}))



def test_wtforms_own_messages_follow_the_page_language(app, client):
    """"This field is required." comes from WTForms' catalogue, in the page's language."""
    app.config["WTF_CSRF_ENABLED"] = False
    expected = {"en": "This field is required.", "fr": "Ce champ est requis.", "es": "Este campo es obligatorio.",
                "ar": "هذا الحقل مطلوب."}
    for language, message in expected.items():
        client.set_cookie("lang", language)
        assert message in client.post("/login", data={"email": "", "password": ""}).get_data(as_text=True)


def test_european_portuguese_counts_zero_as_plural(app):
    """CLDR's `pt` is Brazil's rule (0 and 1 singular); Portugal says "0 minutos" (the catalogues'
    Plural-Forms header is pt_PT's)."""
    from flask_babel import ngettext

    with app.test_request_context(), force_locale("pt"):
        said = {n: ngettext("%(num)s minute", "%(num)s minutes", n) for n in (0, 1, 2)}
    assert said == {0: "0 minutos", 1: "1 minuto", 2: "2 minutos"}


def test_times_show_in_the_readers_zone_and_name_it(app):
    moment = datetime(2026, 3, 29, 23, 30, tzinfo=timezone.utc)
    with app.test_request_context(), force_locale("en"):
        app.config["BABEL_DEFAULT_TIMEZONE"] = "Africa/Casablanca"
        from flask_babel import refresh

        refresh()
        # Morocco is UTC+1 here: a time late on the 29th in UTC is already the 30th there.
        assert datetime_local(moment, "short").endswith("Africa/Casablanca")
        assert "30/03/2026, 00:30" in datetime_local(moment, "short")  # EU English: day first, 24 h
        assert date_local(moment, "short") == "30/03/2026"
        assert datetime_local(None) == "—"
