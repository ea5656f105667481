import pandas as pd
import pytest

from crosscbam.paper import speed_group
from crosscbam.records import aggregate_evaluations, read_records
from crosscbam.reports.markdown import compact_view, write_table
from crosscbam.reports.speed import fps_unusable, under_load
from crosscbam.reports.tables import compile_table, table_notes

PROVENANCE = {"device": "test cpu", "commit": "abc123", "libraries": {"fvcore": "0.1.5", "torch": "2.13.0"}}


def complexity(model, gflops, params_m):
    return {"kind": "complexity", "model": model, "input": [1, 3, 512, 1024], "gflops": gflops, "params_m": params_m,
            "params_inference": int(params_m * 1e6) - 592_531, "provenance": PROVENANCE}


def evaluation(model, miou, preset="smoke", data="synthetic", dataset="cityscapes"):
    return {"kind": "evaluation", "model": model, "dataset": dataset, "miou_mean": miou, "miou_std": 0.01, "n_seeds": 2,
            "preset": preset, "data": data, "provenance": PROVENANCE}


def fps(model, value, reference, reference_fps, backend="onnxruntime", size=(512, 1024), cv=0.01, load=None):
    """An FPS record (`crosscbam fps --json`): ``model`` and its same-run ``reference``, 20 passes each."""
    return {"model": model, "input": [1, 3, *size], "backend": backend, "precision": "fp32", "fps": value,
            "timing": {"cv": cv, "iterations": 20}, "reference": {"model": reference, "fps": reference_fps, "timing": {"cv": 0.01, "iterations": 20}},
            "fps_ratio": value / reference_fps, "provenance": {**PROVENANCE, "load": load}, "path": f"results/x/fps/{model}.json"}


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


def group(table, fps_of, backend="tensorrt", cv=0.01, scale=1.0, load=None):
    """A same-run group record of ``table`` (as `crosscbam fps-group --table` writes): FPS per network."""
    entries = speed_group(table, scale)
    networks = [{"model": e["network"], "input": [1, 3, *e["size"]], "rows": e["rows"], "fps": fps_of.get(e["network"], 50.0),
                 "timing": {"cv": cv.get(e["network"], 0.01) if isinstance(cv, dict) else cv, "iterations": 20},
                 "params": 1_000_000, "gflops": 2.5} for e in entries]
    return {"kind": "fps_group", "table": table, "scale": scale, "models": [n["model"] for n in networks], "backend": backend,
            "precision": "fp32", "networks": networks, "provenance": {**PROVENANCE, "load": load},
            "path": f"results/x/fps_group/{table}.{backend}.json"}


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
    assert fps_unusable({**good, "timing": {"cv": 0.3, "iterations": 20}}, "full").startswith("noisy")
    assert fps_unusable({**good, "roofline": {"fraction_measured": 1.2}}, "full").startswith("noisy")
    frame = compile_table("table5", [{**good, "timing": {"cv": 0.3, "iterations": 20}}], preset="full").set_index("variant")
    assert frame.loc["M1", "fps_verdict"].startswith("noisy") and frame.loc["M1", "fps_ratio_delta"] == "n/a"


def test_one_seed_has_no_standard_deviation():
    from crosscbam.reports.tables import _miou_columns

    run = {"kind": "evaluation_run", "model": "M1", "variant": "M1", "dataset": "cityscapes", "size": [512, 1024], "split": "val",
           "miou": 0.5, "iou_per_class": {"road": 0.9}, "provenance": {"device": "cpu"}}
    record = aggregate_evaluations([run], "M1", "smoke", "synthetic")
    assert record["miou_std"] is None and record["n_seeds"] == 1
    assert _miou_columns("miou", 74.19, record, True)["miou_std"] == "n/a (one seed)"


def test_a_noisy_ratio_is_shown_with_its_interval_never_as_a_bare_number(tmp_path):
    speeds = {"M1": 100.0, "PP-LiteSeg-T": 120.0, "STDC1-Seg": 110.0}
    frame = compile_table("table2", [group("table2", speeds, cv={"PP-LiteSeg-T": 0.2})], "smoke")
    write_table(frame, tmp_path / "t2.csv", tmp_path / "t2.md", "Table 2", [], compact=True)
    view, footnotes = compact_view(pd.read_csv(tmp_path / "t2.csv"))  # as the HTML reads it back
    rows = view.set_index("model")
    noisy, quiet = rows.loc["PP-LiteSeg-T1", "FPS ours ratio"], rows.loc["STDC1-Seg50", "FPS ours ratio"]
    assert noisy.startswith("1.20 [") and " noisy [" in noisy and quiet == "1.100"  # CV 20 % > 5 %; 1 % is quiet
    assert rows.loc["Cross-CBAM-M1", "FPS ours ratio"] == "1 (reference)"
    assert any("95 % interval" in note for note in footnotes) and "1.20 [" in (tmp_path / "t2.md").read_text()
    csv = pd.read_csv(tmp_path / "t2.csv").set_index("model")  # the CSV keeps the raw ratio and its interval
    pp = csv.loc["PP-LiteSeg-T1"]
    assert pp["fps_ratio"] == pytest.approx(1.2) and pp["fps_ratio_low"] < 1.2 < pp["fps_ratio_high"] and pp["fps_ratio_noisy"]
    table5 = compile_table("table5", [fps("M1-d3-5", 19.2, "STDC1-Seg", 18.5, cv=0.3)], "smoke").set_index("variant")
    assert table5.loc["M1-d3-5", "fps_ratio_shown"].endswith("noisy")


