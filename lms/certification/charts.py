"""Status counts per organisation as a stacked bar chart (server-side SVG, no script)."""
from __future__ import annotations

from flask_babel import gettext as _

from lms.certification.status import Status
from lms.svg_charts import static_svg

COLOURS = {Status.NOT_STARTED: "#9aa5b1", Status.IN_PROGRESS: "#2f5aa8", Status.OVERDUE: "#b3261e",
           Status.CERTIFIED: "#1b7a3d", Status.EXPIRING: "#d08a00", Status.EXPIRED: "#6b2d2d",
           Status.REVOKED: "#444444"}


def status_chart_svg(counts: dict[str, dict[str, int]]) -> str:
    """Agents by status for each row of `counts`, the bars top to bottom in the order of `counts`
    (the order of the table beside the chart)."""
    import pygal
    from pygal.style import Style

    statuses = list(Status)
    style = Style(background="white", plot_background="white", colors=tuple(COLOURS[s] for s in statuses),
                  font_family="DejaVu Sans, Arial, sans-serif")
    chart = pygal.HorizontalStackedBar(js=[], disable_xml_declaration=True, style=style, width=800,
                                       height=max(220, 70 + 46 * len(counts)), legend_at_bottom=True,
                                       legend_at_bottom_columns=4, print_values=False,
                                       title=_("Agents by certification status"))
    # A horizontal bar chart draws its first label at the bottom: give it the rows bottom first.
    rows = list(reversed(counts))
    chart.x_labels = rows
    for status in statuses:
        # str(): the label is translated lazily, and pygal writes it straight into the SVG tree.
        chart.add(str(status.label), [counts[row].get(status.value, 0) or None for row in rows])
    return static_svg(chart)
