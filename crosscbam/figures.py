"""The paper's figures, made from our results: Fig. 7-style qualitative panel, Fig. 8-style
ablation panel, a speed-accuracy scatter (paper points vs ours) and training curves.

Colours are the datasets' official palettes (``crosscbam.data.DATASETS[name].palette``).
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from crosscbam.data.colors import colorize, overlay  # noqa: E402
from crosscbam.io import atomic_path  # noqa: E402
from crosscbam.paper import paper_table  # noqa: E402

DPI = 110


def _save(fig, path: str | Path) -> None:
    with atomic_path(path) as temporary:  # a PNG appears complete or not at all
        fig.savefig(temporary, dpi=DPI, bbox_inches="tight")
    plt.close(fig)


def image_miou(prediction: np.ndarray, label: np.ndarray, num_classes: int, ignore: int = 255) -> float:
    """One image's mIoU: the mean IoU over the classes in its label or its prediction (ignored pixels left out)."""
    valid = label != ignore
    pred, gt = prediction[valid].astype(np.int64), label[valid].astype(np.int64)
    ious = []
    for c in range(num_classes):
        union = np.count_nonzero((pred == c) | (gt == c))
        if union:
            ious.append(np.count_nonzero((pred == c) & (gt == c)) / union)
    return float(np.mean(ious)) if ious else float("nan")


def qualitative_panel(rows: list[dict], palette: list[tuple[int, int, int]], path: str | Path, title: str,
                      class_names: list[str] | None = None) -> None:
    """Fig. 7: per row, the input, the prediction overlaid at opacity 0.5 and 1.0, and the ground truth,
    with the image's own mIoU; a legend of the class colours below.

    Args:
        rows: dicts with ``image`` (HxWx3 uint8), ``prediction`` and ``label`` (HxW class indices), and
            optionally ``name`` and ``miou`` (a fraction) shown at the row's left.
        class_names: the legend's names, in palette order (no legend when ``None``).
    """
    columns = ("input", "prediction (opacity 0.5)", "prediction (opacity 1.0)", "ground truth")
    height, width = rows[0]["image"].shape[:2]
    fig, axes = plt.subplots(len(rows), 4, figsize=(12, 3.0 * len(rows) * height / width + 1.2), squeeze=False)
    for r, row in enumerate(rows):
        color = colorize(row["prediction"], palette)
        panels = (row["image"], overlay(row["image"], color, 0.5), color, colorize(row["label"], palette))
        for c, panel in enumerate(panels):
            axes[r, c].imshow(panel)
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
            if r == 0:
                axes[r, c].set_title(columns[c], fontsize=9)
        if "miou" in row:
            axes[r, 0].set_ylabel(f"{row.get('name', '')}\nmIoU {100 * row['miou']:.1f} %", fontsize=8)
    if class_names:
        handles = [plt.Rectangle((0, 0), 1, 1, color=np.array(rgb) / 255) for rgb in palette]
        fig.legend(handles, class_names, loc="lower center", ncol=min(len(class_names), 10), fontsize=7, frameon=False)
    fig.suptitle(title, fontsize=10)
    _save(fig, path)


def ablation_panel(image: np.ndarray, predictions: dict[str, np.ndarray], label: np.ndarray,
                   palette: list[tuple[int, int, int]], path: str | Path, title: str) -> None:
    """Fig. 8: one row per Table 4 model (overlay at 0.5), then the ground truth."""
    names = list(predictions) + ["ground truth"]
    fig, axes = plt.subplots(len(names), 1, figsize=(5, 2.2 * len(names)), squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        color = colorize(label if name == "ground truth" else predictions[name], palette)
        ax.imshow(overlay(image, color, 0.5))
        ax.set_title(name, fontsize=9)
        ax.set_axis_off()
    fig.suptitle(title, fontsize=10)
    _save(fig, path)


#: Where a point's label may go, in points from the point, tried in this order (then with a leader line).
LABEL_OFFSETS = [(4, 2), (4, -8), (-4, 2), (-4, -8), (0, 7), (0, -12)]
LABEL_FAR = [(dx * r, dy * r) for r in (14, 24, 34, 48, 64) for dx, dy in ((1, 1), (1, -1), (-1, 1), (-1, -1), (0, 1), (0, -1), (1, 0), (-1, 0))]


def place_labels(ax, points: list[tuple[float, float, str]], fontsize: float = 6) -> list[str]:
    """Label each point where its text overlaps no other label, the legend or the axes' edge: next
    to it if there is room, else further away with a leader line, else with a number whose name is
    returned for a key (the caller prints the key; in a crowded spot the number may touch another
    label). Returns the names given numbers."""
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    legend = ax.get_legend()
    taken = [legend.get_window_extent(renderer)] if legend else []
    keyed: list[str] = []

    def try_place(text: str, x: float, y: float, offsets, arrow: bool):
        for dx, dy in offsets:
            label = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize,
                                ha="left" if dx > 0 else "right" if dx < 0 else "center",
                                arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "0.5"} if arrow else None)
            box = label.get_window_extent(renderer).expanded(1.04, 1.15)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            if inside and not any(box.overlaps(other) for other in taken):
                taken.append(box)
                return True
            label.remove()
        return False

    for x, y, name in sorted(points, key=lambda p: (-p[1], p[0])):
        if try_place(name, x, y, LABEL_OFFSETS, False) or try_place(name, x, y, LABEL_FAR, True):
            continue
        keyed.append(name)
        if not try_place(str(len(keyed)), x, y, LABEL_OFFSETS + LABEL_FAR, True):
            # A crowded spot: the number goes beside its point even if it touches another label.
            ax.annotate(str(len(keyed)), (x, y), xytext=LABEL_OFFSETS[0], textcoords="offset points", fontsize=fontsize)
    return keyed


