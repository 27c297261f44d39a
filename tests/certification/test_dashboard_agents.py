"""The dashboard (#19): figures labelled "agents" count each agent once, the chart keeps the
table's order, the tables sort by their headers, dates are the reader's, and the filters fold
into a drawer on phones."""
from __future__ import annotations

import re

from lms.certification import reports
from lms.certification.status import Status
from lms.extensions import db
from tests.staff_world import AT, World, build, world  # noqa: F401 (fixture)
from tests.test_main_home import text


def counts_rows(html: str) -> list[list[str]]:
    """The counts table's rows: the organisation, then its cells."""
    table = re.search(r'<table class="counts compact".*?</table>', html, re.S).group(0)
    body = table.split("<tbody>")[1]
    return [[text(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def chart_rows(client, query: str = "") -> list[str]:
    """The chart's bar labels from top to bottom."""
    svg = client.get(f"/dashboard/status.svg{query}").get_data(as_text=True)
    labels = re.findall(r'<text[^>]*y="([\d.]+)"[^>]*>(Atlas Care|Lisboa CS)</text>', svg)
    return [name for _, name in sorted(((float(y), name) for y, name in labels))]


def test_each_agent_counts_once_under_what_needs_action_first(world):
    counts = reports.agent_counts(world.trainer, reports.Filters(), AT)
    # Ana: overdue in one programme, not started in the other: counted once, as overdue.
    assert counts.by_group == {"Atlas Care": {"overdue": 1, "expiring": 1},
                               "Lisboa CS": {"not_started": 1, "certified": 1}}
    assert counts.agents == 4 and counts.enrolments == 5  # the list has a row per programme
    overdue = reports.agent_counts(world.trainer, reports.Filters(status=Status.OVERDUE), AT)
    assert overdue.agents == 4 and overdue.enrolments == 1
    headline = reports.headline(world.trainer, AT)
    assert (headline.agents, headline.certified, headline.certified_percent) == (4, 2, 50)
    assert (headline.overdue, headline.due_soon, headline.expiring) == (1, 1, 1)
    scoped = reports.headline(world.scoped, AT)
    assert (scoped.agents, scoped.certified, scoped.overdue) == (2, 1, 1)


def test_the_page_labels_agents_and_rows_apart(world, client, login_as):
    login_as(world.trainer)
    html = client.get("/dashboard").get_data(as_text=True)
    assert "Agents by organisation" in html and "4 agents in this view." in text(html)
    assert counts_rows(html) == [["Atlas Care", "0", "0", "1", "0", "1", "0", "0", "2"],
                                 ["Lisboa CS", "1", "0", "0", "1", "0", "0", "0", "2"]]
    assert '<caption class="visually-hidden" id="agents-caption">5 enrolments matching the filters</caption>' in html
    html = client.get("/dashboard?status=overdue").get_data(as_text=True)
    assert '<caption class="visually-hidden" id="agents-caption">1 enrolment matching the filters</caption>' in html
    assert counts_rows(html)[0][-1] == "2"  # the counts still show every status


def test_the_chart_keeps_the_tables_order(world, client, login_as):
    login_as(world.trainer)
    assert [row[0] for row in counts_rows(client.get("/dashboard").get_data(as_text=True))] == ["Atlas Care", "Lisboa CS"]
    assert chart_rows(client) == ["Atlas Care", "Lisboa CS"]
    # Most agents not started first: Lisboa, then Atlas, in the table and in the chart alike.
    query = "?csort=not_started&corder=desc"
    html = client.get(f"/dashboard{query}").get_data(as_text=True)
    assert [row[0] for row in counts_rows(html)] == ["Lisboa CS", "Atlas Care"]
    assert f'src="/dashboard/status.svg{query.replace("&", "&amp;")}"' in html
    assert chart_rows(client, query) == ["Lisboa CS", "Atlas Care"]
    assert chart_rows(client, "?csort=group&corder=desc") == ["Lisboa CS", "Atlas Care"]


def test_headers_sort_and_say_how(world, client, login_as):
    login_as(world.trainer)
    html = client.get("/dashboard").get_data(as_text=True)
    # Each sortable header names its key; the one the list is sorted by says so (aria-sort).
    assert '<table class="striped compact" id="agents-table" data-sort-param="sort" data-order-param="order">' in html
    assert '<th scope="col" data-sort="due" aria-sort="ascending">Due or expires</th>' in html
    assert '<th scope="col" data-sort="name">Agent</th>' in html
    assert '<th scope="col" data-sort="group" aria-sort="ascending">Organisation</th>' in html
    assert '<th scope="col" data-sort="overdue" data-first-order="desc">Overdue</th>' in html
    assert re.search(r'<script src="/static/js/table_tools.js" nonce="[^"]+" defer></script>', html)
    html = client.get("/dashboard?sort=name&order=desc&csort=total&corder=desc").get_data(as_text=True)
    assert '<th scope="col" data-sort="name" aria-sort="descending">Agent</th>' in html
    assert '<th scope="col" data-sort="total" data-first-order="desc" aria-sort="descending">Agents</th>' in html
    # The counts table's order survives the filter form (hidden fields).
    assert '<input type="hidden" name="csort" value="total">' in html
    names = re.findall(r'href="/people/\d+">([^<]+)</a>', html)
    assert names == sorted(names, reverse=True)


def test_dates_are_the_readers_and_the_tables_scroll_in_focusable_regions(world, client, login_as):
    world.trainer.time_zone = "Pacific/Auckland"
    db.session.commit()
    login_as(world.trainer)
    html = client.get("/dashboard?status=overdue").get_data(as_text=True)
    row = text(re.search(r"<tbody>\s*<tr><td><a href=\"/people/.*?</tr>", html, re.S).group(0))
    assert row.startswith("Ana Overdue") and "3 Jan 2026" in row  # 23:59 UTC on 2 January, in Auckland
    assert 'class="table-scroll tall" tabindex="0" role="region" aria-labelledby="agents-caption"' in html
    assert 'class="table-scroll" tabindex="0" role="region" aria-labelledby="counts-caption"' in html


def test_the_filters_fold_into_a_drawer_that_counts_what_is_applied(world, client, login_as):
    login_as(world.trainer)
    html = client.get("/dashboard").get_data(as_text=True)
    assert '<details class="filter-drawer" open>\n  <summary>Filters</summary>' in html
    html = client.get(f"/dashboard?status=overdue&organisation={world.atlas.id}").get_data(as_text=True)
    assert '<summary>Filters <span class="badge">2 applied</span></summary>' in html
