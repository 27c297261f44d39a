"""Templates compiled once per language, with their fixed messages already translated.

A template's `_('Sign out')` or `{% trans %}` looks its message up on every render: Jinja's call
machinery, the catalogue, marking the text safe and escaping it again on output, about 4 µs a
message. The layout alone has two dozen, the agent home about eighty: a seventh of a signed-in
404 (bench/README.md, #17 pages). Messages are fixed text and a language's catalogue never
changes while the app runs, so `MessageEnvironment` compiles each template once per language
and replaces, in the compiled code:

- `_('text')` and `gettext('text')` by the translation, marked safe under autoescape, as the
  template callables (lms/catalogue_lookup.py) return it;
- the same with variables (`_('Signed in as %(name)s', name=user.name)`, and `{% trans %}`) by
  the translation `%`-formatted with them at render time, escaped as the callables escape them.

Plural and context forms, and messages that are not a literal, still go through the callables
at render time. The language is the one the callables would use: the request's locale, or the
one `force_locale` sets. A template loaded where no locale is known compiles as before.
"""
from __future__ import annotations

import weakref
from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any

from babel.support import NullTranslations
from flask.templating import Environment
from jinja2 import BytecodeCache, Template, nodes
from jinja2.bccache import Bucket
from jinja2.visitor import NodeTransformer

from lms.catalogue_lookup import request_catalogue, request_locale

# The catalogue of the template being compiled (set while MessageEnvironment loads one).
_COMPILING: ContextVar[tuple[str, NullTranslations] | None] = ContextVar("lms_template_language", default=None)

# The template callables whose literal messages are translated at compile time.
_GETTEXT_NAMES = frozenset({"_", "gettext"})


class MessageEnvironment(Environment):
    """Flask's Jinja environment, keeping each template compiled per language."""

    def __init__(self, *args: Any, **options: Any) -> None:
        # Jinja keeps 400 compiled templates by default, fewer than the app's templates in five
        # languages: keep them all (their number is bounded by the files and the languages).
        options.setdefault("cache_size", -1)
        super().__init__(*args, **options)

    def _load_template(self, name: str, globals: MutableMapping[str, Any] | None) -> Template:
        # Jinja's own, with the language in the cache key and the catalogue set for the compiler.
        if self.loader is None:
            raise TypeError("no loader for this environment specified")
        # The Locale itself in the key (equal locales are equal keys): a page loads five templates
        # or so, and naming the locale and finding its catalogue cost more than the lookup.
        cache_key = (weakref.ref(self.loader), name, request_locale())
        if self.cache is not None:
            template = self.cache.get(cache_key)
            if template is not None and (not self.auto_reload or template.is_up_to_date):
                if globals:
                    template.globals.update(globals)
                return template
        token = _COMPILING.set(request_catalogue())
        try:
            template = self.loader.load(self, name, self.make_globals(globals))
        finally:
            _COMPILING.reset(token)
        if self.cache is not None:
            self.cache[cache_key] = template
        return template

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        compiling = _COMPILING.get()
        if compiling is not None:
            tree = _TranslateMessages(compiling[1], _assigned_names(tree)).visit(tree)
            tree.set_environment(self)
        return tree

    @property
    def bytecode_cache(self) -> BytecodeCache | None:
        return self._bytecode_cache

    @bytecode_cache.setter
    def bytecode_cache(self, cache: BytecodeCache | None) -> None:
        # Compiled code differs by language, so a bytecode cache keeps it by language too.
        self._bytecode_cache = _ByLanguage(cache) if cache is not None else None


class _ByLanguage(BytecodeCache):
    """A bytecode cache's buckets, keyed by template and language."""

    def __init__(self, inner: BytecodeCache) -> None:
        self.inner = inner

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        compiling = _COMPILING.get()
        return self.inner.get_cache_key(f"{name}\0{compiling[0] if compiling else ''}", filename)

    def load_bytecode(self, bucket: Bucket) -> None:
        self.inner.load_bytecode(bucket)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.inner.dump_bytecode(bucket)

    def clear(self) -> None:
        self.inner.clear()


def _assigned_names(tree: nodes.Template) -> set[str]:
    # A template that names a variable or a macro parameter `_` means that, not the message.
    return {name.name for name in tree.find_all(nodes.Name) if name.ctx in ("store", "param")}


class _TranslateMessages(NodeTransformer):
    """Replaces literal messages' calls by their translation (see the module docstring)."""

    def __init__(self, translations: NullTranslations, assigned: set[str]) -> None:
        self.translations = translations
        self.names = _GETTEXT_NAMES - assigned

    def visit_Call(self, node: nodes.Call) -> nodes.Node:
        node = self.generic_visit(node)
        callee, args = node.node, node.args
        if not (isinstance(callee, nodes.Name) and callee.name in self.names and len(args) == 1
                and isinstance(args[0], nodes.Const) and isinstance(args[0].value, str)
                and node.dyn_args is None and node.dyn_kwargs is None):
            return node
        text = self.translations.ugettext(args[0].value)
        lineno = node.lineno
        if not node.kwargs:
            try:
                text = text % {} if "%" in text else text  # as the callables format: "%%" reads "%"
            except (KeyError, ValueError, TypeError):
                return node  # a placeholder without its variable: left to fail as it would at render
            return nodes.MarkSafeIfAutoescape(nodes.Const(text, lineno=lineno), lineno=lineno)
        # Markup % {...} escapes each variable under autoescape; text without "%" comes out unchanged.
        variables = nodes.Dict([nodes.Pair(nodes.Const(keyword.key, lineno=lineno), keyword.value, lineno=lineno)
                                for keyword in node.kwargs], lineno=lineno)
        return nodes.Mod(nodes.MarkSafeIfAutoescape(nodes.Const(text, lineno=lineno), lineno=lineno), variables,
                         lineno=lineno)
