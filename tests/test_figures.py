import json

import numpy as np
import pandas as pd
from PIL import Image

from crosscbam.data.colors import colorize, overlay
from crosscbam.reports.figures import (ablation_panel, qualitative_panel, speed_accuracy, speed_accuracy_figure,
                               training_curves)

PALETTE = [(128, 64, 128), (244, 35, 232), (70, 70, 70)]


def test_colorize_and_overlay():
    label = np.array([[0, 1], [2, 255]])
    color = colorize(label, PALETTE)
    assert tuple(color[0, 1]) == (244, 35, 232) and tuple(color[1, 1]) == (0, 0, 0)
    image = np.full((2, 2, 3), 100, np.uint8)
    assert tuple(overlay(image, color, 0.5)[0, 0]) == (114, 82, 114)
    assert np.array_equal(overlay(image, color, 1.0), color)


def test_panels_are_written_as_images(tmp_path):
    rng = np.random.default_rng(0)
    rows = [{"image": rng.integers(0, 255, (32, 64, 3), dtype=np.uint8), "prediction": rng.integers(0, 3, (32, 64)),
             "label": rng.integers(0, 3, (32, 64))} for _ in range(2)]
    qualitative_panel(rows, PALETTE, tmp_path / "fig7.png", "test")
    ablation_panel(rows[0]["image"], {"baseline": rows[0]["prediction"], "M1": rows[1]["prediction"]}, rows[0]["label"],
                   PALETTE, tmp_path / "fig8.png", "test", ["road", "sidewalk", "building"])
    for name in ("fig7.png", "fig8.png"):
        with Image.open(tmp_path / name) as image:
            assert image.width > 300 and image.height > 100


def test_speed_accuracy_and_curves(tmp_path):
    table2 = pd.DataFrame([{"variant": "M1", "fps_ratio": 0.9, "fps_ratio_paper": 0.96, "fps_paper": 240.9, "miou_val": 40.0}])
    speed_accuracy(table2, tmp_path / "scatter.png", "smoke")
    log = tmp_path / "metrics.jsonl"
    log.write_text("".join(json.dumps({"iteration": i, "loss": 1 / i, "lr": 0.01 / i}) + "\n" for i in range(1, 5)))
    training_curves({"cityscapes/M1": log}, tmp_path / "curves.png", "smoke")
    assert (tmp_path / "scatter.png").stat().st_size > 10_000 and (tmp_path / "curves.png").stat().st_size > 10_000


def test_speed_accuracy_labels_do_not_overlap_and_name_every_method():
    table2 = pd.DataFrame([{"variant": "M1", "fps_ratio": 0.9, "fps_ratio_paper": 0.96, "fps_paper": 240.9, "miou_val": 74.0}])
    fig = speed_accuracy_figure(table2, "full")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        boxes = [text.get_window_extent(renderer) for text in ax.texts]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert not a.overlaps(b)
    named = {text.get_text() for ax in fig.axes for text in ax.texts}
    named |= set(" ".join(t.get_text() for t in fig.texts).replace(":", " ").split())
    assert {"SegNext-T", "Cross-CBAM-M1", "PP-LiteSeg-T1", "STDC1-Seg50"} <= named
    # Every Table 2 method with an FPS and that split's mIoU: 16 with val, 26 with test (30 rows, 3 without FPS).
    assert [len(ax.texts) for ax in fig.axes] == [16, 26]


def test_speed_accuracy_never_mixes_val_and_test_on_one_axis():
    """L2's val 78.35 and SegNext-T's test 78.0 were once drawn on one axis (issue 21)."""
    from crosscbam.paper import paper_table

    table2 = pd.DataFrame([{"variant": "M1", "fps_ratio": 0.9, "fps_ratio_paper": 0.96, "fps_paper": 240.9, "miou_val": 74.0}])
    val_ax, test_ax = speed_accuracy_figure(table2, "smoke").axes
    paper = paper_table("table2")
    for ax, column, split in ((val_ax, "miou_val", "val"), (test_ax, "miou_test", "test")):
        assert split in ax.get_ylabel() and "ours" not in ax.get_xlabel()  # the smoke preset draws only the paper's values
        drawn = sorted(y for collection in ax.collections for _, y in collection.get_offsets())
        assert drawn == sorted(paper.loc[paper["fps"].notna() & paper[column].notna(), column])
    labels = {split: {text.get_text() for text in ax.texts} for split, ax in (("val", val_ax), ("test", test_ax))}
    assert "SegNext-T" not in labels["val"]  # the paper gives it a test mIoU only


