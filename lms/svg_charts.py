"""Charts as static SVG, shared by quiz analysis and the certification dashboard (pages and PDFs)."""
from __future__ import annotations


def static_svg(chart) -> str:
    """Render a pygal chart without its <script> elements: pages and PDFs need no JavaScript."""
    # pygal builds its tree with lxml when that is installed, else with the standard library.
    from pygal.etree import etree

    tree = chart.render_tree()
    for parent in list(tree.iter()):
        for child in list(parent):
            if str(child.tag).endswith("script"):
                parent.remove(child)
    return etree.tostring(tree, encoding="unicode")
