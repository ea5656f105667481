"""The deployment table (reports/deployment.{csv,md}): per backend and precision, FPS from one interleaved
run with its CV and the ratio to ONNX Runtime FP32, and test mIoU with its drop from PyTorch FP32; the
deployment goal's ratio (fastest INT8 over fastest FP32) in the notes."""

from __future__ import annotations

import pandas as pd

from crosscbam.io import write_text
from crosscbam.reports.speed import under_load
from crosscbam.speed.timing import NOISY_CV, ratio_interval, ratio_noisy

#: The columns a person reads (Markdown, terminal); the CSV keeps every column.
SHOWN = ["deployment", "fps", "cv", "passes", "fps_ratio_to_onnxruntime_fp32", "test_miou", "miou_drop_vs_torch_fp32"]
def deployment_table(record: dict) -> pd.DataFrame:
    """One row per deployment of ``record`` (:func:`crosscbam.deploy.deployment`)."""
    rows = {entry["deployment"]: entry for entry in record["deployments"]}
    base = rows["onnxruntime fp32"]["timing"]
    base_miou = rows["torch fp32"]["miou"]
    device = record["provenance"]["device"]
    out = []
    for name, entry in rows.items():
        timing = entry["timing"]
        ratio, low, high = ratio_interval(timing, base)
        shown = f"{ratio:.2f} [{low:.2f}, {high:.2f}]" + (" noisy" if ratio_noisy(timing, base) else "")
        if name == "onnxruntime fp32":
            shown = "1 (reference)"
        out.append({
            "deployment": name, "backend": entry["backend"], "precision": entry["precision"],
            "fps": round(timing["fps"], 2), "cv": round(timing["cv"], 4), "passes": timing["iterations"],
            "fps_ratio_to_onnxruntime_fp32": shown,
            "test_miou": round(100 * entry["miou"], 2), "miou_drop_vs_torch_fp32": round(100 * (base_miou - entry["miou"]), 2) + 0.0,
            "pixel_accuracy": round(100 * entry["pixel_accuracy"], 2),
            "data": f"{record['data']} {record['split']} ({entry['n_images']} images), input {record['size'][0]}x{record['size'][1]}",
            "provenance": f"{record['model']} from {record['checkpoint']}; batch 1, {device}, "
                          f"{timing.get('iterations')} passes; int8 calibrated on {record['calibration']['images']} "
                          f"{record['calibration']['split']} images",
        })
    return pd.DataFrame(out)


def int8_gain(record: dict) -> str:
    """The fastest INT8 deployment over the fastest FP32 one (the deployment goal's ratio), with its interval."""
    entries = record["deployments"]
    fastest = {precision: max((e for e in entries if e["precision"] == precision), key=lambda e: e["timing"]["fps"], default=None)
               for precision in ("int8", "fp32")}
    if None in fastest.values():
        return "no INT8 or no FP32 deployment timed"
    ratio, low, high = ratio_interval(fastest["int8"]["timing"], fastest["fp32"]["timing"])
    return (f"fastest INT8 ({fastest['int8']['deployment']}) / fastest FP32 ({fastest['fp32']['deployment']}): "
            f"{ratio:.2f}x [{low:.2f}, {high:.2f}]")


def write_deployment(record: dict, csv: str, md: str) -> pd.DataFrame:
    frame = deployment_table(record)
    write_text(frame.to_csv(index=False), csv)
    shown = frame[SHOWN]
    shown = shown.rename(columns={"fps_ratio_to_onnxruntime_fp32": "ratio to ORT fp32", "miou_drop_vs_torch_fp32": "mIoU drop (points)",
                                  "test_miou": "test mIoU"})
    notes = [f"{record['model']} on {frame['data'].iloc[0]}; one interleaved timing run on {record['provenance']['device']}, batch 1"
             + (f"; {under_load(record)}." if under_load(record) else "."),
             f"INT8: {record['calibration']['method']}; calibrated on {record['calibration']['images']} training images (never test).",
             f"{int8_gain(record)}.",
             "Ratio: FPS over ONNX Runtime FP32's, [95 % interval from the mean latencies' standard errors]; 'noisy' "
             f"where either timing's per-pass jitter (cv) exceeds {NOISY_CV:.0%}. Full detail: reports/deployment.csv."]
    write_text("# Deployment on this CPU: speed and accuracy\n\n" + "".join(f"- {n}\n" for n in notes) + "\n"
               + shown.to_markdown(index=False) + "\n", md)
    return frame
