"""Messages in the request's language, through lms/catalogue_lookup.py: templates' read as Jinja's
own new-style callables would, and Python's as Flask-Babel's."""
from __future__ import annotations

from flask import render_template_string
from flask_babel import force_locale


def _render(app, source: str, language: str, **context) -> str:
    # A fresh app context: Flask-Babel keeps the locale on `g`, which is the app context's.
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": language}):
        return render_template_string(source, **context)


def test_messages_come_in_the_requests_language(app):
    assert _render(app, "{{ _('Sign out') }}", "fr") == "Se déconnecter"
    assert _render(app, "{{ _('Sign out') }}", "en") == "Sign out"
    assert _render(app, "{% trans %}Sign out{% endtrans %}", "fr") == "Se déconnecter"


def test_plurals_follow_the_languages_rule_and_name_the_number(app):
    source = "{% trans num=n %}{{ num }} minute{% pluralize %}{{ num }} minutes{% endtrans %}"
    assert _render(app, source, "fr", n=1) == "1 minute"
    assert _render(app, source, "fr", n=3) == "3 minutes"
    assert _render(app, "{{ ngettext('%(num)s minute', '%(num)s minutes', 0) }}", "pt") == "0 minutos"


def test_variables_are_escaped_and_a_double_percent_reads_as_one(app):
    html = _render(app, "{{ _('Hello %(name)s, 100%% done', name=who) }}", "en", who="<b>Eve</b>")
    assert html == "Hello &lt;b&gt;Eve&lt;/b&gt;, 100% done"


def test_a_variable_may_have_any_name(app):
    """The callables' own parameters cannot clash with a template's variables."""
    assert _render(app, "{{ _('%(message)s, %(string)s', message='a', string='b') }}", "en") == "a, b"
    assert _render(app, "{{ ngettext('%(singular)s', '%(num)s of %(plural)s', 2, singular='x', plural='y') }}",
                   "en") == "2 of y"


def test_a_forced_language_reaches_templates_and_ends_with_its_block(app):
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert render_template_string("{{ _('Sign out') }}") == "Sign out"
        with force_locale("es"):
            assert render_template_string("{{ _('Sign out') }}") == "Cerrar sesión"
        assert render_template_string("{{ _('Sign out') }}") == "Sign out"


def test_a_language_forced_before_the_requests_first_message_gives_way_to_the_requests(app):
    """The request's own language is chosen only after the forced block (Flask-Babel then keeps None)."""
    from flask_babel import gettext

    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "pt"}):
        with force_locale("fr"):
            assert gettext("Sign out") == "Se déconnecter"
        assert gettext("Sign out") == "Terminar sessão"
        assert render_template_string("{{ _('Sign out') }}") == "Terminar sessão"


def test_pythons_messages_follow_the_request_and_a_forced_language(app):
    from flask_babel import gettext, lazy_gettext

    later = lazy_gettext("Sign out")
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "fr"}):
        assert gettext("Sign out") == "Se déconnecter" and str(later) == "Se déconnecter"
        with force_locale("es"):
            assert gettext("Sign out") == "Cerrar sesión" and str(later) == "Cerrar sesión"
        assert gettext("Sign out") == "Se déconnecter"
    with app.app_context():  # no request: the message as written
        assert gettext("Sign out") == "Sign out"
