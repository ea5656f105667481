"""One self-contained HTML page: a one-screen summary of the findings first (claims, complexity,
what was and was not reproduced here and why), then each table as paper | ours | verdict with
provenance behind numbered footnotes, the claims audit, the figures, and the run's provenance last.
Figures are embedded as data URIs at their own size and aspect ratio, each with a caption saying what it
shows, so the page can be mailed or archived alone; nothing is wider than a 1400-px window (long text
wraps; wide tables show their compact view and scroll inside their own box)."""

from __future__ import annotations

import base64
import html
from collections import Counter
from pathlib import Path

import pandas as pd

from crosscbam.claims import section_counts
from crosscbam.errors import InputError
from crosscbam.io import write_text
from crosscbam.reports.claims import finding_sentence
from crosscbam.reports.markdown import COMPACT_GROUPS, compact_view
from crosscbam.reports.speed import fps_view
from crosscbam.reports.verdicts import NOT_BUILT
from crosscbam.tables import TABLES

PAGE_WIDTH_PX = 1400
#: A column whose longest cell is longer than this many characters wraps (numbers and short words stay on one line).
WRAP_AFTER_CHARS = 20
STYLE = """
* { box-sizing: border-box; }
body { font-family: system-ui, sans-serif; margin: 0 auto; padding: 1rem 1.5rem; max-width: 1400px; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2.2rem; border-bottom: 1px solid #ccc; }
h3 { font-size: 1rem; margin: 1rem 0 0.3rem; }
.notes, .footnotes { color: #555; font-size: 0.85rem; }
.footnotes { list-style: none; padding-left: 0; overflow-wrap: anywhere; }
.summary { background: #f7f7f7; border: 1px solid #ddd; padding: 0.5rem 1rem; }
.summary li { margin: 0.15rem 0; }
.table-box { max-width: 100%; overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.75rem; }
th, td { border: 1px solid #ddd; padding: 2px 5px; text-align: right; white-space: nowrap; vertical-align: top; }
td.text, th.text { text-align: left; white-space: normal; overflow-wrap: anywhere; min-width: 6rem; max-width: 26rem; }
th { background: #f3f3f3; }
.inconsistent, .not-reproduced, .noisy { background: #fde2e1; }
.consistent, .reproduced { background: #e3f6e3; }
.ambiguous, .not-comparable, .not-reproduced-here, .undecided { background: #fff6d6; }
.holds { background: #e3f6e3; } .does-not-hold { background: #fde2e1; }
figure { display: inline-block; margin: 0.5rem; vertical-align: top; max-width: 100%; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { font-size: 0.85rem; color: #555; max-width: 60rem; }
"""
# Once the page has loaded, writes on <body> what the report's test checks (JSON lists, empty when all is
# well): images that failed to load, elements reaching past the window's edges, images shown off their
# natural aspect ratio or larger than their natural size (blurred), and visible text reading "nan".
CHECK_PAGE = """
window.addEventListener('load', () => {
  const width = document.documentElement.clientWidth;
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className ? '.' + el.className : '');
  const images = Array.from(document.images);
  const data = document.body.dataset;
  data.scrollWidth = String(document.documentElement.scrollWidth);
  data.imagesBroken = JSON.stringify(images.filter(img => !img.complete || img.naturalWidth === 0).map(img => img.alt));
  data.tooWide = JSON.stringify(Array.from(document.querySelectorAll('body, body *'))
    .map(el => [el, el.getBoundingClientRect()]).filter(([el, box]) => box.right > width + 0.5 || box.left < -0.5)
    .map(([el, box]) => `${name(el)}: ${Math.round(box.left)}-${Math.round(box.right)} px`).slice(0, 10));
  const sizes = img => `${img.alt}: ${img.clientWidth}x${img.clientHeight} shown, ${img.naturalWidth}x${img.naturalHeight} natural`;
  const shown = images.filter(img => img.naturalWidth > 0);
  data.imagesOffRatio = JSON.stringify(shown.filter(img =>
    Math.abs((img.clientWidth / img.clientHeight) / (img.naturalWidth / img.naturalHeight) - 1) > 0.01).map(sizes));
  data.imagesUpscaled = JSON.stringify(shown.filter(img => img.clientWidth > img.naturalWidth).map(sizes));
  data.nanText = JSON.stringify(document.body.innerText.match(/.{0,60}\\bnan\\b.{0,20}/gi) || []);
});
"""
VERDICT_CLASSES = ("not reproduced here", "not reproduced", "not comparable", "inconsistent", "consistent", "reproduced",
                   "ambiguous", "noisy", "holds", "does not hold", "undecided")
