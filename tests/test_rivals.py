"""The Tables 2-3 rivals: buildable by name, counted against their authors' numbers
(crosscbam/rivals.yaml) and module by module against reference implementations
(tests/fixtures/rivals_reference_params.json), exportable to ONNX."""

import json
import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np

import pytest
import torch

from crosscbam.complexity import count_params, measure
from crosscbam.export import export_onnx
from crosscbam.models import RIVALS, build_model, get_variant, list_variants
from crosscbam.models.pp_liteseg import adaptive_average
from crosscbam.variants import published_counts

sys.path.insert(0, str(Path(__file__).parent))
from reference_forward import AUTHORS_ENV, FRAMEWORKS, PARAMETER_GROUPS, REFERENCE_BN_EPS, ordered  # noqa: E402

REFERENCE = json.loads((Path(__file__).parent / "fixtures" / "rivals_reference_params.json").read_text())
PARAMS_TOLERANCE, FLOPS_TOLERANCE = 0.01, 0.02

# Our module path (in build_model's model, 19 classes) -> reference module keys whose counts add up to it.
# Training-only heads of the references (seg_heads.1-2, aux_head, booster heads) have no counterpart.
MODULE_MAP = {
    ("PP-LiteSeg-T", "paddle"): {
        "backbone": ["backbone"],
        "decode_head.sppm": ["ppseg_head.cm"],
        "decode_head.fusions.0": ["ppseg_head.arm_list.0"],
        "decode_head.fusions.1": ["ppseg_head.arm_list.1"],
        "decode_head.fusions.2": ["ppseg_head.arm_list.2"],
        "decode_head": ["ppseg_head", "seg_heads.0"],
    },
    ("PP-LiteSeg-B", "paddle"): {
        "backbone": ["backbone"],
        "decode_head.sppm": ["ppseg_head.cm"],
        "decode_head.fusions.0": ["ppseg_head.arm_list.0"],
        "decode_head.fusions.1": ["ppseg_head.arm_list.1"],
        "decode_head.fusions.2": ["ppseg_head.arm_list.2"],
        "decode_head": ["ppseg_head", "seg_heads.0"],
    },
    ("PP-LiteSeg-T-fork", "mmseg"): {
        "backbone": ["backbone"],
        "decode_head.reduce.0": ["decode_head.conv3"],
        "decode_head.reduce.1": ["decode_head.conv2"],
        "decode_head.reduce.2": ["decode_head.conv1"],
        "decode_head.context": ["decode_head.sppm.psp_modules", "decode_head.sppm.bottleneck"],
        "decode_head.project16": ["decode_head.conv4"],
        "decode_head.fuse16": ["decode_head.UAFM_last"],
        "decode_head.fuse8": ["decode_head.UAFM_penultimate"],
        "decode_head.classifier": ["decode_head.conv_seg"],
    },
    ("DDRNet-23-slim", "paddle"): {
        "backbone.stem": ["conv1"],
        **{f"backbone.{name}": [name] for name in (
            "layer1", "layer2", "layer3", "layer4", "layer5", "layer3_", "layer4_", "layer5_",
            "compression3", "compression4", "down3", "down4", "spp")},
        "decode_head": ["head"],
    },
    ("BiSeNetV2", "mmseg"): {
        "backbone.detail": ["backbone.detail"],
        "backbone.semantic": ["backbone.semantic"],
        "backbone.aggregation": ["backbone.bga"],
        "decode_head": ["decode_head.convs", "decode_head.conv_seg"],
    },
    ("BiSeNetV1", "mmseg"): {
        "backbone.spatial": ["backbone.spatial_path"],
        "backbone.context.resnet": ["backbone.context_path.backbone"],
        "backbone.context.global_context": ["backbone.context_path.gap_conv"],
        "backbone.context.arm32": ["backbone.context_path.arm32"],
        "backbone.context.arm16": ["backbone.context_path.arm16"],
        "backbone.context.refine32": ["backbone.context_path.conv_head32"],
        "backbone.context.refine16": ["backbone.context_path.conv_head16"],
        "backbone.ffm": ["backbone.ffm"],
        "decode_head": ["decode_head.convs", "decode_head.conv_seg"],
    },
    ("SegFormer-B0", "paddle"): {
        "backbone": ["backbone"],
        "decode_head.linears": ["linear_c1", "linear_c2", "linear_c3", "linear_c4"],
        "decode_head.fuse": ["linear_fuse"],
        "decode_head.classifier": ["linear_pred"],
    },
}


