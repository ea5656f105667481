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
from matplotlib.transforms import Bbox  # noqa: E402

from crosscbam.data.colors import colorize, overlay  # noqa: E402
from crosscbam.io import atomic_path  # noqa: E402
from crosscbam.paper import paper_table  # noqa: E402
from crosscbam.reports.speed import TIMED_UNDER_LOAD  # noqa: E402
from crosscbam.speed.timing import NOISY_CV  # noqa: E402

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


def _class_legend(fig, palette: list[tuple[int, int, int]], class_names: list[str] | None, ncol: int) -> None:
    """The class colours below the panels (none when ``class_names`` is ``None``)."""
    if class_names:
        handles = [plt.Rectangle((0, 0), 1, 1, color=np.array(rgb) / 255) for rgb in palette]
        fig.legend(handles, class_names, loc="outside lower center", ncol=min(len(class_names), ncol), fontsize=7, frameon=False)


def _miou_words(miou: float) -> str:
    return "mIoU n/a (no labelled pixel)" if np.isnan(miou) else f"mIoU {100 * miou:.1f} %"


def qualitative_panel(rows: list[dict], palette: list[tuple[int, int, int]], path: str | Path, title: str,
                      class_names: list[str] | None = None) -> None:
    """Fig. 7 (Sec. 4.4): per row, the input, the prediction overlaid at opacity 0.5 and 1.0, and the
    ground truth, with the image's own mIoU; a legend of the class colours below.

    Args:
        rows: dicts with ``image`` (HxWx3 uint8), ``prediction`` and ``label`` (HxW class indices), and
            optionally ``name`` (shown under the input) and ``miou`` (a fraction, shown at the row's left).
        class_names: the legend's names, in palette order (no legend when ``None``).
    """
    columns = ("input", "prediction (opacity 0.5)", "prediction (opacity 1.0)", "ground truth")
    height, width = rows[0]["image"].shape[:2]
    fig, axes = plt.subplots(len(rows), 4, figsize=(12, 3.0 * len(rows) * height / width + 1.2), squeeze=False, layout="constrained")
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
            axes[r, 0].set_ylabel(_miou_words(row["miou"]), fontsize=8)
        if "name" in row:  # under the image: a file stem is wider than a row is high
            axes[r, 0].set_xlabel(row["name"], fontsize=6)
    _class_legend(fig, palette, class_names, ncol=10)
    fig.suptitle(title, fontsize=10)
    _save(fig, path)


def ablation_panel(image: np.ndarray, predictions: dict[str, np.ndarray], label: np.ndarray,
                   palette: list[tuple[int, int, int]], path: str | Path, title: str,
                   class_names: list[str] | None = None) -> None:
    """Fig. 8 (Sec. 4.4): one row per Table 4 model (its prediction overlaid at opacity 0.5, titled with
    the model's mIoU on this image), then the ground truth; a legend of the class colours below.

    Args:
        predictions: HxW class indices per model, in the rows' order.
        class_names: the legend's names, in palette order (no legend when ``None``).
    """
    names = list(predictions) + ["ground truth"]
    height, width = image.shape[:2]
    legend_rows = -(-len(class_names) // 4) if class_names else 0
    fig, axes = plt.subplots(len(names), 1, figsize=(5, len(names) * (4.6 * height / width + 0.35) + 0.15 * legend_rows + 0.4),
                             squeeze=False, layout="constrained")
    for ax, name in zip(axes[:, 0], names):
        shown = label if name == "ground truth" else predictions[name]
        ax.imshow(overlay(image, colorize(shown, palette), 0.5))
        ax.set_title(name if name == "ground truth" else f"{name}: {_miou_words(image_miou(shown, label, len(palette)))}", fontsize=9)
        ax.set_axis_off()
    _class_legend(fig, palette, class_names, ncol=4)
    fig.suptitle(title, fontsize=10)
    _save(fig, path)


#: Where a point's label may go, in points from the point, tried in this order (then with a leader line).
LABEL_OFFSETS = [(4, 2), (4, -8), (-4, 2), (-4, -8), (0, 7), (0, -12)]
LABEL_FAR = [(dx * r, dy * r) for r in (14, 24, 34, 48, 64) for dx, dy in ((1, 1), (1, -1), (-1, 1), (-1, -1), (0, 1), (0, -1), (1, 0), (-1, 0))]


def place_labels(ax, points: list[tuple[float, float, str]], fontsize: float = 6) -> list[str]:
    """Label each point where its text overlaps no other label or point, the legend or the axes' edge: next
    to it if there is room, else further away with a leader line, else with a number whose name is
    returned for a key (the caller prints the key; in a crowded spot the number may touch another
    label). Returns the names given numbers."""
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    legend = ax.get_legend()
    taken = [legend.get_window_extent(renderer)] if legend else []
    radius = renderer.points_to_pixels(2.5)  # a marker: no label is written over another point
    markers = {(x, y): Bbox.from_extents(px - radius, py - radius, px + radius, py + radius)
               for (x, y, _), (px, py) in zip(points, ax.transData.transform([(x, y) for x, y, _ in points]))}
    taken += markers.values()
    keyed: list[str] = []

    def try_place(text: str, x: float, y: float, offsets, arrow: bool):
        for dx, dy in offsets:
            label = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize,
                                ha="left" if dx > 0 else "right" if dx < 0 else "center",
                                arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "0.5"} if arrow else None)
            box = label.get_window_extent(renderer).expanded(1.04, 1.15)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            own = markers.get((x, y))  # a leader line starts on its own point
            if inside and not any(box.overlaps(other) for other in taken if other is not own):
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


