"""The layout's navigation links, rendered once per role, language and page, then kept.

Which links a person sees depends on their role alone (`policy.can` is a role check for a
signed-in, active person), the page's language, the current endpoint (it marks its link with
aria-current) and where the app is mounted; not on who they are. Rendering the links cost about
a fifth of a signed-in 404 (twenty-odd permission checks, links and messages), so
templates/_layout/navigation.html is rendered for each such combination once, with only those
inputs, and the HTML is kept in the process. The template gets no `current_user` and no
`request`: a link that depends on one person belongs in base.html, outside it.
"""
from __future__ import annotations

from flask import Flask, request
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup

from lms.accounts.models import Role
from lms.policy import GRANTS, Permission

# Roles × languages × endpoints is bounded, but a crawler can visit every page in every language:
# beyond this many the kept links are dropped and rendered again as needed.
MAX_KEPT = 4096


def _allowed(role: Role) -> frozenset[Permission]:
    return frozenset(permission for permission, roles in GRANTS.items() if role in roles)


def install(app: Flask) -> None:
    """Give templates `navigation()`: the signed-in person's navigation links, as HTML."""
    template = "_layout/navigation.html"
    allowed = {role: _allowed(role) for role in Role}
    kept: dict[tuple, Markup] = {}

    def navigation() -> Markup:
        role = current_user.role
        here = request.endpoint or ""
        key = (role, get_locale(), here, request.script_root)
        html = kept.get(key)
        if html is None:
            if len(kept) >= MAX_KEPT:
                kept.clear()
            # Rendered straight from the environment: no context processors, so nothing about
            # the person or the request reaches the template beyond what the key holds.
            html = kept[key] = Markup(app.jinja_env.get_template(template).render(
                role=role, allowed=allowed[role], nav_here=here))
        return html

    app.jinja_env.globals["navigation"] = navigation