def test_every_rival_is_listed_and_known_by_name():
    names = list_variants()
    assert set(RIVALS) <= set(names) and names.index("M1") < names.index("PP-LiteSeg-T")
    assert get_variant("ddrnet-23-SLIM") is RIVALS["DDRNet-23-slim"]
    assert set(published_counts()) == set(RIVALS)


@pytest.mark.parametrize("name", list(RIVALS))
def test_eval_logits_are_the_upsampled_decode_output(name):
    # Training mode (main, None) and backward are covered for every model by tests/test_models.py.
    torch.manual_seed(0)
    model = build_model(name, num_classes=5).eval()
    x = torch.randn(1, 3, 90, 120)  # not a multiple of 32, like CamVid's 720
    with torch.no_grad():
        head, full = model.decode(x), model(x)
    assert full.shape == (1, 5, 90, 120) and head.shape[2] < 90
    assert torch.allclose(full, torch.nn.functional.interpolate(head, size=(90, 120), mode="bilinear", align_corners=False))


@pytest.mark.parametrize("name, framework", list(MODULE_MAP))
def test_parameters_match_the_reference_module_by_module(name, framework):
    reference = REFERENCE[framework]["networks"][name]
    model = build_model(name, num_classes=19)
    ours = {path: count_params(model.get_submodule(path)) for path in MODULE_MAP[name, framework]}
    theirs = {path: sum(reference[key] for key in keys) for path, keys in MODULE_MAP[name, framework].items()}
    assert ours == theirs


@pytest.mark.parametrize("height, width", [(23, 30), (16, 32), (5, 3)])
def test_sppm_pooling_is_adaptive_average_pooling(height, width):
    x = torch.randn(2, 3, height, width)
    for bins in (1, 2, 4):
        torch.testing.assert_close(adaptive_average(x, bins), torch.nn.functional.adaptive_avg_pool2d(x, bins))


def test_pp_liteseg_differs_from_paddleseg_only_by_the_training_heads():
    for name in ("PP-LiteSeg-T", "PP-LiteSeg-B"):
        reference = REFERENCE["paddle"]["networks"][name]
        training_only = reference["seg_heads"] - reference["seg_heads.0"]
        assert count_params(build_model(name)) == reference["__total__"] - training_only


def test_authors_pp_liteseg_port_differs_from_theirs_only_by_its_unused_classifier():
    reference = REFERENCE["mmseg"]["networks"]["PP-LiteSeg-T-fork"]
    assert count_params(build_model("PP-LiteSeg-T-fork")) == reference["__total__"] - reference["decode_head.sppm.conv_seg"]


@lru_cache(maxsize=None)
def _published(name):
    row = published_counts()[name]
    return row, measure(name, tuple(row["size"]), row["classes"])


def test_segformer_b0_cityscapes_params_agree_with_the_papers_3_7_m():
    assert abs(count_params(build_model("SegFormer-B0", num_classes=19)) - 3.7e6) <= 0.05e6


@pytest.mark.parametrize("name", ["DDRNet-23-slim", "SegFormer-B0"])
def test_params_agree_with_the_published_count(name):
    row, counted = _published(name)
    # Published counts are rounded to 0.1 M: allow that rounding where it exceeds the tolerance.
    allowed = max(PARAMS_TOLERANCE * row["params"], 0.05e6)
    assert abs(counted.params - row["params"]) <= allowed
    assert counted.params_aux == 0


@pytest.mark.parametrize("name", ["DDRNet-23-slim", "SegFormer-B0"])
def test_flops_agree_with_the_published_count(name):
    row, counted = _published(name)
    assert abs(counted.flops / (row["gflops"] * 1e9) - 1) <= FLOPS_TOLERANCE


def test_bisenetv2_flops_difference_is_the_documented_one():
    row, counted = _published("BiSeNetV2")
    assert "known_difference" in row
    assert counted.flops / (row["gflops"] * 1e9) == pytest.approx(1.17, abs=0.01)


