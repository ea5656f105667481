"""The GPU path in one short run (a lent GPU machine: PyTorch with CUDA, onnx, onnxruntime, no TensorRT).

1. Inference: every Table 2 / Table 3 network we build, at its row's input, timed with PyTorch CUDA in
   one interleaved run per precision (FP32, FP16) under the STDC-Seg protocol (batch 1, random input on
   the device, untimed warm-up, synchronised per pass), eager and, with ``--graphs``, replayed as a
   CUDA graph; each network's FPS as a ratio to Cross-CBAM-M and to STDC-Seg of the same run.
2. Training throughput: camvid-M at the cpu preset's batch and crop and at the paper's CamVid crop,
   forward + the paper's loss + backward + SGD, FP32 and FP16 autocast; random tensors in the real
   batch shape (data loading is not timed: it is the same code as on a CPU).

Writes ``inference.csv``, ``training.csv`` and ``check.json`` to ``--out`` and prints both tables; the
CPU runs the same logic (``--device cpu``, smaller inputs) so that a test keeps it working.

    tools/gpu/check                    # on the GPU machine, about 5 minutes
    python tools/gpu/check.py --device cpu --tables table3 --scale 0.05 --min-seconds 0 --min-iterations 2 --train-steps 1 --out /tmp/c
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import time
from pathlib import Path

import torch

from crosscbam.models import build_model, get_variant
from crosscbam.paper import speed_group
from crosscbam.provenance import provenance
from crosscbam.speed.pytorch import TorchRunner
from crosscbam.speed.timing import time_interleaved
from crosscbam.training import PaperLoss

#: Training shapes timed: (name, batch, crop): the cpu preset's, and the paper's CamVid crop (Sec. 4.1).
TRAINING_SHAPES = [("cpu preset", 8, (288, 384)), ("paper CamVid crop", 8, (720, 960))]


class GraphRunner(TorchRunner):
    """:class:`TorchRunner` whose forward pass is captured once as a CUDA graph and replayed."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream), torch.inference_mode():
            for _ in range(3):  # warm-up on a side stream, as CUDA graph capture requires
                self.model(self.input)
        torch.cuda.current_stream().wait_stream(stream)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph), torch.inference_mode():
            self.output = self.model(self.input)

    def run(self) -> None:
        self.graph.replay()


def _reference(entries: list[dict], entry: dict, prefix: str) -> str | None:
    """The key of the entry at ``entry``'s input whose network's name starts with ``prefix``."""
    return next((_key(x) for x in entries if x["size"] == entry["size"] and x["network"].startswith(prefix)), None)


def _key(entry: dict) -> str:
    return f"{entry['network']} {entry['size'][0]}x{entry['size'][1]}"


def inference(tables: list[str], device: str, scale: float, precisions: list[str], graphs: bool, min_seconds: float,
              min_iterations: int = 20, warmup: int = 10) -> list[dict]:
    """One interleaved run per (table, precision, mode); ratios to Cross-CBAM-M and to the STDC-Seg of the
    network's backbone (STDC1 for rivals), both at the same input and from the same run."""
    rows = []
    for table in tables:
        entries = speed_group(table, scale)
        for precision in precisions:
            for mode in ["eager", "cuda graph"] if graphs and device == "cuda" else ["eager"]:
                runner = GraphRunner if mode == "cuda graph" else TorchRunner
                runners = {_key(e): runner(build_model(e["network"]), tuple(e["size"]), device=device, precision=precision) for e in entries}
                timings = time_interleaved(runners, warmup=warmup, min_seconds=min_seconds, min_iterations=min_iterations)
                for e in entries:
                    timing = timings[_key(e)]
                    backbone = getattr(get_variant(e["network"]), "backbone", None) or "stdc1"
                    cross_cbam = _reference(entries, e, "camvid-M" if table == "table3" else "M")
                    stdc = _reference(entries, e, f"STDC{backbone[-1]}-Seg")
                    rows.append({"table": table, "network": e["network"], "input": "x".join(map(str, e["size"])),
                                 "precision": precision, "mode": mode, "fps": round(timing.fps, 1), "cv": round(timing.cv, 3),
                                 "ratio_to_cross_cbam_m": round(timing.fps / timings[cross_cbam].fps, 3) if cross_cbam else None,
                                 "stdc_reference": stdc,
                                 "ratio_to_stdc": round(timing.fps / timings[stdc].fps, 3) if stdc else None})
                del runners
    return rows


