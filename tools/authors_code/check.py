"""``make authors-check``: our networks, loss and initialisation against the authors' code.

    bash tools/authors_code/setup.sh && python tools/authors_code/check.py [--env DIR]

For every network the authors' fork can build (their Cityscapes config with STDC1 or STDC2 and each
dilation set; the full decoder and the live SE-ASPP-only forward) it compares, on CPU:

* logits: the authors' model with random weights and random BatchNorm statistics, and ours loaded
  with the same weights (``load_mmseg_checkpoint``), on the same random batch (raw head outputs);
* loss: the sum of their decode-head and auxiliary-head ``losses()`` and our ``PaperLoss`` on the
  same logits and labels;
* init: per-tensor standard deviation of a fresh model of theirs (``init_weights()``) and of ours,
  tensor by tensor; constant tensors (biases, BatchNorm) must be identical.

It also checks that every citation of ``crosscbam/authors_code.yaml`` points at an existing,
non-empty line of their package. Prints a short table; exits 1 when something differs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from crosscbam.models import build_model  # noqa: E402
from crosscbam.models.checkpoint import load_mmseg_checkpoint  # noqa: E402
from crosscbam.training import PaperLoss  # noqa: E402

DEFAULT_ENV = Path(os.environ.get("AUTHORS_ENV", Path.home() / ".cache" / "crosscbam-authors"))
LOGIT_TOLERANCE = 1e-4  # max |ours - theirs| / max |theirs|, float32 through ~30 layers
LOSS_TOLERANCE = 1e-5  # relative
STD_TOLERANCE = 0.10  # relative, tensors of at least STD_MIN_ELEMENTS elements
STD_MIN_ELEMENTS = 4096

# Modules the authors' CrosseCbamHead builds that the given forward never uses.
_UNUSED_FULL = ("decode_head.last_conv.",)
_UNUSED_LIVE = _UNUSED_FULL + ("decode_head.last_crosse_cabm.", "decode_head.penultimate_crosse_cbam.",
                               "decode_head.penultimate_conv.", "decode_head.bottom_three_conv.")


@dataclass(frozen=True)
class Network:
    """One network of the fork and the variant of ours that should equal it."""

    ours: str
    stdc_type: str = "STDCNet1"
    dilations: tuple[int, ...] = (1, 3)
    forward: str = "full"
    unused: tuple[str, ...] = _UNUSED_FULL


NETWORKS = (
    Network("M1"),
    Network("L1", stdc_type="STDCNet2"),
    Network("M1-d2-4", dilations=(2, 4)),
    Network("M1-d3-5", dilations=(3, 5)),
    Network("M1-d1-3-5", dilations=(1, 3, 5)),
    Network("M1-d2-4-6", dilations=(2, 4, 6)),
    Network("M1-noaux", unused=_UNUSED_FULL + ("auxiliary_head.",)),
    Network("M1-seaspp", forward="live", unused=_UNUSED_LIVE + ("auxiliary_head.",)),
)


def authors_results(env: Path, networks: tuple[Network, ...], size: tuple[int, int], seed: int) -> dict:
    """Run ``authors_side.py`` with the authors' interpreter; its results per network."""
    python = env / "venv" / "bin" / "python"
    request = {"seed": seed, "batch": 2, "size": list(size),
               "networks": [{"name": n.ours, "stdc_type": n.stdc_type, "dilations": list(n.dilations), "forward": n.forward}
                            for n in networks]}
    with tempfile.TemporaryDirectory() as folder:
        request_path, out_path = Path(folder) / "request.json", Path(folder) / "authors.pt"
        request_path.write_text(json.dumps(request))
        command = [str(python), str(Path(__file__).with_name("authors_side.py")), str(env / "package"), str(request_path), str(out_path)]
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
        if done.returncode != 0:
            tail = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
            raise RuntimeError(f"the authors' side failed: {tail}")
        return torch.load(out_path, map_location="cpu", weights_only=False)


def _load_theirs(model: torch.nn.Module, state: dict, unused: tuple[str, ...]) -> None:
    kept = {k: v for k, v in state.items() if not k.startswith(unused)}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "theirs.pth"
        torch.save({"state_dict": kept}, path)
        load_mmseg_checkpoint(model, path, strict=True)


def _relative_max(ours: torch.Tensor, theirs: torch.Tensor) -> float:
    return float((ours - theirs).abs().max() / theirs.abs().max().clamp_min(1e-12))


