"""Run a rival's reference implementation on weights and an image from our port (test helper).

    REFERENCE_PYTHON reference_forward.py FRAMEWORK NETWORK IN.npz OUT.npz

``IN.npz`` holds ``image`` and our parameters in ``PARAMETER_GROUPS`` order (``p0``, ``p1``, ...);
the script builds the reference network (PaddleSeg 2.8 for ``paddle``, the authors' MMSegmentation
fork for ``mmseg``), copies the parameters in by position within each group (shapes must agree),
and writes its eval-mode logits to ``OUT.npz`` (``logits``: before the final resize for ``mmseg``,
after it for ``paddle``, matching what the test compares).

Only the standard library is imported at module level: the test imports ``PARAMETER_GROUPS``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Per network: (our module prefixes, reference module prefixes) pairs; within a pair, parameters
# are taken prefix by prefix in registration order. Training-only reference heads are not listed.
_UAFM = [
    ([f"decode_head.fusions.{i}.conv_x.", f"decode_head.fusions.{i}.conv_out.", f"decode_head.fusions.{i}.attention."],
     [f"ppseg_head.arm_list.{i}.conv_x.", f"ppseg_head.arm_list.{i}.conv_out.", f"ppseg_head.arm_list.{i}.conv_xy_atten."])
    for i in range(3)
]
_PP_LITESEG = [
    (["backbone."], ["backbone."]),
    (["decode_head.sppm."], ["ppseg_head.cm."]),
    *_UAFM,
    (["decode_head.conv.", "decode_head.classifier."], ["seg_heads.0."]),
]
_DDRNET_MODULES = ("layer1", "layer2", "layer3", "layer4", "layer5", "layer3_", "layer4_", "layer5_",
                   "compression3", "compression4", "down3", "down4")
PARAMETER_GROUPS: dict[str, list[tuple[list[str], list[str]]]] = {
    "PP-LiteSeg-T": _PP_LITESEG,
    "PP-LiteSeg-B": _PP_LITESEG,
    "DDRNet-23-slim": [
        (["backbone.stem."], ["conv1."]),
        *[([f"backbone.{name}."], [f"{name}."]) for name in _DDRNET_MODULES],
        (["backbone.spp.scales.1.", "backbone.spp.scales.2.", "backbone.spp.scales.3.", "backbone.spp.scales.4.",
          "backbone.spp.scales.0.", "backbone.spp.processes.", "backbone.spp.compression.", "backbone.spp.shortcut."],
         ["spp.scale1.", "spp.scale2.", "spp.scale3.", "spp.scale4.", "spp.scale0.", "spp.process", "spp.compression.",
          "spp.shortcut."]),
        (["decode_head."], ["head."]),
    ],
    "SegFormer-B0": [
        *[group for i in range(4) for group in (
            ([f"backbone.stages.{i}.embed.", f"backbone.stages.{i}.embed_norm."], [f"backbone.patch_embed{i + 1}."]),
            ([f"backbone.stages.{i}.blocks."], [f"backbone.block{i + 1}."]),
            ([f"backbone.stages.{i}.norm."], [f"backbone.norm{i + 1}."]),
        )],
        *[([f"decode_head.linears.{i}."], [f"linear_c{i + 1}."]) for i in range(4)],
        (["decode_head.fuse.", "decode_head.classifier."], ["linear_fuse.", "linear_pred."]),
    ],
    "PP-LiteSeg-T-fork": [
        (["backbone."], ["backbone."]),
        (["decode_head.reduce.2.", "decode_head.reduce.1.", "decode_head.reduce.0.", "decode_head.project16.",
          "decode_head.context.", "decode_head.fuse16.", "decode_head.fuse8.", "decode_head.classifier."],
         ["decode_head.conv1.", "decode_head.conv2.", "decode_head.conv3.", "decode_head.conv4.",
          "decode_head.sppm.psp_modules.", "decode_head.sppm.bottleneck.", "decode_head.UAFM_last.",
          "decode_head.UAFM_penultimate.", "decode_head.conv_seg."]),
    ],
    "BiSeNetV2": [
        (["backbone."], ["backbone."]),
        (["decode_head.conv.", "decode_head.classifier."], ["decode_head.convs.", "decode_head.conv_seg."]),
    ],
    "BiSeNetV1": [
        (["backbone.spatial."], ["backbone.spatial_path."]),
        (["backbone.context.resnet.", "backbone.context.global_context.", "backbone.context.arm32.",
          "backbone.context.arm16.", "backbone.context.refine32.", "backbone.context.refine16."],
         ["backbone.context_path.backbone.", "backbone.context_path.gap_conv.", "backbone.context_path.arm32.",
          "backbone.context_path.arm16.", "backbone.context_path.conv_head32.", "backbone.context_path.conv_head16."]),
        (["backbone.ffm."], ["backbone.ffm."]),
        (["decode_head.conv.", "decode_head.classifier."], ["decode_head.convs.", "decode_head.conv_seg."]),
    ],
}
FRAMEWORKS = {
    "PP-LiteSeg-T": "paddle", "PP-LiteSeg-B": "paddle", "DDRNet-23-slim": "paddle", "SegFormer-B0": "paddle",
    "BiSeNetV2": "mmseg", "BiSeNetV1": "mmseg", "PP-LiteSeg-T-fork": "mmseg",
}
#: BatchNorm epsilon of each reference where it is not the frameworks' default 1e-5.
REFERENCE_BN_EPS = {"PP-LiteSeg-T-fork": 1e-3}
MMSEG_CONFIGS = {
    "PP-LiteSeg-T-fork": "PP-Liteseg/pp-liteseg_cityscapes_160k.py",
    "BiSeNetV1": "bisenetv1/bisenetv1_r18-d32_4x4_1024x1024_160k_cityscapes.py",
    "BiSeNetV2": "bisenetv2/bisenetv2_fcn_4x4_1024x1024_160k_cityscapes.py",
}


def ordered(named: list[tuple[str, object]], groups: list[tuple[list[str], list[str]]], side: int) -> list[object]:
    """Parameters in group order: each group's prefixes in turn, each in registration order."""
    out = []
    for group in groups:
        for prefix in group[side]:
            out += [p for name, p in named if name.startswith(prefix)]
    return out


