import pandas as pd
import pytest

from crosscbam.reports import complexity_table, read_records, write_table

PROVENANCE = {"device": "test cpu", "commit": "abc123", "libraries": {"fvcore": "0.1.5", "torch": "2.13.0"}}


def record(model, gflops, params_m):
    return {"model": model, "input": [1, 3, 512, 1024], "gflops": gflops, "params_m": params_m,
            "params_inference": int(params_m * 1e6) - 592_531, "provenance": PROVENANCE}


def table6_records(m1_gflops=11.31):
    return {"M1-c512": record("M1-c512", 14.77, 19.54), "M1": record("M1", m1_gflops, 12.21),
            "M1-c128": record("M1-c128", 9.67, 8.92)}


def test_one_row_per_paper_row_with_ours_paper_and_delta():
    frame = complexity_table("table6", table6_records(m1_gflops=11.40), preset="smoke")
    assert list(frame["channels"]) == [512, 256, 128]
    for metric in ("gflops", "params_m", "miou", "fps"):
        assert {metric, f"{metric}_paper", f"{metric}_delta"} <= set(frame.columns)
    m1 = frame.set_index("variant").loc["M1"]
    assert m1["gflops"] == 11.4 and m1["gflops_paper"] == 11.31 and m1["gflops_delta"] == pytest.approx(0.09)
    assert m1["complexity_verdict"].startswith("inconsistent")  # +0.8 % FLOPs is outside 0.5 %
    assert frame.set_index("variant").loc["M1-c128", "complexity_verdict"].startswith("consistent")
    assert frame["miou"].isna().all() and frame["fps"].isna().all()
    assert (frame["preset"] == "smoke").all() and (frame["commit"] == "abc123").all()
    assert "1x3x512x1024" in m1["protocol"] and "auxiliary head" in m1["protocol"]


def test_a_missing_result_names_the_variant():
    records = table6_records()
    del records["M1-c128"]
    with pytest.raises(ValueError, match="no complexity result for M1-c128"):
        complexity_table("table6", records, preset="smoke")


def test_markdown_twin_has_the_same_rows(tmp_path):
    frame = complexity_table("table6", table6_records(), preset="smoke")
    write_table(frame, tmp_path / "t.csv", tmp_path / "t.md", "Table 6", ["a note"])
    assert pd.read_csv(tmp_path / "t.csv").shape == frame.shape
    text = (tmp_path / "t.md").read_text()
    assert text.startswith("# Table 6") and "- a note" in text and text.count("| M1") == 3


def test_malformed_result_files_are_named(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="bad.json is not a crosscbam result"):
        read_records([bad])
