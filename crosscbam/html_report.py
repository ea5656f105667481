"""One self-contained HTML page with the tables, figures, claims audit and the provenance of every
number (figures are embedded as data URIs, so the page can be mailed or archived alone)."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import pandas as pd

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1400px; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2.5rem; border-bottom: 1px solid #ccc; }
.notes { color: #555; font-size: 0.9rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.75rem; }
th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: right; white-space: nowrap; }
th { background: #f3f3f3; position: sticky; top: 0; }
td.inconsistent, td.not-reproduced { background: #fde2e1; }
td.consistent, td.reproduced { background: #e3f6e3; }
td.not-comparable, td.not-reproduced-here { background: #fff6d6; }
figure { display: inline-block; margin: 1rem; vertical-align: top; }
figure img { max-width: 650px; border: 1px solid #ddd; }
"""
# Sets data-images-ok on <body> once every image has decoded: the report's test reads it.
CHECK_IMAGES = """
window.addEventListener('load', () => {
  const ok = Array.from(document.images).every(img => img.complete && img.naturalWidth > 0);
  document.body.dataset.imagesOk = String(ok);
});
"""
VERDICT_CLASSES = ("not reproduced here", "not reproduced", "not comparable", "inconsistent", "consistent", "reproduced")


def _cell_class(value: object) -> str:
    text = str(value)
    for verdict in VERDICT_CLASSES:
        if text.startswith(verdict):
            return verdict.replace(" ", "-")
    return ""


def _table_html(frame: pd.DataFrame, table_id: str) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for value in row:
            shown = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
            css = _cell_class(shown)
            cells.append(f'<td class="{css}">{html.escape(shown)}</td>' if css else f"<td>{html.escape(shown)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<div class="scroll"><table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _markdown_notes(md_path: Path) -> str:
    lines = [line[2:] for line in md_path.read_text().splitlines() if line.startswith("- ")] if md_path.exists() else []
    return "<ul class='notes'>" + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul>"


def _image_html(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    caption = html.escape(path.stem.replace("_", " "))
    return f'<figure><img alt="{caption}" src="data:image/png;base64,{data}"><figcaption>{caption}</figcaption></figure>'


def build_report(tables: list[str | Path], figures: list[str | Path], out: str | Path, preset: str, summary: dict) -> None:
    """Write the page.

    Args:
        tables: CSV files (each with a Markdown twin next to it whose bullet notes are shown).
        figures: PNG files.
        out: the HTML file to write.
        preset: the workflow preset, shown in the heading.
        summary: run-level provenance (commit, device, library versions, ...), shown as a list.
    """
    parts = [f"<h1>Cross-CBAM reproduction report ({html.escape(preset)} preset)</h1>"]
    if preset != "full":
        parts.append(f"<p><strong>The {html.escape(preset)} preset runs on synthetic data with few iterations. Its accuracy and speed are not a reproduction of the paper.</strong></p>")
    parts.append("<ul class='notes'>" + "".join(f"<li>{html.escape(str(k))}: {html.escape(str(v))}</li>" for k, v in summary.items()) + "</ul>")
    for csv in map(Path, tables):
        frame = pd.read_csv(csv)
        title = csv.stem.replace("table", "Table ") if csv.stem.startswith("table") else csv.stem.capitalize()
        parts.append(f"<h2 id='{csv.stem}'>{html.escape(title)}</h2>")
        parts.append(_markdown_notes(csv.with_suffix(".md")))
        parts.append(_table_html(frame, csv.stem))
    if figures:
        parts.append("<h2 id='figures'>Figures</h2>")
        parts.extend(_image_html(Path(p)) for p in figures)
    page = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Cross-CBAM reproduction report</title>"
            f"<style>{STYLE}</style><script>{CHECK_IMAGES}</script></head><body>{''.join(parts)}</body></html>")
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(page, encoding="utf-8")