def test_the_speed_figure_draws_intervals_and_marks_noisy_points():
    from matplotlib.collections import LineCollection

    from crosscbam.reports.figures import speed_ratios_figure

    speeds = {"M1": 100.0, "PP-LiteSeg-T": 120.0, "STDC1-Seg": 110.0}
    frame = compile_table("table2", [group("table2", speeds, cv={"PP-LiteSeg-T": 0.2}, load={"others_cores": 1.3, "cores": 2})], "smoke")
    ax = speed_ratios_figure({"table2": frame}, "smoke").axes[0]
    bars = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert bars and any(abs(s[1][1] - s[0][1]) > 0.05 for c in bars for s in c.get_segments())  # PP-LiteSeg-T1's interval
    assert any("noisy" in t.get_text() for t in ax.get_legend().get_texts())
    assert "Table 2 timed under load" in ax.get_title()


def test_every_fps_ratio_names_its_denominator_and_record():
    """Table 6's 128-channel ratio divides by the STDC1-Seg timed in its own run (that record's file),
    not by the one in M1's record: the table shows which and how fast, so the ratio can be recomputed."""
    records = [fps("M1-c128", 19.2, "STDC1-Seg", 10.4), fps("M1", 23.0, "STDC1-Seg", 21.86)]
    frame = compile_table("table6", records, "smoke").set_index("variant")
    c128 = frame.loc["M1-c128"]
    assert c128["fps_ratio_to"] == "STDC1-Seg" and c128["fps_reference_fps"] == 10.4
    assert c128["fps_ratio"] == pytest.approx(c128["fps"] / c128["fps_reference_fps"], abs=1e-3)
    assert c128["fps_record"] == "results/x/fps/M1-c128.json" and "record=results/x/fps/M1-c128.json" in c128["fps_provenance"]
    assert c128["fps_ratio_paper"] == pytest.approx(c128["fps_paper"] / c128["fps_reference_paper"], abs=1e-3)
    view = compact_view(frame.reset_index())[0].set_index("variant")
    assert view.loc["M1-c128", "FPS ours ref."] == "STDC1-Seg 10.4" and view.loc["M1", "FPS ours ref."] == "STDC1-Seg 21.86"
    table2 = compile_table("table2", [group("table2", {"M1": 100.0, "PP-LiteSeg-T": 120.0})], "smoke").set_index("model")
    assert table2.loc["PP-LiteSeg-T1", "fps_reference_fps"] == 100.0 and table2.loc["PP-LiteSeg-T1", "fps_record"].endswith("table2.tensorrt.json")


def test_a_record_timed_under_load_is_marked_in_every_view():
    load = {"others_cores": 1.3, "cores": 2}
    record = fps("M1", 5.0, "STDC1-Seg", 6.0, backend="tensorrt", load=load)
    assert under_load(record).startswith("timed under load") and under_load(fps("M1", 5.0, "STDC1-Seg", 6.0)) is None
    assert under_load(fps("M1", 5.0, "STDC1-Seg", 6.0, load={"others_cores": 0.1, "cores": 2})) is None
    assert fps_unusable(record, "full").startswith("timed under load")  # a clean record at the paper's protocol otherwise
    table5 = compile_table("table5", [record], "smoke")
    verdict = table5.set_index("variant").loc["M1", "fps_verdict"]
    assert verdict.startswith("timed under load") and "smoke preset" in verdict  # the other reason is kept
    assert compact_view(table5)[0].set_index("variant").loc["M1", "FPS verdict"].startswith("timed under load [")
    table2 = compile_table("table2", [group("table2", {"M1": 100.0, "PP-LiteSeg-T": 120.0}, load=load)], "full").set_index("model")
    assert table2.loc["PP-LiteSeg-T1", "fps_verdict"].startswith("timed under load")


def test_accuracy_and_complexity_name_the_record_they_come_from(tmp_path):
    """A reader goes from a table cell to the result file in one hop: mIoU and complexity provenance name their
    record (as FPS already did), the complexity summary has a record column, an aggregate names its seeds' files."""
    import json

    from crosscbam.reports.tables import complexity_summary

    files = []
    measured = {**complexity("M1", 11.31, 12.21), "params_aux": 592_531}
    for name, record in (("M1.json", measured), ("M1-eval.json", evaluation("M1", 0.7))):
        (tmp_path / name).write_text(json.dumps(record))
        files.append(tmp_path / name)
    records = read_records(files)
    row = compile_table("table5", records, "smoke").set_index("variant").loc["M1"]
    assert row["complexity_provenance"].endswith(f"record={files[0]}") and row["miou_provenance"].endswith(f"record={files[1]}")
    assert complexity_summary(records).loc[0, "record"] == str(files[0])
    runs = [{"variant": "M1", "dataset": "cityscapes", "size": [128, 256], "split": "val", "miou": 0.5, "iou_per_class": {"road": 0.5},
             "provenance": PROVENANCE, "path": f"results/x/eval/M1/seed{s}.json"} for s in (0, 1)]
    assert aggregate_evaluations(runs, "M1", "smoke", "synthetic")["seed_records"] == ["results/x/eval/M1/seed0.json", "results/x/eval/M1/seed1.json"]
