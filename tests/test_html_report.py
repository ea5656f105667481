import base64
import html
import json
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from crosscbam.claims import audit, left_out, section_counts
from crosscbam.errors import InputError
from crosscbam.reports.figures import ablation_panel, qualitative_panel
from crosscbam.reports.html import CHECK_PAGE, FIGURE_CAPTIONS, PAGE_WIDTH_PX, build_report
from crosscbam.protocol import write_protocol
from crosscbam.reports.claims import write_claims
from crosscbam.reports.markdown import write_table
from crosscbam.reports.speed import fps_row
from crosscbam.reports.tables import compile_table, table_notes
from crosscbam.paper import speed_group

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PALETTE = [(128, 64, 128), (244, 35, 232)]
PROVENANCE = {"device": "a very long device name " * 4, "commit": "0123456789abcdef" * 2 + "-dirty",
              "libraries": {"fvcore": "0.1.5"}}


def records():
    complexity = [{"kind": "complexity", "model": m, "input": [1, 3, 512, 1024], "gflops": g, "params_m": p,
                   "params_inference": int(p * 1e6) - 592_531, "provenance": PROVENANCE}
                  for m, g, p in [("M1", 11.33, 12.2135), ("M1-d2-4", 12.41, 14.31), ("M1-d3-5", 12.9, 14.31)]]
    evaluation = [{"kind": "evaluation", "model": m, "dataset": "cityscapes", "miou_mean": 0.3, "miou_std": 0.01, "n_seeds": 2,
                   "preset": "smoke", "data": "synthetic", "provenance": PROVENANCE} for m in ("M1", "L1", "M2", "L2")]
    speed = [{"model": "M1", "input": [1, 3, 512, 1024], "backend": "onnxruntime", "precision": "fp32", "fps": 3.0,
              "timing": {"cv": 0.01, "iterations": 20},
              "reference": {"model": "STDC1-Seg", "fps": 4.0, "timing": {"cv": 0.01, "iterations": 20}},
              "fps_ratio": 0.75, "provenance": PROVENANCE}]
    group = {"kind": "fps_group", "table": "table2", "scale": 1.0, "backend": "onnxruntime", "precision": "fp32",
             "models": [e["network"] for e in speed_group("table2")], "provenance": PROVENANCE,
             "networks": [{"model": e["network"], "input": [1, 3, *e["size"]], "rows": e["rows"], "fps": 3.0 + i,
                           "timing": {"cv": 0.01, "iterations": 20}, "params": 12_000_000, "gflops": 10.0}
                          for i, e in enumerate(speed_group("table2"))]}
    return complexity + evaluation + speed + [group]


def real_data_tables(tmp_path):
    """The cpu preset's own tables: the measured ablation and the deployment table."""
    from crosscbam.reports.ablation import STEPS, write_ablation
    from crosscbam.reports.deployment import write_deployment

    scale = "cpu preset, CamVid (SegNet copy) 360x480, 2000 iterations x batch 8, seeds 0,1,2"
    runs = [{"kind": "evaluation_run", "model": n, "miou": 0.4 + 0.01 * i + 0.003 * s, "train_config": {"seed": s}}
            for i, (_, n) in enumerate(STEPS["camvid"]) for s in (0, 1, 2)]
    write_ablation(runs, "camvid", scale, str(tmp_path / "ablation_camvid.csv"), str(tmp_path / "ablation_camvid.md"))
    timing = {"fps": 10.0, "cv": 0.02, "iterations": 100}
    record = {"model": "camvid-M", "checkpoint": "results/cpu/train/camvid/camvid-M/seed0/final.pth" * 2, "data": "CamVid (SegNet copy) 360x480",
              "split": "test", "size": [360, 480], "calibration": {"split": "train", "images": 100, "method": "min-max"},
              "provenance": PROVENANCE,
              "deployments": [{"deployment": d, "backend": d.split()[0], "precision": d.split()[1], "timing": timing, "miou": 0.5,
                               "pixel_accuracy": 0.8, "n_images": 233}
                              for d in ("torch fp32", "onnxruntime fp32", "onnxruntime int8", "torch bf16")]}
    write_deployment(record, str(tmp_path / "deployment.csv"), str(tmp_path / "deployment.md"))
    return [tmp_path / "ablation_camvid.csv", tmp_path / "deployment.csv"]