#: The mIoU splits of Table 2, one panel each: a method's val and test mIoU are never drawn on one axis.
MIOU_SPLITS = {"miou_val": "val", "miou_test": "test"}


def speed_accuracy_figure(table2: pd.DataFrame, preset: str):
    """The figure of :func:`speed_accuracy` (returned, not saved): one panel per mIoU split."""
    paper = paper_table("table2")
    fig, axes = plt.subplots(1, len(MIOU_SPLITS), figsize=(14, 6), sharey=True)
    have = table2[table2["variant"].notna() & table2["fps_ratio"].notna() & table2["miou_val"].notna() & table2["fps_ratio_paper"].notna()]
    keys = []
    for ax, (column, split) in zip(axes, MIOU_SPLITS.items()):
        shown = paper[paper["fps"].notna() & paper[column].notna()]
        cross_cbam = shown["variant"].notna()
        others, cross = shown[~cross_cbam], shown[cross_cbam]
        ax.scatter(others["fps"], others[column], c="tab:gray", s=18, label=f"other methods, {split} (paper)")
        ax.scatter(cross["fps"], cross[column], c="tab:red", s=30, marker="s", label=f"Cross-CBAM, {split} (paper)")
        if split == "val" and len(have) and preset == "full":
            scaled = pd.to_numeric(have["fps_ratio"]) / pd.to_numeric(have["fps_ratio_paper"]) * pd.to_numeric(have["fps_paper"])
            ax.scatter(scaled, pd.to_numeric(have["miou_val"]), s=40, marker="o", c="tab:blue",
                       label="ours, val (FPS: our same-run ratio to Cross-CBAM-M x its paper FPS)")
        ax.set_xlabel("FPS as the paper reports it (TensorRT on a GTX 1080Ti)", fontsize=8)
        ax.set_ylabel(f"mIoU (%) on Cityscapes {split}", fontsize=8)
        ax.set_title(f"Cityscapes {split} mIoU ({len(shown)} methods with FPS and {split} mIoU)", fontsize=9)
        ax.grid(alpha=0.3)
        ax.margins(x=0.12, y=0.08)
        ax.legend(fontsize=7, loc="lower right")
        keyed = place_labels(ax, [(row["fps"], row[column], row["model"]) for _, row in shown.iterrows()])
        keys += [f"{split} {n}: {name}" for n, name in enumerate(keyed, 1)]
    fig.suptitle("Speed-accuracy trade-off (Table 2, the paper's values)", fontsize=10)
    if len(have) and preset != "full":
        # Not comparable with the paper: drawing them on its axes would invite a comparison.
        fig.text(0.99, 0.005, f"ours ({preset} preset) not drawn: not comparable with the paper", fontsize=7, ha="right", va="bottom")
    if keys:
        fig.text(0.01, 0.005, "  ".join(keys), fontsize=6, va="bottom")
    return fig