def _paddle(network: str, arrays: list, image):
    import paddle
    from paddleseg.models import PPLiteSeg, SegFormer
    from paddleseg.models.backbones import STDC1, STDC2, MixVisionTransformer_B0
    from paddleseg.models.ddrnet import DualResNet

    builders = {
        "PP-LiteSeg-T": lambda: PPLiteSeg(19, STDC1(), arm_out_chs=[32, 64, 128], seg_head_inter_chs=[32, 64, 64]),
        "PP-LiteSeg-B": lambda: PPLiteSeg(19, STDC2()),
        "DDRNet-23-slim": lambda: DualResNet(19, planes=32, spp_planes=128, head_planes=64),
        "SegFormer-B0": lambda: SegFormer(19, MixVisionTransformer_B0(), embedding_dim=256),
    }
    model = builders[network]()
    for layer in model.sublayers():
        if isinstance(layer, paddle.nn.AvgPool2D):
            # Paddle averages over the unpadded window (exclusive=True), PyTorch's default over the
            # padded one; the ports keep PyTorch's, so compare with that semantic.
            layer.exclusive = False
    if network == "DDRNet-23-slim":
        # PaddleSeg's down3 pads "same" (asymmetric at stride 2); the authors' DDRNet_23_slim.py,
        # and our port, pad 1 on every side.
        model.down3._conv._updated_padding, model.down3._conv._padding_algorithm = [1, 1], "EXPLICIT"
    named = [(n, p) for n, p in model.named_parameters() if not p.stop_gradient]
    for parameter, array in zip(ordered(named, PARAMETER_GROUPS[network], 1), arrays, strict=True):
        if isinstance(_owner(model, parameter), paddle.nn.Linear) and array.ndim == 2:
            array = array.T  # Paddle stores a Linear weight as (in, out)
        assert tuple(parameter.shape) == array.shape, (parameter.shape, array.shape)
        parameter.set_value(array)
    model.eval()
    with paddle.no_grad():
        return model(paddle.to_tensor(image))[0].numpy()


def _owner(model, parameter):
    """The sublayer that holds ``parameter`` directly."""
    for layer in model.sublayers(include_self=True):
        if any(p is parameter for p in layer.parameters(include_sublayers=False)):
            return layer
    return None


#: The authors' environment that tools/authors_code/setup.sh makes (package/ = the fork, venv/).
AUTHORS_ENV = Path(os.environ.get("AUTHORS_ENV", Path.home() / ".cache" / "crosscbam-authors"))


def _mmseg(network: str, arrays: list, image):
    sys.path[:0] = [str(AUTHORS_ENV / "package"), str(Path(__file__).resolve().parents[1] / "tools" / "authors_code")]
    from authors_side import install_shims

    install_shims()
    import mmcv
    import torch
    from mmseg.models import build_segmentor

    config = mmcv.Config.fromfile(str(AUTHORS_ENV / "package/mmseg/.mim/configs" / MMSEG_CONFIGS[network]))
    config.model.pretrained = None
    config.model.backbone.pop("init_cfg", None)
    config.model.backbone.get("backbone_cfg", {}).pop("init_cfg", None)
    model = build_segmentor(mmcv.ConfigDict(_sync_to_bn(config.model.to_dict())))
    named = list(model.named_parameters())
    with torch.no_grad():
        for parameter, array in zip(ordered(named, PARAMETER_GROUPS[network], 1), arrays, strict=True):
            parameter.copy_(torch.from_numpy(array))
        model.eval()
        return model.decode_head(model.extract_feat(torch.from_numpy(image))).numpy()


def _sync_to_bn(node):
    """SyncBN needs a process group; on one CPU process plain BN computes the same eval forward."""
    if isinstance(node, dict):
        return {k: ("BN" if k == "type" and v == "SyncBN" else _sync_to_bn(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_sync_to_bn(v) for v in node]
    return node


if __name__ == "__main__":
    import numpy as np

    framework, network, source, target = sys.argv[1:5]
    with np.load(source) as data:
        image = data["image"]
        arrays = [data[f"p{i}"] for i in range(len(data.files) - 1)]
    logits = (_paddle if framework == "paddle" else _mmseg)(network, arrays, image)
    np.savez(target, logits=logits)
