"""Read FPS records (``crosscbam fps --json``) and compile them into the speed table: our FPS and
the ratio to the same-run STDC-Seg reference next to the paper's ratio (Table 2, Sec. 4.2), with
the roofline fraction and the provenance of every row.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

#: Keys every FPS record carries.
REQUIRED_KEYS = ("model", "input", "backend", "precision", "fps", "timing", "provenance")


def read_fps_record(path: str | Path) -> dict:
    """One FPS record; a missing or malformed file raises a one-line ``ValueError`` naming it."""
    try:
        record = json.loads(Path(path).read_text())
        missing = [key for key in REQUIRED_KEYS if key not in record]
    except (OSError, ValueError, TypeError) as error:
        raise ValueError(f"FPS file {path} is not a crosscbam FPS JSON ({error})") from None
    if missing:
        raise ValueError(f"FPS file {path} is not a crosscbam FPS JSON (missing {', '.join(missing)})")
    return record


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def fps_row(record: dict) -> dict:
    """One table row of an FPS record."""
    timing, reference, paper = record["timing"], record.get("reference"), record.get("paper") or {}
    roof = record.get("roofline") or {}
    provenance = record["provenance"]
    versions = provenance.get("backend_versions", {})
    ratio = record.get("fps_ratio")
    return {
        "variant": record["model"],
        "input": "x".join(str(s) for s in record["input"][2:]),
        "backend": record["backend"],
        "precision": record["precision"],
        "fps": _rounded(record["fps"], 2),
        "latency_ms_median": _rounded(timing["latency_ms_median"], 2),
        "latency_ms_p90": _rounded(timing["latency_ms_p90"], 2),
        "cv": _rounded(timing["cv"], 4),
        "iterations": timing["iterations"],
        "reference": reference["model"] if reference else None,
        "reference_fps": _rounded(reference["fps"], 2) if reference else None,
        "reference_cv": _rounded(reference["timing"]["cv"], 4) if reference else None,
        "fps_ratio": _rounded(ratio, 3),
        "fps_ratio_median": _rounded(record.get("fps_ratio_median"), 3),
        "fps_paper": paper.get("fps"),
        "reference_fps_paper": paper.get("reference_fps"),
        "fps_ratio_paper": _rounded(paper.get("fps_ratio"), 3),
        "fps_ratio_delta": _rounded(ratio - paper["fps_ratio"], 3) if ratio is not None and paper else None,
        "roofline_fps": _rounded(roof.get("bound_fps_measured"), 2),
        "roofline_fraction": _rounded(roof.get("fraction_measured"), 3),
        "roofline_fps_theoretical": _rounded(roof.get("bound_fps_theoretical"), 2),
        "roofline_fraction_theoretical": _rounded(roof.get("fraction_theoretical"), 3),
        "device": provenance.get("device"),
        "threads": provenance.get("threads"),
        "versions": ", ".join(f"{k} {v}" for k, v in versions.items() if k in ("torch", "onnxruntime", "tensorrt")),
        "fallback": record.get("fallback"),
        "commit": provenance.get("commit"),
    }


def fps_table(records: list[dict]) -> pd.DataFrame:
    """The speed table: one row per record, sorted by input, backend, precision and variant."""
    frame = pd.DataFrame([fps_row(record) for record in records])
    return frame.sort_values(["input", "backend", "precision", "variant"], kind="stable").reset_index(drop=True)


def fps_notes(preset: str) -> list[str]:
    """The explanatory lines above the Markdown speed table."""
    return [
        "Paper: FPS on an NVIDIA GTX 1080Ti with TensorRT 8.2.3, FP32, batch 1 (Sec. 4.2, Table 2).",
        f"Ours: produced by the `{preset}` preset on the device in each row; absolute FPS depend on the hardware, "
        "so compare `fps_ratio` (ours / the STDC-Seg reference timed in the same run) with `fps_ratio_paper`.",
        "Timing: batch 1, random input on the device, untimed warm-up, synchronised per pass; `cv` = std/mean of the "
        "per-pass latency.",
        "Roofline: model multiply-adds / the device's measured dense-GEMM rate (`roofline_fps`); `*_theoretical` uses "
        "cores x clock x FMA lanes (CPU only).",
    ]