def speed_accuracy(table2: pd.DataFrame, path: str | Path, preset: str) -> None:
    """mIoU against FPS for every Table 2 method (Sec. 4.3), val and test in separate panels, and our
    rows where measured, with labels that do not overlap.

    Our FPS is placed on the paper's axis by scaling the paper's Cross-CBAM-M FPS with our same-run
    ratio to it; ours (val) are drawn for the full preset only (other presets are not comparable: a note says so).
    """
    _save(speed_accuracy_figure(table2, preset), path)


#: Marker per comparison table in the relative-speed figure.
RATIO_MARKERS = {"table2": ("o", "Table 2 (Cityscapes)"), "table3": ("s", "Table 3 (CamVid)")}


def speed_ratios_figure(tables: dict[str, pd.DataFrame], preset: str):
    """The figure of :func:`speed_ratios` (returned, not saved)."""
    fig, ax = plt.subplots(figsize=(7.5, 6))
    points, setups, extremes, loaded = [], set(), [], []
    for index, (table, frame) in enumerate(tables.items()):
        if not {"fps_ratio", "fps_ratio_paper", "fps_ratio_to"} <= set(frame.columns):
            continue  # no group of this table was timed
        have = frame[frame["fps_ratio"].notna() & frame["fps_ratio_paper"].notna()]
        have = have[have["model"] != have["fps_ratio_to"]]  # the reference itself is 1 on both axes
        marker, label = RATIO_MARKERS[table]
        x, y = pd.to_numeric(have["fps_ratio_paper"]), pd.to_numeric(have["fps_ratio"])
        # Each point with its 95 % interval (reports.speed.ratio_columns); noisy ones (a timing CV over the limit) hollow.
        low, high = (pd.to_numeric(have[c]) if c in have else y for c in ("fps_ratio_low", "fps_ratio_high"))
        noisy = (have["fps_ratio_noisy"].astype(str) == "True") if "fps_ratio_noisy" in have else pd.Series(False, index=have.index)
        colour = f"C{index}"
        ax.scatter(x[~noisy], y[~noisy], marker=marker, s=30, color=colour, label=label if (~noisy).any() else None)
        ax.scatter(x[noisy], y[noisy], marker=marker, s=30, facecolors="none", edgecolors=colour,
                   label=f"{label}, noisy (a timing CV > {NOISY_CV:.0%})" if noisy.any() else None)
        ax.errorbar(x, y, yerr=[y - low, high - y], fmt="none", ecolor=colour, elinewidth=0.8, capsize=2,
                    label=None if points else "ours: 95 % interval")
        points += [(a, b, f"{name}") for a, b, name in zip(x, y, have["model"])]
        extremes += [*low, *high]
        setups |= {f"{p.split('backend=')[1].split(';')[0]} on {p.split('device=')[1].split(';')[0]}"
                   for p in have.get("fps_provenance", pd.Series(dtype=object)).dropna()}
        if have.get("fps_verdict", pd.Series(dtype=object)).astype(str).str.startswith(TIMED_UNDER_LOAD).any():
            loaded.append(label.split(" (")[0])
    if not points:  # e.g. a preset whose speed.tables is empty
        fig.text(0.5, 0.5, "no same-run group was timed in this run", ha="center", fontsize=9)
    values = [v for x, y, _ in points for v in (x, y)] + [v for v in extremes if v > 0] or [1.0]
    low, high = min(values) / 1.3, max(values) * 1.3
    ax.plot([low, high], [low, high], color="gray", linewidth=0.8, linestyle="--", label="ours = paper")
    ax.set(xscale="log", yscale="log", xlim=(low, high), ylim=(low, high))
    ax.set_xlabel("paper: FPS / FPS of Cross-CBAM-M (its Tables 2-3, TensorRT on a GTX 1080Ti)", fontsize=8)
    ax.set_ylabel(f"ours: the same ratio, one interleaved run ({'; '.join(sorted(setups)) or 'no run'})", fontsize=8)
    verdict = "" if preset == "full" else f" - {preset} preset: information, not a reproduction"
    load = f"\n{' and '.join(loaded)} {TIMED_UNDER_LOAD} (see the tables' FPS verdicts)" if loaded else ""
    ax.set_title(f"Relative speed: the paper's FPS against ours on one machine{verdict}{load}", fontsize=9)
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