def speed_accuracy_figure(table2: pd.DataFrame, preset: str):
    """The figure of :func:`speed_accuracy` (returned, not saved)."""
    paper = paper_table("table2")
    fig, ax = plt.subplots(figsize=(9, 6))
    miou = paper["miou_val"].fillna(paper["miou_test"])
    ours_mask = paper["variant"].notna()
    ax.scatter(paper.loc[~ours_mask, "fps"], miou[~ours_mask], c="tab:gray", s=18, label="other methods (paper)")
    ax.scatter(paper.loc[ours_mask, "fps"], miou[ours_mask], c="tab:red", s=30, marker="s", label="Cross-CBAM (paper)")
    have = table2[table2["variant"].notna() & table2["fps_ratio"].notna() & table2["miou_val"].notna() & table2["fps_ratio_paper"].notna()]
    if len(have) and preset == "full":
        scaled = pd.to_numeric(have["fps_ratio"]) / pd.to_numeric(have["fps_ratio_paper"]) * pd.to_numeric(have["fps_paper"])
        ax.scatter(scaled, pd.to_numeric(have["miou_val"]), s=40, marker="o", c="tab:blue", label="ours")
    elif len(have):
        # Not comparable with the paper: drawing them on its axes would invite a comparison.
        fig.text(0.99, 0.005, f"ours ({preset} preset) not drawn: not comparable with the paper", fontsize=7, ha="right", va="bottom")
    ax.set_xlabel("FPS (paper: TensorRT on GTX 1080Ti; ours: the same-run ratio to Cross-CBAM-M x its paper FPS)", fontsize=8)
    ax.set_ylabel("mIoU (%) on Cityscapes (val where given, else test)", fontsize=8)
    ax.set_title("Speed-accuracy trade-off (Table 2)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.margins(x=0.12, y=0.08)
    ax.legend(fontsize=7, loc="lower right")
    points = [(row["fps"], miou[i], row["model"]) for i, row in paper.iterrows() if pd.notna(row["fps"]) and pd.notna(miou[i])]
    keyed = place_labels(ax, points)
    if keyed:
        fig.text(0.01, 0.005, "  ".join(f"{n}: {name}" for n, name in enumerate(keyed, 1)), fontsize=6, va="bottom")
    return fig


def speed_accuracy(table2: pd.DataFrame, path: str | Path, preset: str) -> None:
    """mIoU (val, else test) against FPS: every Table 2 method, and our rows where measured, with
    labels that do not overlap.

    Our FPS is placed on the paper's axis by scaling the paper's Cross-CBAM-M FPS with our same-run
    ratio to it; ours are drawn for the full preset only (other presets are not comparable: a note says so).
    """
    _save(speed_accuracy_figure(table2, preset), path)


#: Marker per comparison table in the relative-speed figure.
RATIO_MARKERS = {"table2": ("o", "Table 2 (Cityscapes)"), "table3": ("s", "Table 3 (CamVid)")}


def speed_ratios_figure(tables: dict[str, pd.DataFrame], preset: str):
    """The figure of :func:`speed_ratios` (returned, not saved)."""
    fig, ax = plt.subplots(figsize=(7.5, 6))
    points, setups = [], set()
    for table, frame in tables.items():
        if not {"fps_ratio", "fps_ratio_paper", "fps_ratio_to"} <= set(frame.columns):
            continue  # no group of this table was timed
        have = frame[frame["fps_ratio"].notna() & frame["fps_ratio_paper"].notna()]
        have = have[have["model"] != have["fps_ratio_to"]]  # the reference itself is 1 on both axes
        marker, label = RATIO_MARKERS[table]
        x, y = pd.to_numeric(have["fps_ratio_paper"]), pd.to_numeric(have["fps_ratio"])
        ax.scatter(x, y, marker=marker, s=30, label=label)
        points += [(a, b, f"{name}") for a, b, name in zip(x, y, have["model"])]
        setups |= {f"{p.split('backend=')[1].split(';')[0]} on {p.split('device=')[1].split(';')[0]}"
                   for p in have.get("fps_provenance", pd.Series(dtype=object)).dropna()}
    if not points:  # e.g. a preset whose speed.tables is empty
        fig.text(0.5, 0.5, "no same-run group was timed in this run", ha="center", fontsize=9)
    values = [v for x, y, _ in points for v in (x, y)] or [1.0]
    low, high = min(values) / 1.3, max(values) * 1.3
    ax.plot([low, high], [low, high], color="gray", linewidth=0.8, linestyle="--", label="ours = paper")
    ax.set(xscale="log", yscale="log", xlim=(low, high), ylim=(low, high))
    ax.set_xlabel("paper: FPS / FPS of Cross-CBAM-M (its Tables 2-3, TensorRT on a GTX 1080Ti)", fontsize=8)
    ax.set_ylabel(f"ours: the same ratio, one interleaved run ({'; '.join(sorted(setups)) or 'no run'})", fontsize=8)
    verdict = "" if preset == "full" else f" - {preset} preset: information, not a reproduction"
    ax.set_title(f"Relative speed: the paper's FPS against ours on one machine{verdict}", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="upper left")
    merged: dict[tuple[float, float], list[str]] = {}  # one label for models on one spot
    for x, y, name in points:
        merged.setdefault((round(x, 2), round(y, 2)), []).append(name)
    keyed = place_labels(ax, [(x, y, ", ".join(names)) for (x, y), names in merged.items()])
    if keyed:
        fig.text(0.01, 0.005, "  ".join(f"{n}: {name}" for n, name in enumerate(keyed, 1)), fontsize=6, va="bottom")
    return fig


def speed_ratios(tables: dict[str, pd.DataFrame], path: str | Path, preset: str) -> None:
    """Per model of Tables 2-3 that we time: the paper's FPS ratio to Cross-CBAM-M against ours from
    one same-run group (reports/table2.csv, table3.csv); points on the diagonal agree."""
    _save(speed_ratios_figure(tables, preset), path)


def training_curves(metrics: dict[str, str | Path], path: str | Path, title: str) -> None:
    """Loss and learning rate against iteration, one line per run (``metrics.jsonl`` files); where runs
    logged val mIoU (``val_every``), a third panel plots it against training time."""
    runs = {name: [json.loads(line) for line in Path(file).read_text().splitlines() if line.strip()] for name, file in sorted(metrics.items())}
    with_val = any("val_miou" in r for records in runs.values() for r in records)
    fig, axes = plt.subplots(1, 3 if with_val else 2, figsize=(15 if with_val else 11, 3.8))
    loss_ax, lr_ax = axes[0], axes[1]
    for name, records in runs.items():
        steps = [r for r in records if "loss" in r]
        if steps:
            iterations = [r["iteration"] for r in steps]
            loss_ax.plot(iterations, [r["loss"] for r in steps], label=name, linewidth=1)
            lr_ax.plot(iterations, [r["lr"] for r in steps], label=name, linewidth=1)
        val = [r for r in records if "val_miou" in r]
        if with_val and val:
            axes[2].plot([r["elapsed_s"] / 60 for r in val], [100 * r["val_miou"] for r in val], marker=".", label=name, linewidth=1)
    loss_ax.set(xlabel="iteration", ylabel="training loss", title="loss")
    lr_ax.set(xlabel="iteration", ylabel="learning rate", title="poly schedule")
    if with_val:
        axes[2].set(xlabel="training time (min, steps only)", ylabel="val mIoU (%)", title="val mIoU")
    for ax in axes:
        ax.grid(alpha=0.3)
    loss_ax.legend(fontsize=7, ncol=2)
    fig.suptitle(title, fontsize=10)
    _save(fig, path)
