import pandas as pd
import pytest

from crosscbam.paper import speed_group
from crosscbam.reports import (aggregate_evaluations, compact_view, compile_table, fps_unusable, read_records, table_notes,
                               write_table)

PROVENANCE = {"device": "test cpu", "commit": "abc123", "libraries": {"fvcore": "0.1.5", "torch": "2.13.0"}}


def complexity(model, gflops, params_m):
    return {"kind": "complexity", "model": model, "input": [1, 3, 512, 1024], "gflops": gflops, "params_m": params_m,
            "params_inference": int(params_m * 1e6) - 592_531, "provenance": PROVENANCE}


def evaluation(model, miou, preset="smoke", data="synthetic", dataset="cityscapes"):
    return {"kind": "evaluation", "model": model, "dataset": dataset, "miou_mean": miou, "miou_std": 0.01, "n_seeds": 2,
            "preset": preset, "data": data, "provenance": PROVENANCE}


def fps(model, value, reference, reference_fps, backend="onnxruntime", size=(512, 1024)):
    return {"model": model, "input": [1, 3, *size], "backend": backend, "precision": "fp32", "fps": value,
            "timing": {"cv": 0.01}, "reference": {"model": reference, "fps": reference_fps, "timing": {"cv": 0.01}},
            "fps_ratio": value / reference_fps, "provenance": PROVENANCE}


def table6_records(m1_gflops=11.31):
    return [complexity("M1-c512", 14.77, 19.54), complexity("M1", m1_gflops, 12.21), complexity("M1-c128", 9.67, 8.92)]


def test_one_row_per_paper_row_with_ours_paper_and_delta():
    frame = compile_table("table6", table6_records(m1_gflops=11.40), preset="smoke")
    assert list(frame["channels"]) == [512, 256, 128]
    for metric in ("gflops", "params_m", "miou", "fps"):
        assert {metric, f"{metric}_paper"} <= set(frame.columns)
    m1 = frame.set_index("variant").loc["M1"]
    assert m1["gflops"] == 11.4 and m1["gflops_paper"] == 11.31 and m1["gflops_delta"] == pytest.approx(0.09)
    assert m1["complexity_verdict"].startswith("inconsistent")  # +0.8 % FLOPs is outside 0.5 %
    assert frame.set_index("variant").loc["M1-c128", "complexity_verdict"].startswith("consistent")
    assert frame["miou"].isna().all() and (frame["miou_verdict"] == "missing result").all()
    assert "commit=abc123" in m1["complexity_provenance"] and "1x3x512x1024" in m1["complexity_protocol"]


def test_smoke_accuracy_is_never_given_a_verdict_but_full_is():
    smoke = compile_table("table4", [evaluation("M1", 0.40)], preset="smoke").set_index("variant")
    assert smoke.loc["M1", "miou"] == 40.0 and smoke.loc["M1", "miou_delta"] == "n/a"  # never a number that looks like a match
    assert smoke.loc["M1", "miou_verdict"].startswith("not comparable")
    assert "preset=smoke" in smoke.loc["M1", "miou_provenance"]
    full = compile_table("table4", [evaluation("M1", 0.7400, "full", "real")], preset="full").set_index("variant")
    assert full.loc["M1", "miou_verdict"].startswith("consistent")
    assert full.loc["M1-seaspp", "miou_verdict"] == "missing result"


def group(table, fps_of, backend="tensorrt", cv=0.01, scale=1.0):
    """A same-run group record of ``table`` (as `crosscbam fps-group --table` writes): FPS per network."""
    entries = speed_group(table, scale)
    networks = [{"model": e["network"], "input": [1, 3, *e["size"]], "rows": e["rows"], "fps": fps_of.get(e["network"], 50.0),
                 "timing": {"cv": cv}, "params": 1_000_000, "gflops": 2.5} for e in entries]
    return {"kind": "fps_group", "table": table, "scale": scale, "models": [n["model"] for n in networks], "backend": backend,
            "precision": "fp32", "networks": networks, "provenance": PROVENANCE}