#: The columns a reviewer needs from the summary tables (the CSVs keep every column).
SUMMARY_COLUMNS = {
    "claims": ["id", "section", "quote", "paraphrase", "stated", "verdict", "readings", "reason"],
    # The authors' file:line and the tests behind each row stay in reports/protocol.csv (its notes say so).
    "protocol": ["setting", "paper", "paper_section", "authors", "ours", "text_vs_code", "ours_vs_code", "why"],
}
#: Sections of a table's Markdown twin that this page draws itself (every other section is shown below the table).
DRAWN_SECTIONS = {"claims": ("Claims per section", "Every claim")}
#: What each figure shows, by file stem (``FIGURES`` in workflow/rules/common.smk).
FIGURE_CAPTIONS = {
    "fig7_qualitative": "Fig. 7 (Sec. 4.4) from our model: evaluation images with our prediction overlaid at opacity 0.5 "
                        "and 1.0 and the ground truth; each row gives the image's own mIoU, the legend the class colours "
                        "(the numbers and the checkpoint: figures/fig7_qualitative.csv).",
    "fig8_ablation": "Fig. 8 (Sec. 4.4) from our models: one evaluation image segmented by each Table 4 network (overlay "
                     "at opacity 0.5, titled with that network's mIoU on this image), then the ground truth (the numbers and "
                     "the checkpoints: figures/fig8_ablation.csv).",
    "speed_accuracy": "Speed against accuracy for every Table 2 method as the paper reports it (FPS with TensorRT on a "
                      "GTX 1080Ti): val and test mIoU in separate panels; ours are drawn (val) for the full preset only.",
    "speed_ratios": "Relative speed (Tables 2-3): each timed network's FPS ratio to Cross-CBAM-M in the paper against "
                    "the same ratio measured here in one run, with its 95 % interval (hollow: a noisy timing); on the "
                    "dashed line ours equals the paper's.",
    "training_curves": "Training loss and learning rate against iteration for every trained network (first seed); "
                       "the learning rate follows the preset's recipe, stated under the plots.",
}
TITLES = {"protocol": "Training and evaluation protocol: paper, authors' code, ours", "claims": "Claims audit (paper side)",
          "claims_ours": "Claims against our results", "complexity": "Complexity (ours)", "fps": "Speed (ours)", "ablation_camvid": "Table 4's ablation on real CamVid (ours)",
          "deployment": "Deployment on this CPU: speed and test mIoU (ours)"}


def _cell_class(value: object) -> str:
    text = str(value)
    for verdict in VERDICT_CLASSES:
        if text.startswith(verdict):
            return verdict.replace(" ", "-")
    return ""


