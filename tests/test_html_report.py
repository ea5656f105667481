import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from crosscbam.claims import audit
from crosscbam.figures import qualitative_panel
from crosscbam.html_report import PAGE_WIDTH_PX, build_report
from crosscbam.reports import compile_table, table_notes, write_table
from crosscbam.reports import fps_row
from crosscbam.paper import speed_group

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PROVENANCE = {"device": "a very long device name " * 4, "commit": "0123456789abcdef" * 2 + "-dirty",
              "libraries": {"fvcore": "0.1.5"}}


def records():
    complexity = [{"kind": "complexity", "model": m, "input": [1, 3, 512, 1024], "gflops": g, "params_m": p,
                   "params_inference": int(p * 1e6) - 592_531, "provenance": PROVENANCE}
                  for m, g, p in [("M1", 11.33, 12.2135), ("M1-d2-4", 12.41, 14.31), ("M1-d3-5", 12.9, 14.31)]]
    evaluation = [{"kind": "evaluation", "model": m, "dataset": "cityscapes", "miou_mean": 0.3, "miou_std": 0.01, "n_seeds": 2,
                   "preset": "smoke", "data": "synthetic", "provenance": PROVENANCE} for m in ("M1", "L1", "M2", "L2")]
    speed = [{"model": "M1", "input": [1, 3, 512, 1024], "backend": "onnxruntime", "precision": "fp32", "fps": 3.0,
              "timing": {"cv": 0.01}, "reference": {"model": "STDC1-Seg", "fps": 4.0, "timing": {"cv": 0.01}},
              "fps_ratio": 0.75, "provenance": PROVENANCE}]
    group = {"kind": "fps_group", "table": "table2", "scale": 1.0, "backend": "onnxruntime", "precision": "fp32",
             "models": [e["network"] for e in speed_group("table2")], "provenance": PROVENANCE,
             "networks": [{"model": e["network"], "input": [1, 3, *e["size"]], "rows": e["rows"], "fps": 3.0 + i,
                           "timing": {"cv": 0.01}, "params": 12_000_000, "gflops": 10.0} for i, e in enumerate(speed_group("table2"))]}
    return complexity + evaluation + speed + [group]


def real_data_tables(tmp_path):
    """The cpu preset's own tables: the measured ablation and the deployment table."""
    from crosscbam.ablation import STEPS, write_ablation
    from crosscbam.deploy_report import write_deployment

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
    audit().to_csv(tmp_path / "claims.csv", index=False)
    speed = fps_row({**records()[-2], "timing": {"cv": 0.01, "latency_ms_median": 300.0, "latency_ms_p90": 310.0, "iterations": 20},
                     "reference": {"model": "STDC1-Seg", "fps": 4.0, "timing": {"cv": 0.02}}})
    pd.DataFrame([speed] * 3).to_csv(tmp_path / "fps.csv", index=False)  # 28 columns in the CSV
    tables += [tmp_path / "claims.csv", tmp_path / "fps.csv", *real_data_tables(tmp_path)]
    rows = [{"image": np.zeros((16, 32, 3), np.uint8), "prediction": np.zeros((16, 32), int), "label": np.ones((16, 32), int)}]
    qualitative_panel(rows, [(128, 64, 128), (244, 35, 232)], tmp_path / "fig7.png", "test")
    build_report(tables, [tmp_path / "fig7.png"], tmp_path / "report.html", "smoke", {"commit": "abc", "torch": "2.13.0"})
    return tmp_path / "report.html"


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
    assert first_row.count("<td") <= 12 and "provenance" not in header and "colspan=3>val mIoU" in header
    counts = text[text.index('<table id="claims-per-section">'):]
    assert re.search(r"<td>all</td><td>2[0-9][0-9]</td>", counts[:counts.index('</table>')])
    assert re.search(r"\[1\] preset=smoke", text)  # provenance as a footnote key
    assert "data:image/png;base64," in text and "not a reproduction of the paper" in text
    assert not re.search(r"src=\"(?!data:)", text)  # nothing fetched from elsewhere


def test_smoke_rows_show_no_deltas_that_look_like_matches(tmp_path):
    frame = compile_table("table2", records(), preset="smoke").set_index("model")
    assert frame.loc["Cross-CBAM-M1", "miou_val_delta"] == "n/a"
    assert frame.loc["Cross-CBAM-M1", "fps_ratio_delta"] == "n/a"


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it as root)")
def test_headless_chromium_renders_everything_within_1400_px(tmp_path):
    page = make_report(tmp_path)
    run = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         f"--window-size={PAGE_WIDTH_PX},900", f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    dom = run.stdout
    assert 'data-images-ok="true"' in dom, run.stderr[-2000:]
    width = int(re.search(r'data-scroll-width="(\d+)"', dom).group(1))
    assert width <= PAGE_WIDTH_PX, f"the page is {width} px wide"
    assert dom.count("<tr>") >= 30 and "Table 5" in dom