def test_table2_rows_we_build_get_same_run_fps_and_ratios_to_cross_cbam_m():
    speeds = {"M1": 100.0, "PP-LiteSeg-T": 120.0, "STDC1-Seg": 110.0, "M2": 40.0}
    records = [group("table2", speeds), group("table2", {"M1": 10.0, "PP-LiteSeg-T": 5.0}, backend="onnxruntime"),
               evaluation("M1", 0.74, "full", "real")]
    frame = compile_table("table2", records, preset="full").set_index("model")
    assert frame.loc["ENet", "source"] == "paper only" and pd.isna(frame.loc["ENet", "fps"])
    m1, pp = frame.loc["Cross-CBAM-M1"], frame.loc["PP-LiteSeg-T1"]
    assert m1["fps_ratio"] == 1.0 and m1["miou_test_verdict"].startswith("not reproduced here")
    assert pp["fps"] == 120.0 and pp["fps_ratio_to"] == "Cross-CBAM-M1" and pp["fps_ratio"] == pytest.approx(1.2)
    assert pp["fps_ratio_paper"] == pytest.approx(273.6 / 240.9, abs=1e-3)
    assert pp["fps_verdict"].startswith("consistent")  # 1.2 vs 1.136: within 10 %
    assert pp["fps_ratio_onnxruntime_fp32"] == pytest.approx(0.5)  # the other backend: information
    assert pp["params_m"] == 1.0 and pp["gflops"] == 2.5
    assert frame.loc["STDC1-Seg50", "fps_ratio"] == pytest.approx(1.1) and frame.loc["STDC1-Seg50", "variant"] == "STDC1-Seg"
    # a 768x1536 row is compared with the Cross-CBAM-M row of its resolution, SegFormer (1024x1024) with M1
    assert frame.loc["PP-LiteSeg-T2", "fps_ratio_to"] == "Cross-CBAM-M2" and frame.loc["PP-LiteSeg-T2", "fps_ratio"] == pytest.approx(3.0)
    assert frame.loc["SegFormer", "fps_ratio_to"] == "Cross-CBAM-M1"
    assert frame.loc["PP-LiteSeg-T1", "fps_verdict"] != frame.loc["PP-LiteSeg-B1", "fps_verdict"]  # 50/100 vs 195.3/240.9


def test_group_speed_needs_full_tensorrt_unscaled_inputs_and_low_noise_for_a_verdict():
    speeds = {"M1": 100.0, "PP-LiteSeg-T": 120.0}
    assert compile_table("table2", [group("table2", speeds)], "smoke").set_index("model").loc["PP-LiteSeg-T1", "fps_verdict"].startswith("not comparable")
    cpu = compile_table("table2", [group("table2", speeds, backend="onnxruntime")], "full").set_index("model").loc["PP-LiteSeg-T1"]
    assert cpu["fps_verdict"].startswith("not comparable") and "onnxruntime" in cpu["fps_verdict"] and cpu["fps_ratio_delta"] == "n/a"
    scaled = compile_table("table2", [group("table2", speeds, scale=0.25)], "full").set_index("model").loc["PP-LiteSeg-T1"]
    assert "scaled" in scaled["fps_verdict"] and scaled["fps_input"] == "128x256"
    noisy = compile_table("table2", [group("table2", speeds, cv=0.2)], "full").set_index("model").loc["PP-LiteSeg-T1"]
    assert noisy["fps_verdict"].startswith("noisy")
    missing = compile_table("table3", [], "full").set_index("model")
    assert missing.loc["DDRNet", "fps_verdict"] == "missing result" and missing.loc["ENet", "fps_verdict"] == "not built here"


def test_a_trained_rival_shows_its_accuracy_on_the_row_of_its_input():
    records = [evaluation("PP-LiteSeg-T", 0.70, "full", "real"), evaluation("DDRNet-23-slim", 0.72, "full", "real", dataset="camvid")]
    table2 = compile_table("table2", records, "full").set_index("model")
    assert table2.loc["PP-LiteSeg-T1", "miou_val"] == 70.0 and pd.isna(table2.loc["PP-LiteSeg-T2", "miou_val"])
    assert table2.loc["PP-LiteSeg-T1", "miou_val_verdict"].startswith("inconsistent")  # 70.0 vs 73.1
    assert compile_table("table3", records, "full").set_index("model").loc["DDRNet", "miou"] == 72.0


def test_cpu_fps_is_not_comparable():
    frame = compile_table("table5", [fps("M1", 3.0, "STDC1-Seg", 4.0)], preset="smoke").set_index("variant")
    assert frame.loc["M1", "fps"] == 3.0 and frame.loc["M1", "fps_verdict"].startswith("not comparable")


