"""Exports of a trace for lectures: a standalone HTML file that plays offline, and a still SVG of the graph.

Both reuse the web page's own model/ and view/ modules, bundled once by `npm run build` into
frontend/static/dist/ (committed, so exporting never needs npm or the network).
"""
from .standalone import ExportError, standalone_html, trace_program
from .svg import render_svg, svg_from_trace

__all__ = ["ExportError", "standalone_html", "trace_program", "render_svg", "svg_from_trace"]