#: Line styles cycled after the colours, so that every run has its own colour and style pair.
LINE_STYLES = ("-", "--", ":", "-.")


def run_styles(names: list[str]) -> dict[str, dict]:
    """A distinct (colour, line style) per run: the ten tab10 colours, then again with the next style."""
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    return {name: {"color": colours[i % len(colours)], "linestyle": LINE_STYLES[i // len(colours) % len(LINE_STYLES)]}
            for i, name in enumerate(names)}


def lr_note(configs: dict[str, dict | None], preset: str) -> str:
    """Where the plotted learning rate comes from: each dataset's runs' own recipe (the ``config.json`` a
    training writes beside its log), beside the authors'."""
    from dataclasses import fields

    from crosscbam.training.config import TrainConfig

    authors = {f.name: f.default for f in fields(TrainConfig) if f.name in ("lr", "warmup_iters")}  # the dataclass defaults
    parts = [f"{dataset} lr {config['lr']}, warm-up {config['warmup_iters']} iterations" if config else f"{dataset}: as logged"
             for dataset, config in configs.items()]
    return (f"The learning rate follows the {preset} preset's recipe ({'; '.join(parts)}; then poly decay); "
            f"the authors' recipe: lr {authors['lr']}, warm-up {authors['warmup_iters']} (reports/protocol.md).")


def _run_config(metrics: str | Path) -> dict | None:
    """The training configuration a run recorded beside its log, if any."""
    path = Path(metrics).with_name("config.json")
    return json.loads(path.read_text()) if path.is_file() else None


def training_curves(metrics: dict[str, str | Path], path: str | Path, preset: str) -> None:
    """Loss and learning rate against iteration, one line per run (``metrics.jsonl`` files named
    ``<dataset>/<network>``); where runs logged val mIoU (``val_every``), a third panel plots it
    against training time. A note says which recipe set the learning rate (Sec. 4.1 gives the paper's)."""
    runs = {name: [json.loads(line) for line in Path(file).read_text().splitlines() if line.strip()] for name, file in sorted(metrics.items())}
    styles = run_styles(list(runs))
    with_val = any("val_miou" in r for records in runs.values() for r in records)
    fig, axes = plt.subplots(1, 3 if with_val else 2, figsize=(15 if with_val else 11, 4.2))
    loss_ax, lr_ax = axes[0], axes[1]
    for name, records in runs.items():
        steps = [r for r in records if "loss" in r]
        if steps:
            iterations = [r["iteration"] for r in steps]
            loss_ax.plot(iterations, [r["loss"] for r in steps], label=name, linewidth=1, **styles[name])
            lr_ax.plot(iterations, [r["lr"] for r in steps], label=name, linewidth=1, **styles[name])
        val = [r for r in records if "val_miou" in r]
        if with_val and val:
            axes[2].plot([r["elapsed_s"] / 60 for r in val], [100 * r["val_miou"] for r in val], marker=".", label=name,
                         linewidth=1, **styles[name])
    loss_ax.set(xlabel="iteration", ylabel="training loss", title="loss")
    lr_ax.set(xlabel="iteration (as logged)", ylabel="learning rate", title=f"learning rate ({preset} preset's recipe)")
    if with_val:
        axes[2].set(xlabel="training time (min, steps only)", ylabel="val mIoU (%)", title="val mIoU")
    for ax in axes:
        ax.grid(alpha=0.3)
    loss_ax.legend(fontsize=7, ncol=2)
    fig.suptitle(f"Training curves ({preset} preset)", fontsize=10)
    configs = {}
    for name, file in sorted(metrics.items()):
        configs.setdefault(name.split("/")[0], _run_config(file))
    fig.text(0.5, -0.01, lr_note(configs, preset), ha="center", va="top", fontsize=8)
    _save(fig, path)
