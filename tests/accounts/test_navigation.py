"""The header's navigation (#19): staff links grouped in menus by role, the agent's header unchanged,
the phone menu button, and the menu holding the current page marked."""
from html.parser import HTMLParser

from lms.accounts.models import Role
from lms.extensions import db
from tests import factories


class _Header(HTMLParser):
    """The links of the main navigation, each with the menu (<summary> text) it sits in, or None."""

    def __init__(self):
        super().__init__()
        self.in_nav = False
        self.menu: str | None = None
        self.in_summary = self.in_link = False
        self.links: list[tuple[str | None, str, bool]] = []
        self.buttons: list[tuple[dict, str]] = []
        self._text = ""
        self._attrs: dict = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "nav" and attrs.get("aria-label") == "Main":
            self.in_nav = True
        if not self.in_nav:
            return
        if tag == "summary":
            self.in_summary, self._text = True, ""
        elif tag in ("a", "button"):
            self.in_link, self._text, self._attrs = True, "", attrs

    def handle_endtag(self, tag):
        if not self.in_nav:
            return
        if tag == "nav":
            self.in_nav = False
        elif tag == "summary":
            self.in_summary, self.menu = False, self._text.strip()
        elif tag == "details":
            self.menu = None
        elif tag == "a" and self.in_link:
            self.in_link = False
            self.links.append((self.menu, self._text.strip(), self._attrs.get("aria-current") == "page"))
        elif tag == "button" and self.in_link:
            self.in_link = False
            self.buttons.append((self._attrs, self._text.strip()))

    def handle_data(self, data):
        if self.in_summary or self.in_link:
            self._text += data


def _header(client, path="/"):
    parser = _Header()
    parser.feed(client.get(path).get_data(as_text=True))
    return parser


def test_admin_links_are_grouped_in_menus_and_the_current_one_is_marked(client, login_as):
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    login_as(admin)
    header = _header(client, "/admin/breaches")
    menus: dict[str | None, list[str]] = {}
    for menu, text, _ in header.links:
        menus.setdefault(menu, []).append(text)
    assert menus[None] == ["CallSafe Academy", "Home", "Courses", "Job aids", "Your account"]
    assert menus["People"] == ["Dashboard", "Assignments", "Users", "Roster import", "Organisations"]
    assert menus["Content"] == ["Authoring", "Quiz analysis"]
    assert menus["Evidence"] == ["Exports", "Audit log"]
    assert menus["Privacy"] == ["Requests", "Breaches"]
    assert menus["Settings"] == ["Single sign-on", "API keys", "Webhooks", "xAPI", "Branding",
                                 "Reminders outbox"]
    assert [(menu, text) for menu, text, current in header.links if current] == [("Privacy", "Breaches")]
    page = client.get("/admin/breaches").get_data(as_text=True)
    assert 'class="dropdown nav-menu nav-menu-current"' in page  # the Privacy menu looks active
    assert page.count("nav-menu-current") == 1


def test_agent_header_has_the_same_links_as_before_and_a_phone_menu_button(client, login_as):
    agent = factories.user(Role.AGENT)
    db.session.commit()
    login_as(agent)
    header = _header(client)
    assert [(menu, text) for menu, text, _ in header.links] == [
        (None, "CallSafe Academy"), (None, "Home"), (None, "Courses"), (None, "Job aids"), (None, "Your account")]
    assert [text for _, text, current in header.links if current] == ["Home"]
    toggle, sign_out = header.buttons
    assert toggle[1] == "Menu" and toggle[0]["aria-expanded"] == "false"
    assert toggle[0]["aria-controls"] == "nav-links"
    assert sign_out[1] == "Sign out"
    page = client.get("/").get_data(as_text=True)
    assert "<details" not in page.split('aria-label="Main"')[1].split("</nav>")[0]
    assert 'src="/static/js/nav.js"' in page


def test_kept_navigation_follows_a_change_of_role_language_and_page(app, client, login_as):
    """lms/navigation.py keeps the rendered links per role, language and page: none of them may
    carry over to a person, language or page it was not rendered for."""
    agent = factories.user(Role.AGENT)
    db.session.commit()
    login_as(agent)
    assert [text for _, text, _ in _header(client).links] == [
        "CallSafe Academy", "Home", "Courses", "Job aids", "Your account"]

    agent.role = Role.TRAINER  # promoted: the next page shows a trainer's links
    db.session.commit()
    trainer_links = [(menu, text) for menu, text, _ in _header(client).links]
    assert ("Content", "Authoring") in trainer_links and ("People", "Dashboard") in trainer_links

    assert [text for _, text, current in _header(client, "/courses").links if current] == ["Courses"]
    assert [text for _, text, current in _header(client, "/").links if current] == ["Home"]

    agent.language = "fr"
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert 'aria-current="page">Accueil</a>' in page and ">Home</a>" not in page
