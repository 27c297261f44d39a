"""Templates compiled per language with their literal messages translated (lms/template_messages.py)
render exactly what the template callables render at run time, in every language."""
from __future__ import annotations

import pytest
from flask import Flask, render_template
from flask_babel import force_locale
from jinja2 import DictLoader

# Each snippet is rendered from a loaded template (its messages translated when compiled) and from
# a string (Jinja compiles those without a language, so its messages are looked up as it renders).
SNIPPETS = {
    "plain": "<p>{{ _('Sign out') }}</p>",
    "gettext": "{{ gettext('Search job aids') }}",
    "double percent": "{{ _('Hello %(name)s, 100%% done', name=who) }}|{{ _('100%% done') }}",
    "markup kept, variables escaped":
        "{{ _('Signed in as <strong>%(name)s</strong> · %(role)s', name=who, role='Agent') }}",
    "escaped twice": "{{ _('Signed in as <strong>%(name)s</strong> · %(role)s', name=who|e, role='A')|safe }}",
    "trans block": "{% trans %}Sign out{% endtrans %}",
    "trans with a variable": "{% trans name=who %}Hello %(name)s, 100%% done{% endtrans %}",
    "attribute": '<input placeholder="{{ _(\'Search job aids: e.g. “copy of my data”, “card number”\') }}">',
    "without autoescape": "{% autoescape false %}{{ _('Hello %(name)s, 100%% done', name=who) }}{% endautoescape %}",
    "in a variable": "{% set label = _('Sign out') %}{{ label ~ '!' }}|{{ label|length > 0 }}",
    "a macro argument": "{% macro b(text) %}<b>{{ text }}</b>{% endmacro %}{{ b(_('Sign out')) }}",
    "plural left to run time": "{{ ngettext('%(num)s minute', '%(num)s minutes', n) }}",
    "not a literal": "{{ _(message) }}",
    "a variable named _": "{% for _ in [1, 2] %}{{ _ }}{% endfor %}",
}
CONTEXT = {"who": "<b>Eve</b>", "n": 3, "message": "Sign out"}


@pytest.fixture
def snippets_app(app: Flask) -> Flask:
    app.jinja_env.loader = DictLoader({f"{name}.html": source for name, source in SNIPPETS.items()})
    return app


@pytest.mark.parametrize("language", ["en", "fr", "es", "pt", "ar"])
@pytest.mark.parametrize("name", list(SNIPPETS))
def test_a_compiled_message_renders_as_the_callables_render_it(snippets_app: Flask, language: str, name: str):
    with snippets_app.test_request_context("/"), force_locale(language):
        compiled = render_template(f"{name}.html", **CONTEXT)
        at_run_time = snippets_app.jinja_env.from_string(SNIPPETS[name]).render(**CONTEXT)
    assert compiled == at_run_time


def test_messages_are_translated_when_compiled_and_each_language_keeps_its_own(snippets_app: Flask):
    def refuse(*args, **kwargs):
        raise AssertionError("a literal message was looked up at render time")

    with snippets_app.test_request_context("/"):
        snippets_app.jinja_env.globals["_"] = refuse  # only literal messages: none may call it
        with force_locale("fr"):
            assert render_template("plain.html") == "<p>Se déconnecter</p>"
        with force_locale("en"):
            assert render_template("plain.html") == "<p>Sign out</p>"
        with force_locale("fr"):
            assert render_template("markup kept, variables escaped.html", who="<i>Éva</i>") == \
                "Connecté en tant que <strong>&lt;i&gt;Éva&lt;/i&gt;</strong> · Agent"
