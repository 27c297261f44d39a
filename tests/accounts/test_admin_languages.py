"""Admins and account holders read the accounts pages in their own language (#19,
translations/accounts): the people and organisation forms with their role and kind names,
second factors, single sign-on, and the password-reset e-mail in the holder's language."""
from __future__ import annotations

import pytest
from flask import Flask

from lms.accounts.models import Role
from lms.extensions import db
from tests import factories
from tests.accounts.test_password_links import _ask
from tests.reminders.conftest import smtp  # noqa: F401 (fixture: a real SMTP server)


def _admin(language: str):
    admin = factories.user(Role.ADMIN)
    admin.language = language
    db.session.commit()
    return admin


def test_a_spanish_admin_reads_roles_and_organisation_kinds_in_spanish(app: Flask, client, login_as):
    login_as(_admin("es"))
    users = client.get("/admin/users").get_data(as_text=True)
    assert "<h1>Usuarios</h1>" in users and "Administrador" in users and "Cualquier función" in users
    new_user = client.get("/admin/users/new").get_data(as_text=True)
    assert "Nombre completo" in new_user and '<option value="partner_admin">Administrador de socio</option>' in new_user
    organisations = client.get("/admin/organisations/new").get_data(as_text=True)
    assert "Socio externo" in organisations and "Outsourcing partner" not in organisations


def test_an_arabic_admin_reads_single_sign_on_right_to_left(app: Flask, client, login_as):
    login_as(_admin("ar"))
    html = client.get("/admin/sso").get_data(as_text=True)
    assert 'dir="rtl"' in html and "<h1>تسجيل الدخول الموحّد</h1>" in html


@pytest.mark.parametrize(("language", "heading", "none"), [
    ("fr", "<h1>Protection de la connexion</h1>", "0 clé d'accès."),  # French counts 0 as one
    ("ar", "<h1>حماية تسجيل الدخول</h1>", "لا مفاتيح مرور."),             # Arabic has a form for none
])
def test_second_factors_are_counted_with_the_plurals_of_the_language(app: Flask, client, login_as,
                                                                     language, heading, none):
    admin = _admin(language)
    login_as(admin)
    assert heading in client.get("/account/mfa").get_data(as_text=True)
    trainer = factories.user(Role.TRAINER)
    db.session.commit()
    assert none in client.get(f"/admin/users/{trainer.id}").get_data(as_text=True)


def test_the_reset_e_mail_speaks_the_account_holders_language(app: Flask, client, smtp):  # noqa: F811
    agent = factories.user(Role.AGENT, email="rui@lisboa.example")
    agent.language = "pt"
    db.session.commit()
    # Asked from an English page: the e-mail follows the holder's own choice, not the page's.
    _ask(client, agent.email, headers={"Accept-Language": "en"})
    [message] = smtp.to(agent.email)
    assert message["Subject"] == "Escolha uma nova palavra-passe para a CallSafe Academy"
    assert "Alguém pediu para repor a palavra-passe" in message.get_content()