def _shown(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def _header(columns: list[str], text_columns: list[bool]) -> str:
    """One header row; columns named "<group> <sub>" (the compact view's) get a group row above them."""
    def group_of(column: str) -> str:
        return next((g for g in COMPACT_GROUPS if column.startswith(g + " ")), "")

    def th(label: str, wrap: bool, extra: str = "") -> str:
        return f"<th{' class=text' if wrap else ''}{extra}>{html.escape(label)}</th>"

    groups = [group_of(c) for c in columns]
    if not any(groups):
        return "<tr>" + "".join(th(c, w) for c, w in zip(columns, text_columns)) + "</tr>"
    top, index = [], 0
    while index < len(columns):
        group = groups[index]
        span = 1
        while group and index + span < len(columns) and groups[index + span] == group:
            span += 1
        top.append(th(group, False, f" colspan={span}") if group else th(columns[index], text_columns[index], " rowspan=2"))
        index += span
    bottom = [th(c[len(g) + 1:], False) for c, g in zip(columns, groups) if g]
    return "<tr>" + "".join(top) + "</tr><tr>" + "".join(bottom) + "</tr>"


def _wraps(column: pd.Series) -> bool:
    """Long text wraps in its cell; numbers and short words stay on one line."""
    return any(len(_shown(value)) > WRAP_AFTER_CHARS for value in column)


def _table_html(frame: pd.DataFrame, table_id: str) -> str:
    text_columns = [_wraps(frame[c]) for c in frame.columns]
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for value, wrap in zip(row, text_columns):
            shown = _shown(value)
            css = " ".join(filter(None, ["text" if wrap else "", _cell_class(shown)]))
            cells.append(f'<td class="{css}">{html.escape(shown)}</td>' if css else f"<td>{html.escape(shown)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    head = _header(list(map(str, frame.columns)), text_columns)
    # A table too wide for the window scrolls inside its box, never the page.
    return f'<div class="table-box"><table id="{table_id}"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table></div>'


def _markdown_sections(md_path: Path) -> dict[str, list[str]]:
    """A Markdown twin's lines by "## " section; the lines before the first section under ""."""
    sections: dict[str, list[str]] = {"": []}
    for line in md_path.read_text().splitlines() if md_path.exists() else []:
        if line.startswith("## "):
            sections[line[3:].strip()] = []
        else:
            sections[list(sections)[-1]].append(line)
    return sections


def _notes_html(lines: list[str]) -> str:
    notes = [line[2:] for line in lines if line.startswith("- ")]
    return "<ul class='notes'>" + "".join(f"<li>{html.escape(note)}</li>" for note in notes) + "</ul>" if notes else ""


def _pipe_tables(lines: list[str]) -> list[pd.DataFrame]:
    """The Markdown pipe tables (as pandas writes them) among ``lines``."""
    tables, rows = [], []
    for line in [*lines, ""]:
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif rows:
            tables.append(pd.DataFrame(rows[2:], columns=rows[0]))  # rows[1] is the |:---| rule
            rows = []
    return tables


def _sections_html(name: str, md_path: Path) -> str:
    """The Markdown twin's sections (notes and tables) below the table, but those this page draws itself."""
    parts = []
    for number, (heading, lines) in enumerate(list(_markdown_sections(md_path).items())[1:], 1):
        if heading.startswith(DRAWN_SECTIONS.get(name, ())):
            continue
        tables = "".join(_table_html(table, f"{name}-section{number}-{i}") for i, table in enumerate(_pipe_tables(lines), 1))
        parts.append(f"<h3>{html.escape(heading)}</h3>{_notes_html(lines)}{tables}")
    return "".join(parts)


def _image_html(path: Path) -> str:
    if path.stem not in FIGURE_CAPTIONS:
        raise InputError(f"no caption for figure {path.name}: add one to FIGURE_CAPTIONS in {__name__} "
                         f"(captioned: {', '.join(FIGURE_CAPTIONS)})")
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f'<figure id="{html.escape(path.stem)}"><img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(FIGURE_CAPTIONS[path.stem])}</figcaption></figure>")


def _list(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{html.escape(item)}</li>" for item in items) + "</ul>" if items else ""


def _counted(counter: Counter) -> str:
    return ", ".join(f"{n} {word}" for word, n in counter.most_common())


def _scale_words(frames: dict[str, pd.DataFrame]) -> str:
    """How the run departs from the paper: the scale its reports on real images name (ablation, precision) where there is one."""
    scales = list(dict.fromkeys(str(s) for name, frame in frames.items() if name.startswith(("ablation_", "precision_"))
                                for s in frame.get("scale", pd.Series(dtype=object)).dropna().unique()))
    return "; ".join(scales) if scales else "synthetic data, few iterations"


def real_data_items(frames: dict[str, pd.DataFrame]) -> list[str]:
    """What a measured ablation on real images found, at its scale, and what that does not say."""
    items = []
    for name, frame in frames.items():
        if not name.startswith("ablation_") or "part" not in frame:
            continue
        rows, claims = frame[frame["part"] == "row"], frame[frame["part"] == "claim"]
        scale = rows["scale"].iloc[0] if len(rows) else ""
        items.append(f"Measured at {scale}: a direction at this scale, not the paper's numbers (Table 3 is CamVid at 720x960 "
                     "after 10k GPU iterations; Table 4 is Cityscapes).")
        for row in rows.to_dict("records"):
            if pd.notna(row.get("miou_mean")):
                spread = f" ± {row['miou_std']:.2f}" if pd.notna(row.get("miou_std")) else " (one seed: no spread)"
                items.append(f"{row['row']} ({row['network']}): test mIoU {row['miou_mean']:.2f}{spread} over {int(row['n_seeds'])} seed(s).")
        for claim in claims.to_dict("records"):
            gain = f"{claim['gain_mean']:+.2f} points" if pd.notna(claim.get("gain_mean")) else "no paired seeds"
            items.append(f"{claim['id']} ({claim['comparison']}): {claim['verdict']} ({gain}).")
    for name, frame in frames.items():
        if name.startswith("precision_") and "part" in frame:
            seeds = frame[frame["part"] == "seed"]
            for row in frame[frame["part"] == "summary"].to_dict("records"):
                change = seeds.loc[seeds["network"] == row["network"], "candidate"].iloc[0]
                items.append(f"{change} against FP32, {row['network']} (seeds {row['seeds']}, {row['scale']}): final val mIoU "
                             f"{row['val_difference_mean']:+.2f} points, test {row['test_difference_mean']:+.2f}: {row['verdict']}.")
    return items


def summary_items(frames: dict[str, pd.DataFrame]) -> dict[str, list[str]]:
    """The findings the page opens with, by heading: real-data results, claims, complexity, reproduced here or not."""
    out: dict[str, list[str]] = {}
    real = real_data_items(frames)
    if real:
        out["Measured on real images (reduced scale)"] = real
    claims = frames.get("claims")
    if claims is not None:
        verdicts = Counter(claims["verdict"])
        checked = len(claims) - verdicts["not checkable"]
        out["Claims of the paper (text, citations, tables; no training needed)"] = [
            f"{len(claims)} found, {checked} checked: {verdicts['consistent']} consistent, {verdicts['inconsistent']} "
            f"inconsistent, {verdicts['ambiguous']} ambiguous (true under one reading only); {verdicts['not checkable']} not checkable.",
            *[finding_sentence(row) for row in claims.to_dict("records") if row["verdict"] == "inconsistent"],
        ]
    complexity, counted = [], []
    for name in TABLES:
        frame = frames.get(name)
        if frame is not None and "complexity_verdict" in frame:
            counted.append(name[5:])
            words = Counter(str(v).split(":")[0] for v in frame["complexity_verdict"].dropna())
            complexity.append(f"Table {name[5:]} params and FLOPs: {_counted(words)}.")
            for row in frame.to_dict("records"):
                if str(row.get("complexity_verdict", "")).startswith("inconsistent"):
                    complexity.append(f"Table {name[5:]} {row.get('variant')}: {row['complexity_verdict']}.")
    if complexity:
        out[f"Complexity (parameters, FLOPs) against Table{'s' * (len(counted) > 1)} {' and '.join(counted)}"] = complexity
    reproduced: dict[str, tuple[Counter, list[str]]] = {}
    for name in TABLES:
        frame = frames.get(name)
        if frame is None:
            continue
        for column, label in (("miou_val_verdict", "mIoU"), ("miou_verdict", "mIoU"), ("miou_test_verdict", "test mIoU"),
                              ("fps_verdict", "FPS")):
            verdicts = [str(v) for v in frame.get(column, pd.Series(dtype=object)).dropna() if str(v) != NOT_BUILT]
            if verdicts:
                counts, where = reproduced.setdefault(label, (Counter(), []))
                counts.update(verdicts)
                where.append(name[5:])
    lines = [f"{label} (Tables {', '.join(where)}): {_counted(counts)}." for label, (counts, where) in reproduced.items()]
    ours = frames.get("claims_ours")
    if ours is not None and len(ours):
        lines.append(f"Claims we measure ourselves: {_counted(Counter(ours['verdict_ours']))}.")
    if lines:
        out["Reproduced here, and what was not (and why)"] = lines
    return out


def build_report(tables: list[str | Path], figures: list[str | Path], out: str | Path, preset: str, summary: dict) -> None:
    """Write the page.

    Args:
        tables: CSV files, each with a Markdown twin next to it: its bullet notes are shown above the
            table, its "## " sections (notes and tables) below it.
        figures: PNG files, named as in :data:`FIGURE_CAPTIONS`.
        out: the HTML file to write.
        preset: the workflow preset, shown in the heading.
        summary: run-level provenance (commit, device, library versions, ...), shown last.
    """
    frames = {Path(csv).stem: pd.read_csv(csv) for csv in tables}
    parts = [f"<h1>Cross-CBAM reproduction report ({html.escape(preset)} preset)</h1>"]
    if preset != "full":
        parts.append(f"<p><strong>The {html.escape(preset)} preset is not the paper's protocol ({html.escape(_scale_words(frames))}). "
                     "Its accuracy and speed are not a reproduction of the paper.</strong></p>")
    parts.append("<section class='summary' id='summary'><h2>Summary</h2>")
    for heading, items in summary_items(frames).items():
        parts.append(f"<h3>{html.escape(heading)}</h3>" + _list(items))
    parts.append("</section>")
    for csv in map(Path, tables):
        name, frame = csv.stem, frames[csv.stem]
        title = (f"Table {name[5:]}" if name.startswith("table") else f"Precision change against FP32 on {name[10:]} (ours)"
                 if name.startswith("precision_") else TITLES.get(name, name.capitalize()))
        parts.append(f"<h2 id='{html.escape(name)}'>{html.escape(title)}</h2>")
        parts.append(_notes_html(_markdown_sections(csv.with_suffix(".md"))[""]))
        footnotes: list[str] = []
        if name.startswith("ablation_") and "part" in frame:
            from crosscbam.reports.ablation import CLAIM_COLUMNS, ROW_COLUMNS

            parts.append(_table_html(frame[frame["part"] == "row"][ROW_COLUMNS].round(2), f"{name}-rows"))
            parts.append(_table_html(frame[frame["part"] == "claim"][CLAIM_COLUMNS].round(2), f"{name}-claims"))
            parts.append(_sections_html(name, csv.with_suffix(".md")))
            continue
        if name.startswith("precision_") and "part" in frame:
            from crosscbam.reports.precision import COLUMNS, SUMMARY_COLUMNS as PRECISION_SUMMARY

            parts.append(_table_html(frame[frame["part"] == "summary"][PRECISION_SUMMARY].round(2), f"{name}-summary"))
            parts.append(_table_html(frame[frame["part"] == "seed"][COLUMNS].astype({"seed": int}).round(2), f"{name}-seeds"))
            continue
        if name.startswith("table"):
            frame, footnotes = compact_view(frame)
        elif name == "fps":  # the view fps.md shows (reports.speed.fps_view)
            frame = fps_view(frame)
        elif name in SUMMARY_COLUMNS:
            if name == "claims":
                parts.append("<h3>Claims per section</h3>" + _table_html(section_counts(frame), "claims-per-section")
                             + "<h3>Every claim</h3>")
            frame = frame[[c for c in SUMMARY_COLUMNS[name] if c in frame]]
        parts.append(_table_html(frame, name))
        if footnotes:
            parts.append("<ul class='footnotes'>" + "".join(f"<li>{html.escape(note)}</li>" for note in footnotes) + "</ul>")
        parts.append(_sections_html(name, csv.with_suffix(".md")))
    if figures:
        parts.append("<h2 id='figures'>Figures</h2>")
        parts.extend(_image_html(Path(p)) for p in figures)
    parts.append("<h2 id='provenance'>Provenance of this run</h2><ul class='notes'>"
                 + "".join(f"<li>{html.escape(str(k))}: {html.escape(str(v))}</li>" for k, v in summary.items()) + "</ul>")
    page = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Cross-CBAM reproduction report</title>"
            f"<style>{STYLE}</style><script>{CHECK_PAGE}</script></head><body>{''.join(parts)}</body></html>")
    write_text(page, out)