def training(device: str, scale: float, steps: int) -> list[dict]:
    variant = get_variant("camvid-M")
    rows = []
    for name, batch, crop in TRAINING_SHAPES:
        size = tuple(max(32, round(s * scale / 32) * 32) for s in crop)
        images = torch.randn(batch, 3, *size, device=device)
        labels = torch.randint(0, variant.num_classes, (batch, *size), device=device)
        for precision, loss_kind in [(p, k) for p in (["fp32", "fp16"] if device == "cuda" else ["fp32"]) for k in ("eager", "compiled")]:
            torch.manual_seed(0)
            model = build_model("camvid-M").to(device).train()
            optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
            scaler = torch.amp.GradScaler(device, enabled=precision == "fp16")
            criterion = PaperLoss(compiled=loss_kind == "compiled")  # TrainConfig.compile_loss

            def step() -> None:
                with torch.autocast(device, dtype=torch.float16, enabled=precision == "fp16"):
                    main_logits, aux_logits = model(images)
                loss, _ = criterion(main_logits.float(), aux_logits.float(), labels)
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()

            rates = []
            for i in range(steps + 2):  # two untimed warm-up steps (cuDNN autotuning, allocator, compilation)
                if device == "cuda":
                    torch.cuda.synchronize()
                start = time.perf_counter()
                try:
                    step()
                except Exception as error:  # noqa: BLE001 - a compiler missing on the lent machine is a result, not a stop
                    rates = [float("nan")]
                    print(f"training {name} {precision} loss {loss_kind}: {type(error).__name__}: {str(error)[:200]}")
                    break
                if device == "cuda":
                    torch.cuda.synchronize()
                if i >= 2:
                    rates.append(batch / (time.perf_counter() - start))
            rows.append({"shape": name, "batch": batch, "crop": f"{size[0]}x{size[1]}", "precision": precision, "loss": loss_kind,
                         "images_per_s": round(statistics.median(rates), 1), "min": round(min(rates), 1), "max": round(max(rates), 1),
                         "steps": steps})
    return rows


def markdown(rows: list[dict]) -> str:
    """A Markdown table (the GPU image may lack pandas and tabulate)."""
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return "\n".join(lines + ["| " + " | ".join("" if row[c] is None else str(row[c]) for c in columns) + " |" for row in rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--tables", nargs="+", default=["table2", "table3"])
    parser.add_argument("--scale", type=float, default=1.0, help="inputs times this (1: the paper's; a CPU test uses less)")
    parser.add_argument("--min-seconds", type=float, default=2.0, help="each network timed at least this long per run")
    parser.add_argument("--min-iterations", type=int, default=20, help="and at least this many passes")
    parser.add_argument("--warmup", type=int, default=10, help="untimed passes first")
    parser.add_argument("--no-graphs", dest="graphs", action="store_false", help="skip the CUDA graph runs")
    parser.add_argument("--train-steps", type=int, default=20)
    parser.add_argument("--out", default="results/gpu-check")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.exit(2, "tools/gpu/check: PyTorch sees no CUDA device here; run it on the GPU machine, or pass --device cpu\n")
    torch.backends.cudnn.benchmark = True
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    precisions = ["fp32", "fp16"] if args.device == "cuda" else ["fp32"]
    speed = inference(args.tables, args.device, args.scale, precisions, args.graphs, args.min_seconds, args.min_iterations, args.warmup)
    train = training(args.device, args.scale, args.train_steps)
    facts = provenance(args.device)
    for name, rows in (("inference", speed), ("training", train)):
        with open(out / f"{name}.csv", "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    (out / "check.json").write_text(json.dumps({"provenance": facts, "inference": speed, "training": train, "args": vars(args)},
                                               indent=2, default=str))
    print(f"device: {facts.get('device')}; torch {torch.__version__}; batch 1, interleaved, synchronised per pass")
    print(markdown(speed))
    print("\ntraining throughput, camvid-M (random tensors in the real batch shape):")
    print(markdown(train))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