def make_report(tmp_path):
    tables = []
    for table in ("table2", "table5"):
        frame = compile_table(table, records(), preset="smoke")
        write_table(frame, tmp_path / f"{table}.csv", tmp_path / f"{table}.md", table, table_notes(table, "smoke"), compact=True)
        tables.append(tmp_path / f"{table}.csv")
    frame = audit()  # the page reads its CSV back, as the workflow does: empty fields become NaN
    write_claims(frame, section_counts(frame), left_out(), tmp_path / "claims.csv", tmp_path / "claims.md")
    write_protocol(tmp_path / "protocol.csv", tmp_path / "protocol.md")  # long text in many columns; a rivals table
    speed = fps_row({**records()[-2], "timing": {"cv": 0.01, "latency_ms_median": 300.0, "latency_ms_p90": 310.0, "iterations": 20},
                     "reference": {"model": "STDC1-Seg", "fps": 4.0, "timing": {"cv": 0.02, "iterations": 20}}})
    pd.DataFrame([speed] * 3).to_csv(tmp_path / "fps.csv", index=False)  # 28 columns in the CSV
    tables += [tmp_path / "claims.csv", tmp_path / "protocol.csv", tmp_path / "fps.csv", *real_data_tables(tmp_path)]
    build_report(tables, figures(tmp_path), tmp_path / "report.html", "smoke", {"commit": "abc", "torch": "2.13.0"})
    return tmp_path / "report.html"


def figures(tmp_path):
    """A Fig. 7 panel wider than the page (shown scaled down) and a tall Fig. 8 panel narrower than the
    650 px that once enlarged it."""
    label = np.repeat(np.arange(2), 16)[None].repeat(16, 0)
    rows = [{"image": np.zeros((16, 32, 3), np.uint8), "prediction": np.zeros((16, 32), int), "label": label, "miou": 0.25}]
    qualitative_panel(rows * 3, PALETTE, tmp_path / "fig7_qualitative.png", "test", ["road", "sidewalk"])
    ablation_panel(rows[0]["image"], {"baseline": rows[0]["prediction"], "M1": label}, label, PALETTE, tmp_path / "fig8_ablation.png",
                   "test", ["road", "sidewalk"])
    return [tmp_path / "fig7_qualitative.png", tmp_path / "fig8_ablation.png"]


def test_page_opens_with_the_summary_and_shows_compact_tables(tmp_path):
    text = make_report(tmp_path).read_text()
    assert text.index("id='summary'") < text.index("id='table2'") < text.index("id='provenance'")
    assert text.index("torch: 2.13.0") > text.index("id='claims'")  # library versions last, not first
    summary = text[text.index("id='summary'"):text.index("id='table2'")]
    assert "inconsistent" in summary and "Adding the SE-ASPP module improves mIoU by 4.48%" in summary
    assert "Table 5 params and FLOPs: 2 consistent, 2 missing result, 1 inconsistent" in summary
    assert "not comparable" in summary  # smoke accuracy and CPU speed: said why
    table2 = text[text.index('<table id="table2">'):]
    header, first_row = table2[:table2.index("</thead>")], table2[table2.index("<tbody><tr>"):table2.index("</tr>", table2.index("<tbody>"))]
    assert first_row.count("<td") <= 13 and "provenance" not in header and "colspan=3>val mIoU" in header
    counts = text[text.index('<table id="claims-per-section">'):]
    assert re.search(r"<td>all</td><td>2[0-9][0-9]</td>", counts[:counts.index('</table>')])
    assert re.search(r"\[1\] preset=smoke", text)  # provenance as a footnote key
    assert "data:image/png;base64," in text and "not a reproduction of the paper" in text
    assert not re.search(r"src=\"(?!data:)", text)  # nothing fetched from elsewhere


def test_smoke_rows_show_no_deltas_that_look_like_matches(tmp_path):
    frame = compile_table("table2", records(), preset="smoke").set_index("model")
    assert frame.loc["Cross-CBAM-M1", "miou_val_delta"] == "n/a"
    assert frame.loc["Cross-CBAM-M1", "fps_ratio_delta"] == "n/a"


