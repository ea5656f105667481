import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from crosscbam.figures import qualitative_panel
from crosscbam.html_report import build_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def make_report(tmp_path):
    frame = pd.DataFrame({"variant": ["M1", "L1"], "gflops": [11.33, 17.94], "complexity_verdict": ["consistent: x", "inconsistent: y"]})
    frame.to_csv(tmp_path / "table5.csv", index=False)
    (tmp_path / "table5.md").write_text("# Table 5\n\n- a note about the protocol\n")
    rows = [{"image": np.zeros((16, 32, 3), np.uint8), "prediction": np.zeros((16, 32), int), "label": np.ones((16, 32), int)}]
    qualitative_panel(rows, [(128, 64, 128), (244, 35, 232)], tmp_path / "fig7.png", "test")
    build_report([tmp_path / "table5.csv"], [tmp_path / "fig7.png"], tmp_path / "report.html", "smoke", {"commit": "abc"})
    return tmp_path / "report.html"


def test_page_is_self_contained_with_tables_notes_and_verdict_colours(tmp_path):
    text = make_report(tmp_path).read_text()
    assert "<table id=\"table5\">" in text and "a note about the protocol" in text
    assert 'class="consistent">consistent: x' in text and 'class="inconsistent">inconsistent: y' in text
    assert "data:image/png;base64," in text and "not a reproduction of the paper" in text
    assert not re.search(r"src=\"(?!data:)", text)  # nothing fetched from elsewhere


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it as root)")
def test_headless_chromium_renders_tables_and_images(tmp_path):
    page = make_report(tmp_path)
    run = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    dom = run.stdout
    assert 'data-images-ok="true"' in dom, run.stderr[-2000:]
    assert dom.count("<tr>") >= 3 and "Table 5" in dom