def compare_init(network: Network, theirs_init: dict, seed: int) -> tuple[int, float, list[str]]:
    """(tensors compared by std, worst |std ratio - 1|, names of constant tensors that differ)."""
    torch.manual_seed(seed)
    ours = build_model(network.ours).state_dict()
    mapped = build_model(network.ours)
    _load_theirs(mapped, theirs_init, network.unused)
    compared, worst, differing = 0, 0.0, []
    for name, theirs in mapped.state_dict().items():
        if not theirs.is_floating_point():
            continue
        if torch.all(theirs == theirs.flatten()[0]):
            if not torch.equal(ours[name], theirs):
                differing.append(name)
        elif theirs.numel() >= STD_MIN_ELEMENTS:
            worst = max(worst, abs(float(ours[name].std() / theirs.std()) - 1))
            compared += 1
    return compared, worst, differing


def check_citations(package: Path, facts_path: Path = REPO / "crosscbam" / "authors_code.yaml") -> list[str]:
    """Citations of ``recipe`` facts into the package that do not point at a non-empty line."""
    bad = []
    for key, fact in yaml.safe_load(facts_path.read_text())["recipe"].items():
        if "file" not in fact or not fact["file"].startswith("mmseg/"):
            continue
        path = package / fact["file"]
        lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
        if not 0 < fact["line"] <= len(lines) or not lines[fact["line"] - 1].strip():
            bad.append(f"{key}: {fact['file']}:{fact['line']}")
    return bad


def run_check(env: Path = DEFAULT_ENV, networks: tuple[Network, ...] = NETWORKS, size: tuple[int, int] = (64, 128),
              seed: int = 0) -> tuple[list[dict], list[str]]:
    """Rows of the equivalence table and the list of failures (empty: equivalent)."""
    results = authors_results(env, networks, size, seed)
    rows, failures = [], []
    criterion = PaperLoss()
    for network in networks:
        theirs = results[network.ours]
        model = build_model(network.ours).eval()
        _load_theirs(model, theirs["state"], network.unused)
        with torch.no_grad():
            features = model.backbone(theirs["images"])
            logit_error = _relative_max(model.decode_head(features), theirs["decode_logits"])
            aux_error = _relative_max(model.aux_head(features), theirs["aux_logits"]) if model.aux_head is not None else None
            ours_loss = float(criterion(theirs["decode_logits"], theirs["aux_logits"], theirs["labels"])[0])
        loss_error = abs(ours_loss - theirs["loss"]) / abs(theirs["loss"])
        compared, worst, differing = compare_init(network, theirs["init_state"], seed)
        row = {"network": network.ours, "forward": network.forward, "logits": logit_error, "aux logits": aux_error,
               "loss (theirs)": theirs["loss"], "loss (ours)": ours_loss, "loss rel.": loss_error,
               "init tensors": compared, "init std worst": worst, "init constants differing": len(differing)}
        rows.append(row)
        if logit_error > LOGIT_TOLERANCE or (aux_error is not None and aux_error > LOGIT_TOLERANCE):
            failures.append(f"{network.ours}: logits differ (relative {logit_error:.2e}, aux {aux_error})")
        if loss_error > LOSS_TOLERANCE:
            failures.append(f"{network.ours}: loss {ours_loss:.6f} vs theirs {theirs['loss']:.6f}")
        if worst > STD_TOLERANCE or differing:
            failures.append(f"{network.ours}: init differs (worst std ratio {worst:.1%}; constants {differing[:3]})")
    failures += [f"citation points at nothing: {item}" for item in check_citations(env / "package")]
    return rows, failures


def format_table(rows: list[dict]) -> str:
    header = f"{'network':<11} {'forward':<7} {'logits':>9} {'aux':>9} {'loss theirs':>12} {'loss ours':>12} {'loss rel':>9} {'init n':>6} {'std worst':>9} {'const':>5}"
    lines = [header, "-" * len(header)]
    for r in rows:
        aux = f"{r['aux logits']:.1e}" if r["aux logits"] is not None else "-"
        lines.append(f"{r['network']:<11} {r['forward']:<7} {r['logits']:>9.1e} {aux:>9} {r['loss (theirs)']:>12.6f} "
                     f"{r['loss (ours)']:>12.6f} {r['loss rel.']:>9.1e} {r['init tensors']:>6} {r['init std worst']:>9.1%} "
                     f"{r['init constants differing']:>5}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", type=Path, default=DEFAULT_ENV, help="the folder tools/authors_code/setup.sh filled")
    args = parser.parse_args()
    if not (args.env / "venv" / "bin" / "python").exists():
        print(f"no authors' environment in {args.env}; run tools/authors_code/setup.sh (AUTHORS_ENV={args.env})", file=sys.stderr)
        return 2
    rows, failures = run_check(args.env)
    print(format_table(rows))
    print(f"tolerances: logits {LOGIT_TOLERANCE:g} (max abs diff / max abs), loss {LOSS_TOLERANCE:g} relative, "
          f"init std {STD_TOLERANCE:.0%} (tensors >= {STD_MIN_ELEMENTS} elements), constants exact")
    for failure in failures:
        print("DIFFERS:", failure)
    print("equivalent" if not failures else f"{len(failures)} differences")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
