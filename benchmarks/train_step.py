"""Training-step throughput on this CPU: the levers of the training loop, each on its own, timed
interleaved in one process (forward + the paper's loss + backward + SGD update on a real batch shape).

Levers (``TrainConfig`` fields): ``channels_last`` (NHWC tensors and weights; FP32, the same maths),
``compile_loss`` (the loss terms through ``torch.compile``: the same maths in one fused loop),
``amp`` (bfloat16 autocast on a CPU: only where the CPU has native bf16, AVX512_BF16 or AMX; a departure
from the authors' FP32 recipe). ``--compile`` adds ``torch.compile`` of the model (its compile time is
reported apart). Each configuration runs ``--rounds`` rounds of ``--steps`` steps, in turn (A B C, B C A,
...), after one untimed warm-up step; images/s is given as the median over rounds with the min-max spread,
and as a ratio to eager FP32 from the same rounds. The CPU model and flags are printed and recorded.

    python benchmarks/train_step.py                                   # camvid-M, batch 8, crop 288x384 (the cpu preset)
    python benchmarks/train_step.py --variant M1 --size 512 1024 --batch 2 --json step.json

A measurement, not a test: it depends on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from crosscbam.machine import cpu_flags, cpu_name, native_bf16
from crosscbam.models import build_model, get_variant
from crosscbam.training import PaperLoss

def configurations(compile_model: bool) -> dict[str, dict]:
    """The levers, each alone, and bf16 with each FP32 lever; bf16 only on a CPU with native bf16."""
    out = {"eager fp32": {}, "channels_last": {"channels_last": True}, "compiled loss": {"compile_loss": True}}
    if native_bf16():
        out |= {"bf16 autocast": {"amp": True}, "bf16 + channels_last": {"amp": True, "channels_last": True},
                "bf16 + compiled loss": {"amp": True, "compile_loss": True}}
    if compile_model:
        out["compile fp32"] = {"compile": True}
        if native_bf16():
            out["compile bf16 + channels_last"] = {"compile": True, "amp": True, "channels_last": True}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="camvid-M")
    parser.add_argument("--size", nargs=2, type=int, default=(288, 384), help="crop H W")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=2, help="steps per round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--compile", action="store_true", help="also time torch.compile (minutes of compilation on a CPU)")
    parser.add_argument("--json")
    args = parser.parse_args()
    classes = get_variant(args.variant).num_classes
    images = torch.randn(args.batch, 3, *args.size, generator=torch.Generator().manual_seed(0))
    labels = torch.randint(0, classes, (args.batch, *args.size), generator=torch.Generator().manual_seed(1))
    runs = {}
    for name, levers in configurations(args.compile).items():
        torch.manual_seed(0)
        model = build_model(args.variant, classes).train()
        layout = torch.channels_last if levers.get("channels_last") else torch.contiguous_format
        model = model.to(memory_format=layout)
        forward = torch.compile(model) if levers.get("compile") else model
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        x = images.contiguous(memory_format=layout)
        criterion = PaperLoss(compiled=bool(levers.get("compile_loss")))

        def step(forward=forward, optimizer=optimizer, x=x, criterion=criterion, amp=bool(levers.get("amp"))) -> None:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp):
                main_logits, aux_logits = forward(x)
            loss, _ = criterion(main_logits.float(), None if aux_logits is None else aux_logits.float(), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

        start = time.perf_counter()
        step()  # warm-up (and compilation)
        runs[name] = {"step": step, "levers": levers, "warmup_s": time.perf_counter() - start, "rates": []}
    names = list(runs)
    for r in range(args.rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:
            start = time.perf_counter()
            for _ in range(args.steps):
                runs[name]["step"]()
            runs[name]["rates"].append(args.batch * args.steps / (time.perf_counter() - start))
    flags = sorted(f for f in cpu_flags() if f.startswith(("avx", "amx", "fma")))
    print(f"{args.variant}, batch {args.batch}, crop {args.size[0]}x{args.size[1]}; {cpu_name()} ({', '.join(flags)}); "
          f"{torch.get_num_threads()} threads; torch {torch.__version__}")
    base = statistics.median(runs["eager fp32"]["rates"])
    record = {"variant": args.variant, "batch": args.batch, "crop": list(args.size), "cpu": cpu_name(), "cpu_flags": flags,
              "threads": torch.get_num_threads(), "torch": torch.__version__, "rounds": args.rounds, "steps": args.steps, "results": {}}
    for name, run in runs.items():
        rates = run["rates"]
        median = statistics.median(rates)
        print(f"  {name:22s} {median:6.2f} img/s (min {min(rates):.2f}, max {max(rates):.2f})  x{median / base:.2f} vs eager fp32"
              f"  [warm-up {run['warmup_s']:.1f} s]")
        record["results"][name] = {"levers": run["levers"], "images_per_s": rates, "median": median, "ratio": median / base,
                                   "warmup_s": run["warmup_s"]}
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(record, handle, indent=2)


if __name__ == "__main__":
    main()