def test_training_curves_give_every_run_its_own_style_and_say_where_the_lr_comes_from(tmp_path, monkeypatch):
    from crosscbam.reports import figures

    shown = []
    monkeypatch.setattr(figures, "_save", lambda fig, path: shown.append(fig))
    metrics = {}
    for i in range(14):  # the smoke preset trains 14 networks
        metrics[f"cityscapes/net{i:02d}"] = tmp_path / f"{i}.jsonl"
        metrics[f"cityscapes/net{i:02d}"].write_text("".join(json.dumps({"iteration": k, "loss": 1 / k + i, "lr": 0.05 / k}) + "\n"
                                                             for k in range(1, 4)))
    (tmp_path / "config.json").write_text(json.dumps({"lr": 0.05, "warmup_iters": 10}))  # what a training writes beside its log
    training_curves(metrics, tmp_path / "curves.png", "a-preset-of-another-config-file")
    loss_ax = shown[0].axes[0]
    assert len({(line.get_color(), line.get_linestyle()) for line in loss_ax.lines}) == 14
    words = " ".join(text.get_text() for text in shown[0].texts)
    assert "preset's recipe (cityscapes lr 0.05, warm-up 10" in words and "authors' recipe: lr 0.01" in words


def test_fig8_names_each_networks_miou_and_the_class_colours(tmp_path, monkeypatch):
    from crosscbam.reports import figures

    shown = []
    monkeypatch.setattr(figures, "_save", lambda fig, path: shown.append(fig))
    label = np.repeat(np.arange(2), 4)[None].repeat(4, 0)  # left half class 0, right half class 1
    ablation_panel(np.zeros((4, 8, 3), np.uint8), {"baseline": np.zeros((4, 8), int), "M1": label}, label, PALETTE,
                   tmp_path / "fig8.png", "test", ["road", "sidewalk", "building"])
    titles = [ax.get_title() for ax in shown[0].axes]
    assert titles == ["baseline: mIoU 25.0 %", "M1: mIoU 100.0 %", "ground truth"]  # baseline: IoU 0.5 and 0 over 2 classes
    assert [t.get_text() for t in shown[0].legends[0].get_texts()] == ["road", "sidewalk", "building"]


def test_speed_ratios_plots_each_timed_row_against_the_papers_ratio(tmp_path):
    from crosscbam.reports.figures import speed_ratios_figure

    table2 = pd.DataFrame([
        {"model": "Cross-CBAM-M1", "fps_ratio_to": "Cross-CBAM-M1", "fps_ratio": 1.0, "fps_ratio_paper": 1.0, "fps_provenance": None},
        {"model": "PP-LiteSeg-T1", "fps_ratio_to": "Cross-CBAM-M1", "fps_ratio": 1.05, "fps_ratio_paper": 1.136,
         "fps_provenance": "preset=smoke; data=random input; device=cpu x; backend=onnxruntime fp32; commit=abc"},
        {"model": "ENet", "fps_ratio_to": None, "fps_ratio": None, "fps_ratio_paper": None, "fps_provenance": None},
    ])
    fig = speed_ratios_figure({"table2": table2}, "smoke")
    ax = fig.axes[0]
    labels = {text.get_text() for text in ax.texts}
    assert labels == {"PP-LiteSeg-T1"}  # the reference (1 on both axes) and rows we do not time are not drawn
    offsets = ax.collections[0].get_offsets()
    assert [tuple(p) for p in offsets] == [(1.136, 1.05)]
    assert "onnxruntime fp32 on cpu x" in ax.get_ylabel() and "not a reproduction" in ax.get_title()


def test_speed_ratios_without_any_timed_group_says_so(tmp_path):
    from crosscbam.reports.figures import speed_ratios
    from crosscbam.reports.tables import compile_table

    tables = {table: compile_table(table, [], "full") for table in ("table2", "table3")}  # speed.tables: []
    speed_ratios(tables, tmp_path / "ratios.png", "full")
    assert (tmp_path / "ratios.png").stat().st_size > 5_000
