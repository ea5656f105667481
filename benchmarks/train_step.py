"""Training step time of a variant at the paper's crop (Sec. 4.2) on this machine: SGD + the paper's
loss, forward + backward + update, median after one warm-up step. A measurement, not a test.

    python benchmarks/train_step.py [--variant M1] [--size 512 1024] [--batches 1 2] [--steps 4]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from crosscbam.models import build_model
from crosscbam.training import PaperLoss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="M1")
    parser.add_argument("--size", nargs=2, type=int, default=(512, 1024))
    parser.add_argument("--batches", nargs="+", type=int, default=(1, 2))
    parser.add_argument("--steps", type=int, default=4)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = build_model(args.variant).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    criterion = PaperLoss()
    for batch in args.batches:
        images = torch.randn(batch, 3, *args.size)
        labels = torch.randint(0, 19, (batch, *args.size))
        times = []
        for _ in range(args.steps):
            start = time.perf_counter()
            main_logits, aux_logits = model(images)
            loss, _ = criterion(main_logits, aux_logits, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            times.append(time.perf_counter() - start)
        step = statistics.median(times[1:])
        print(f"{args.variant} {args.size[0]}x{args.size[1]} batch {batch}: {step:.2f} s/step, {batch / step:.2f} img/s "
              f"({torch.get_num_threads()} threads, median of {len(times) - 1} after a warm-up)")


if __name__ == "__main__":
    main()