def test_the_protocol_section_shows_the_rivals_table_it_promises(tmp_path):
    text = make_report(tmp_path).read_text()
    protocol = text[text.index("id='protocol'"):text.index("id='fps'")]
    assert "trained as below" in protocol and "<h3>Rivals: their own recipes</h3>" in protocol
    rivals = protocol[protocol.index("<h3>Rivals"):]
    assert re.search(r"<th[^>]*>their published recipe</th>", rivals) and "PP-LiteSeg-T" in rivals
    assert "authors_source" not in protocol  # file:line stays in the CSV


def test_figures_are_captioned_by_what_they_show(tmp_path):
    text = make_report(tmp_path).read_text()
    assert f"<figcaption>{FIGURE_CAPTIONS['fig8_ablation']}</figcaption>" in text.replace("&#x27;", "'")
    assert "<figcaption>fig8 ablation</figcaption>" not in text
    (tmp_path / "unknown.png").write_bytes((tmp_path / "fig7_qualitative.png").read_bytes())
    with pytest.raises(InputError, match="no caption for figure unknown.png"):
        build_report([], [tmp_path / "unknown.png"], tmp_path / "other.html", "smoke", {})


def test_findings_read_back_from_the_csv_never_say_nan(tmp_path):
    from crosscbam.reports.claims import finding_sentence

    row = {"section": "3.4", "quote": "alpha balances", "paraphrase": float("nan"), "verdict": "inconsistent",
           "reason": float("nan"), "readings": "CE on the decode head, focal on the auxiliary head"}
    assert finding_sentence(row) == 'Sec. 3.4: "alpha balances" is inconsistent: CE on the decode head, focal on the auxiliary head.'
    assert finding_sentence({**row, "readings": float("nan")}) == 'Sec. 3.4: "alpha balances" is inconsistent.'


def rendered(page, profile):
    """What the page's own script wrote on <body> once Chromium (1400 px wide) had loaded it."""
    run = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         f"--window-size={PAGE_WIDTH_PX},900", f"--user-data-dir={profile}", "--virtual-time-budget=5000",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    body = re.search(r"<body([^>]*)>", run.stdout)
    assert body, run.stderr[-2000:]
    return run.stdout, {key: html.unescape(value) for key, value in re.findall(r'data-([a-z-]+)="([^"]*)"', body.group(1))}


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it as root)")
def test_headless_chromium_renders_everything_within_1400_px(tmp_path):
    dom, checks = rendered(make_report(tmp_path), tmp_path / "profile")
    assert json.loads(checks["images-broken"]) == []
    assert json.loads(checks["too-wide"]) == [], "elements reach past the 1400-px window"
    assert int(checks["scroll-width"]) <= PAGE_WIDTH_PX
    assert json.loads(checks["images-off-ratio"]) == [] and json.loads(checks["images-upscaled"]) == []
    assert json.loads(checks["nan-text"]) == []
    assert dom.count("<tr>") >= 30 and "Table 5" in dom and "protocol" in dom and dom.count("<img") == 2


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it as root)")
def test_the_page_checks_catch_a_wide_table_a_stretched_figure_and_nan(tmp_path):
    figure = figures(tmp_path)[1]
    data = base64.b64encode(figure.read_bytes()).decode("ascii")
    page = tmp_path / "bad.html"
    page.write_text(f"<!DOCTYPE html><html><head><script>{CHECK_PAGE}</script></head><body>"
                    f"<table><tr><td style='white-space: nowrap'>{'wide ' * 400}</td></tr></table>"
                    f"<img alt='squashed' src='data:image/png;base64,{data}' style='width: 300px; height: 100px'>"
                    f"<img alt='enlarged' src='data:image/png;base64,{data}' style='width: 1000px'>"
                    "<p>is inconsistent: nan.</p><p>Nantes and finance stay</p></body></html>")
    _, checks = rendered(page, tmp_path / "profile")
    assert any(element.startswith("table:") for element in json.loads(checks["too-wide"]))
    assert [s.split(":")[0] for s in json.loads(checks["images-off-ratio"])] == ["squashed"]
    assert [s.split(":")[0] for s in json.loads(checks["images-upscaled"])] == ["enlarged"]
    assert json.loads(checks["nan-text"]) == ["is inconsistent: nan."]