def test_seeds_are_aggregated():
    runs = [{"variant": "M1", "dataset": "cityscapes", "size": [128, 256], "split": "val", "miou": m,
             "iou_per_class": {"road": m, "wall": None}, "provenance": PROVENANCE} for m in (0.4, 0.6)]
    record = aggregate_evaluations(runs, "M2", "smoke", "synthetic")
    assert record["model"] == "M2" and record["trained_variant"] == "M1"
    assert record["miou_mean"] == pytest.approx(0.5) and record["miou_std"] == pytest.approx(0.1414, abs=1e-4)
    assert record["iou_per_class_mean"] == {"road": pytest.approx(0.5), "wall": None}


def test_markdown_twin_has_the_same_rows(tmp_path):
    frame = compile_table("table6", table6_records(), preset="smoke")
    write_table(frame, tmp_path / "t.csv", tmp_path / "t.md", "Table 6", ["a note"])
    assert pd.read_csv(tmp_path / "t.csv").shape == frame.shape
    text = (tmp_path / "t.md").read_text()
    assert text.startswith("# Table 6") and "- a note" in text and text.count("| M1") == 3


def test_malformed_result_files_are_named(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="bad.json is not a crosscbam result"):
        read_records([bad])


def test_notes_only_say_what_applies_to_the_table():
    table4 = " ".join(table_notes("table4", "smoke"))
    assert "mIoU verdict" in table4 and "FPS" not in table4 and "FLOPs" not in table4 and "test-server" not in table4
    table2 = " ".join(table_notes("table2", "full"))
    assert "test-server" in table2 and "FPS verdict" in table2 and "Complexity verdict" not in table2 and "synthetic" not in table2
    complexity = " ".join(table_notes("complexity", "smoke"))
    assert "_paper" not in complexity and "mIoU" not in complexity and "synthetic" not in complexity


def test_compact_view_is_paper_ours_verdict_with_provenance_as_footnotes():
    frame = compile_table("table6", table6_records(m1_gflops=11.40), preset="smoke")
    view, footnotes = compact_view(frame)
    assert list(view.columns[:2]) == ["channels", "variant"] and len(view.columns) <= 12
    assert not any("provenance" in c for c in view.columns)
    m1 = view.set_index("variant").loc["M1"]
    assert m1["GFLOPs paper"] == "11.31" and m1["GFLOPs ours"].startswith("11.4 [")
    assert m1["complexity verdict"].startswith("inconsistent [")
    assert any("commit=abc123" in note for note in footnotes) and any("gflops +0.80%" in note for note in footnotes)


def test_an_fps_record_needs_full_tensorrt_paper_size_and_low_noise_for_a_verdict():
    good = fps("M1", 100.0, "STDC1-Seg", 110.0, backend="tensorrt")
    good["roofline"] = {"fraction_measured": 0.4}
    assert fps_unusable(good, "full") is None
    assert "smoke" in fps_unusable(good, "smoke")
    assert "512x1024" in fps_unusable(fps("M1", 100.0, "STDC1-Seg", 110.0, backend="tensorrt", size=(256, 512)), "full")
    assert fps_unusable({**good, "timing": {"cv": 0.3}}, "full").startswith("noisy")
    assert fps_unusable({**good, "roofline": {"fraction_measured": 1.2}}, "full").startswith("noisy")
    frame = compile_table("table5", [{**good, "timing": {"cv": 0.3}}], preset="full").set_index("variant")
    assert frame.loc["M1", "fps_verdict"].startswith("noisy") and frame.loc["M1", "fps_ratio_delta"] == "n/a"


def test_one_seed_has_no_standard_deviation():
    from crosscbam import reports

    run = {"kind": "evaluation_run", "model": "M1", "variant": "M1", "dataset": "cityscapes", "size": [512, 1024], "split": "val",
           "miou": 0.5, "iou_per_class": {"road": 0.9}, "provenance": {"device": "cpu"}}
    record = reports.aggregate_evaluations([run], "M1", "smoke", "synthetic")
    assert record["miou_std"] is None and record["n_seeds"] == 1
    assert reports._miou_columns("miou", 74.19, record, True)["miou_std"] == "n/a (one seed)"
