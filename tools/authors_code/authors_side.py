"""The authors' side of ``make authors-check``; runs with the authors' environment's Python.

    python authors_side.py PACKAGE_DIR REQUEST.json OUT.pt

For every requested network it builds the authors' model from their Cityscapes config (with the
requested backbone and dilations), records the per-tensor statistics of ``init_weights()``, then
gives every parameter and every BatchNorm statistic random values, and records on a random batch:
the decode head's and the auxiliary head's raw logits (``forward="full"``: the decode head built
with the commented-out config's channels and inputs and wired as the commented-out '#channels-256'
forward of ``cross_cbam_bisenet.py``, docs/design.md#decode-heads; ``"live"``: the live config and forward), and the sum of both heads' ``losses()`` on random labels.
With ``augment`` samples it also runs their effective training pipeline on them. Only torch, numpy,
mmcv and the fork are imported here; nothing from crosscbam.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import torch

CONFIG = "mmseg/.mim/configs/bisenet_liteaspp_cross_cbam/bisenet_liteaspp_cross_cbam_512x1024_160k_cityscapes.py"


def install_shims() -> None:
    """mmcv.runner imports torchvision, and mmseg's focal loss imports mmcv.ops: neither is used on
    the CPU paths exercised here, so empty stand-ins are registered (their functions raise)."""
    sys.modules.setdefault("torchvision", types.ModuleType("torchvision"))
    ops = types.ModuleType("mmcv.ops")

    def unavailable(*args, **kwargs):
        raise RuntimeError("mmcv was built without its compiled ops")

    def attribute(name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return unavailable

    ops.__getattr__ = attribute  # type: ignore[attr-defined]
    sys.modules["mmcv.ops"] = ops
    # mmseg.datasets imports prettytable for its evaluation tables, which are not used here
    tables = types.ModuleType("prettytable")
    tables.PrettyTable = object  # type: ignore[attr-defined]
    sys.modules.setdefault("prettytable", tables)


def augment(package: Path, samples: list[dict]) -> list[dict]:
    """Their effective training pipeline (``data.train.pipeline`` of the config, after loading) on
    each given BGR image and label, with ``numpy.random`` seeded per sample."""
    import numpy as np
    from mmcv import Config
    from mmseg.datasets.pipelines import Compose

    cfg = Config.fromfile(str(package / CONFIG))
    steps = [step for step in cfg.data.train.pipeline if step["type"] not in ("LoadImageFromFile", "LoadAnnotations", "DefaultFormatBundle", "Collect")]
    pipeline = Compose(steps)
    out = []
    for sample in samples:
        image, label = sample["bgr"].numpy(), sample["label"].numpy()
        np.random.seed(sample["seed"])
        result = pipeline({"img": image, "gt_semantic_seg": label, "seg_fields": ["gt_semantic_seg"], "img_fields": ["img"],
                           "img_shape": image.shape, "ori_shape": image.shape, "pad_shape": image.shape, "scale_factor": 1.0})
        out.append({"image": torch.from_numpy(result["img"].copy()), "label": torch.from_numpy(result["gt_semantic_seg"].copy()),
                    "steps": [step["type"] for step in steps], "ratio_range": [list(s["ratio_range"]) for s in steps if "ratio_range" in s]})
    return out


def full_decode(head, features):
    """The full Cross-CBAM decoder with the authors' modules (docs/design.md#decode-heads, C = 256)."""
    from mmseg.ops import resize

    s3, s4, s5 = features[-3:]
    x = head.lite_aspp([s5])
    x = resize(x, size=s4.shape[2:], mode="bilinear", align_corners=False)
    x = head.last_crosse_cabm(head.penultimate_conv(s4), x)
    x = resize(x, size=s3.shape[2:], mode="bilinear", align_corners=False)
    x = head.penultimate_crosse_cbam(s3, x)
    return head.cls_seg(head.bottom_three_conv(x))


def randomise(model: torch.nn.Module, generator: torch.Generator) -> None:
    """Random weights of a sane scale and random BatchNorm statistics, in place."""
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if not tensor.is_floating_point():
                continue
            if name.endswith("running_var"):
                tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
            elif name.endswith(("running_mean", "bias")):
                tensor.copy_(torch.randn(tensor.shape, generator=generator) * 0.1)
            elif tensor.dim() == 1:  # BN weight
                tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
            else:
                fan_in = tensor[0].numel()
                tensor.copy_(torch.randn(tensor.shape, generator=generator) * (2.0 / fan_in) ** 0.5)


def run(package: Path, request: dict) -> dict:
    sys.path.insert(0, str(package))
    install_shims()
    from mmcv import Config
    from mmseg.models import build_segmentor

    results = {}
    for spec in request.get("networks", []):
        cfg = Config.fromfile(str(package / CONFIG))
        cfg.model.backbone.stdc_type = spec["stdc_type"]
        cfg.model.decode_head.dilations = tuple(spec["dilations"])
        if spec["forward"] == "full":
            # the commented-out config of the full head (lines 28-30 of CONFIG): classifier on 128
            # channels, all three stages as inputs
            cfg.model.decode_head.update(channels=128, in_channels=(256, 512, 1024), in_index=(0, 1, 2))
        torch.manual_seed(request["seed"])
        model = build_segmentor(cfg.model)
        model.init_weights()
        init_state = {k: v.clone() for k, v in model.state_dict().items()}

        generator = torch.Generator().manual_seed(request["seed"] + 1)
        randomise(model, generator)
        model.eval()
        images = torch.randn(request["batch"], 3, *request["size"], generator=generator)
        labels = torch.randint(0, cfg.model.decode_head.num_classes, (request["batch"], 1, *request["size"]), generator=generator)
        labels[:, :, : request["size"][0] // 4] = 255
        with torch.no_grad():
            features = model.backbone(images)
            decode = full_decode(model.decode_head, features) if spec["forward"] == "full" else model.decode_head(features)
            aux = model.auxiliary_head(features)
            losses = model.decode_head.losses(decode, labels)
            losses.update({f"aux.{k}": v for k, v in model.auxiliary_head.losses(aux, labels).items()})
        loss = sum(v for k, v in losses.items() if "loss" in k)
        state = {k: v.clone() for k, v in model.state_dict().items()}
        results[spec["name"]] = {
            "init_state": init_state,
            "state": state,
            "images": images,
            "labels": labels[:, 0],
            "decode_logits": decode,
            "aux_logits": aux,
            "loss": float(loss),
            "loss_parts": {k: float(v) for k, v in losses.items() if "loss" in k},
        }
    if request.get("augment_file"):
        results["augment"] = augment(package, torch.load(request["augment_file"], weights_only=True))
    return results


if __name__ == "__main__":
    package_dir, request_path, out_path = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    torch.save(run(package_dir, json.loads(request_path.read_text())), out_path)