def test_bisenetv1_difference_against_the_quoted_counts_is_documented():
    row, counted = _published("BiSeNetV1")
    assert "known_difference" in row and not row["verified"]
    assert counted.flops / (row["gflops"] * 1e9) == pytest.approx(1.224, abs=0.01)
    assert counted.params == pytest.approx(13.27e6, rel=1e-3)


def test_every_published_row_states_its_protocol_and_source():
    for name, row in published_counts().items():
        recipe = row["published_recipe"]
        assert recipe["text"] and recipe["source"] and isinstance(recipe["verified"], bool), name
        assert row["source"] and row["reference"], name
        assert isinstance(row["verified"], bool) and (row["verified"] or row["why_unverified"]), name
        assert len(row["size"]) == 2 and row["classes"] > 0, name
        assert (row["gflops"] is None) == (row["flop_unit"] is None), name


@pytest.mark.parametrize("name", list(RIVALS))
def test_rival_exports_to_onnx_and_matches_pytorch(name, tmp_path):
    # 96 x 160: the 1/32 map (3 x 5) is no multiple of PP-LiteSeg's 2x2 and 4x4 pooling bins, the
    # case ONNX has no adaptive pooling for (CamVid's 720 x 960 is another).
    result = export_onnx(name, (96, 160), tmp_path / f"{name}.onnx")
    assert result.max_abs_diff <= result.tolerance and result.input == (1, 3, 96, 160)


# Interpreters that can build the reference implementations: the authors' fork as
# tools/authors_code/setup.sh installs it (make authors-check), PaddleSeg where CROSSCBAM_PADDLE_PYTHON names one.
REFERENCE_PYTHON = {
    "mmseg": AUTHORS_ENV / "venv/bin/python" if (AUTHORS_ENV / "package/mmseg").is_dir() else None,
    "paddle": Path(os.environ["CROSSCBAM_PADDLE_PYTHON"]) if os.environ.get("CROSSCBAM_PADDLE_PYTHON") else None,
}


@pytest.mark.parametrize("name", list(FRAMEWORKS))
def test_outputs_match_the_reference_implementation_on_shared_weights(name, tmp_path):
    framework = FRAMEWORKS[name]
    python = REFERENCE_PYTHON[framework]
    if python is None or not python.exists():
        pytest.skip(f"no {framework} reference interpreter here")
    torch.manual_seed(0)
    model = build_model(name, num_classes=19).eval()
    with torch.no_grad():
        for parameter in model.parameters():  # random but well-scaled, so that every layer matters
            if parameter.ndim > 1:
                parameter.normal_(0, parameter[0].numel() ** -0.5)
            else:
                parameter.uniform_(0.5, 1.5)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.eps = REFERENCE_BN_EPS.get(name, 1e-5)  # the reference's (ours is the Cross-CBAM authors' 1e-3)
    image = torch.randn(1, 3, 128, 256)
    with torch.no_grad():
        ours = (model.decode(image) if framework == "mmseg" else model(image)).numpy()
    parameters = ordered(list(model.named_parameters()), PARAMETER_GROUPS[name], 0)
    assert len(parameters) == len(list(model.parameters()))  # every parameter is mapped
    np.savez(tmp_path / "in.npz", image=image.numpy(), **{f"p{i}": p.detach().numpy() for i, p in enumerate(parameters)})
    script = Path(__file__).parent / "reference_forward.py"
    run = subprocess.run([str(python), str(script), framework, name, str(tmp_path / "in.npz"), str(tmp_path / "out.npz")],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    theirs = np.load(tmp_path / "out.npz")["logits"]
    assert theirs.shape == ours.shape
    difference, scale = float(np.abs(ours - theirs).max()), float(np.abs(ours).max())
    assert difference <= 1e-4 * scale + 1e-5, f"max |ours - theirs| = {difference:.3g}, max |ours| = {scale:.3g}"


def test_every_rival_has_a_builder_and_its_own_weights():
    from crosscbam.models.rivals import RIVAL_PARTS
    from crosscbam.variants import speed_reference, weights_of

    assert list(RIVAL_PARTS) == list(RIVALS)
    assert [weights_of(name) for name in RIVALS] == list(RIVALS)
    assert all(speed_reference(name) is None for name in RIVALS)
