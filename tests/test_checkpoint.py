"""Checkpoint loading against a fabricated MMSeg state dict written from docs/design.md#checkpoint-layout (not from our
module names), and a functional re-implementation of the authors' forward pass on its raw keys."""

import pytest
import torch
import torch.nn.functional as F

from crosscbam import CheckpointError, build_model, load_mmseg_checkpoint

EPS = 1e-3  # BatchNorm eps of the authors' configuration


def _conv_module(sd, prefix, cout, cin, k, groups=1, bn=True):
    sd[f"{prefix}.conv.weight"] = torch.randn(cout, cin // groups, k, k) * (2 / (cin // groups * k * k)) ** 0.5
    if bn:
        sd[f"{prefix}.bn.weight"] = torch.rand(cout) + 0.5
        sd[f"{prefix}.bn.bias"] = torch.randn(cout) * 0.1
        sd[f"{prefix}.bn.running_mean"] = torch.randn(cout) * 0.1
        sd[f"{prefix}.bn.running_var"] = torch.rand(cout) + 0.5
        sd[f"{prefix}.bn.num_batches_tracked"] = torch.tensor(7)
    else:
        sd[f"{prefix}.conv.bias"] = torch.randn(cout) * 0.1


def mmseg_stdc1(prefix="backbone."):
    sd = {}
    _conv_module(sd, f"{prefix}stages.0", 32, 3, 3)
    _conv_module(sd, f"{prefix}stages.1", 64, 32, 3)
    cin = 64
    for stage, n in zip((2, 3, 4), (256, 512, 1024)):
        for j in range(2):
            p = f"{prefix}stages.{stage}.{j}"
            _conv_module(sd, f"{p}.layers.0", n // 2, cin, 1)
            _conv_module(sd, f"{p}.layers.1", n // 4, n // 2, 3)
            _conv_module(sd, f"{p}.layers.2", n // 8, n // 4, 3)
            _conv_module(sd, f"{p}.layers.3", n // 8, n // 8, 3)
            if j == 0:
                _conv_module(sd, f"{p}.downsample", n // 2, n // 2, 3, groups=n // 2)
            cin = n
    return sd


def mmseg_m1(classes=19):
    sd = mmseg_stdc1()
    h = "decode_head.lite_aspp"
    _conv_module(sd, f"{h}.aspp_modules.0", 256, 1024, 1, bn=False)
    _conv_module(sd, f"{h}.aspp_modules.1", 256, 1024, 3, bn=False)
    _conv_module(sd, f"{h}.image_pool.1", 256, 1024, 1, bn=False)
    _conv_module(sd, f"{h}.image_pool.2", 1024, 256, 1, bn=False)
    _conv_module(sd, f"{h}.bottleneck", 256, 1280, 3, bn=False)
    sd[f"{h}.conv_seg.weight"], sd[f"{h}.conv_seg.bias"] = torch.randn(classes, 256, 1, 1), torch.randn(classes)
    for fusion in ("last_crosse_cabm", "penultimate_crosse_cbam"):
        for side in ("low", "high"):
            _conv_module(sd, f"decode_head.{fusion}.{side}_channel_attention.mlp1", 16, 256, 1, bn=False)
            _conv_module(sd, f"decode_head.{fusion}.{side}_channel_attention.mlp2", 256, 16, 1, bn=False)
            _conv_module(sd, f"decode_head.{fusion}.{side}_spatial_attention.mlp", 1, 2, 1, bn=False)
    _conv_module(sd, "decode_head.penultimate_conv", 256, 512, 1)
    _conv_module(sd, "decode_head.bottom_three_conv", 128, 256, 1)
    sd["decode_head.conv_seg.weight"], sd["decode_head.conv_seg.bias"] = torch.randn(classes, 128, 1, 1) * 0.1, torch.randn(classes)
    _conv_module(sd, "auxiliary_head.convs.0", 128, 512, 3)
    sd["auxiliary_head.conv_seg.weight"], sd["auxiliary_head.conv_seg.bias"] = torch.randn(classes, 128, 1, 1), torch.randn(classes)
    return sd


# --- the authors' forward pass, written from docs/design.md#architecture on the raw MMSeg keys ---
def cm(sd, x, p, stride=1, dilation=1, groups=1, act=True):
    w = sd[f"{p}.conv.weight"]
    x = F.conv2d(x, w, sd.get(f"{p}.conv.bias"), stride, dilation * (w.shape[-1] // 2), dilation, groups)
    if f"{p}.bn.weight" in sd:
        x = F.batch_norm(x, sd[f"{p}.bn.running_mean"], sd[f"{p}.bn.running_var"], sd[f"{p}.bn.weight"], sd[f"{p}.bn.bias"], False, 0.0, EPS)
    return F.relu(x) if act else x


def stdc_module(sd, x, p, stride):
    x0 = cm(sd, x, f"{p}.layers.0")
    y = cm(sd, x0, f"{p}.downsample", stride=2, groups=x0.shape[1], act=False) if stride == 2 else x0
    outs = [F.avg_pool2d(x0, 3, 2, 1) if stride == 2 else x0]
    for k in (1, 2, 3):
        y = cm(sd, y, f"{p}.layers.{k}")
        outs.append(y)
    return torch.cat(outs, 1)


def ccbam(sd, p, low, high):
    def ca(x, q):
        mlp = lambda v: cm(sd, cm(sd, v, f"{q}.mlp1"), f"{q}.mlp2")  # noqa: E731
        return torch.sigmoid(mlp(x.amax((2, 3), keepdim=True)) + mlp(x.mean((2, 3), keepdim=True)))

    def sa(x, q):
        return torch.sigmoid(cm(sd, torch.cat([x.amax(1, keepdim=True), x.mean(1, keepdim=True)], 1), f"{q}.mlp"))

    f_high = low * ca(high, f"{p}.high_channel_attention")
    f_low = high * ca(low, f"{p}.low_channel_attention")
    return f_low * sa(f_high, f"{p}.high_spatial_attention") + f_high * sa(f_low, f"{p}.low_spatial_attention")


def authors_m1(sd, x):
    up = lambda t, ref: F.interpolate(t, size=ref.shape[2:], mode="bilinear", align_corners=False)  # noqa: E731
    x = cm(sd, cm(sd, x, "backbone.stages.0", 2), "backbone.stages.1", 2)
    feats = []
    for stage in (2, 3, 4):
        for j in range(2):
            x = stdc_module(sd, x, f"backbone.stages.{stage}.{j}", 2 if j == 0 else 1)
        feats.append(x)
    s3, s4, s5 = feats
    h = "decode_head.lite_aspp"
    pyramid = cm(sd, s5, f"{h}.aspp_modules.0") + cm(sd, s5, f"{h}.aspp_modules.1", dilation=3)
    se = s5 * cm(sd, cm(sd, s5.mean((2, 3), keepdim=True), f"{h}.image_pool.1"), f"{h}.image_pool.2")
    x = cm(sd, torch.cat([se, pyramid], 1), f"{h}.bottleneck")
    low16 = cm(sd, s4, "decode_head.penultimate_conv")
    x = ccbam(sd, "decode_head.last_crosse_cabm", low16, up(x, low16))
    x = ccbam(sd, "decode_head.penultimate_crosse_cbam", s3, up(x, s3))
    x = cm(sd, x, "decode_head.bottom_three_conv")
    return F.conv2d(x, sd["decode_head.conv_seg.weight"], sd["decode_head.conv_seg.bias"])


@pytest.fixture
def m1_checkpoint(tmp_path):
    torch.manual_seed(0)
    sd = mmseg_m1()
    path = tmp_path / "m1.pth"
    torch.save({"meta": {"mmseg_version": "0.23.0"}, "state_dict": sd}, path)
    return path, sd


def test_fabricated_checkpoint_has_the_documented_232_entries(m1_checkpoint):
    assert len(m1_checkpoint[1]) == 232


def test_loaded_model_computes_the_authors_function(m1_checkpoint):
    path, sd = m1_checkpoint
    model = build_model("M1").eval()
    report = load_mmseg_checkpoint(model, path)
    assert report.kind == "full" and not report.missing and not report.unexpected
    assert report.skipped == ["decode_head.lite_aspp.conv_seg.bias", "decode_head.lite_aspp.conv_seg.weight"]
    assert report.loaded == 230
    x = torch.randn(1, 3, 64, 128)
    with torch.no_grad():
        ours, theirs = model.decode(x), authors_m1(sd, x)
    assert theirs.std() > 1e-3  # a degenerate (all-equal) output would prove nothing
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4 * theirs.abs().max().item())
    assert torch.equal(model.aux_head.conv.conv.weight, sd["auxiliary_head.convs.0.conv.weight"])


@pytest.mark.parametrize("prefix", ["", "backbone.", "backbone.backbone."])
def test_imagenet_backbone_checkpoints_load_under_any_prefix(tmp_path, prefix):
    sd = mmseg_stdc1(prefix)
    path = tmp_path / "stdc1.pth"
    torch.save({"state_dict": sd}, path)
    model = build_model("M1")
    report = load_mmseg_checkpoint(model, path)
    assert report.kind == "backbone" and report.loaded == 174 and not report.missing
    assert torch.equal(model.backbone.stages[4][1].layers[3].bn.running_var, sd[f"{prefix}stages.4.1.layers.3.bn.running_var"])


def test_wrong_shapes_name_the_key_and_the_expected_shape(tmp_path, m1_checkpoint):
    path, _ = m1_checkpoint
    with pytest.raises(CheckpointError, match=r"shape mismatch.*model expects .*another variant"):
        load_mmseg_checkpoint(build_model("M1-c512"), path)
    with pytest.raises(CheckpointError, match=r"missing 144 keys: backbone.stages.2.2"):
        load_mmseg_checkpoint(build_model("L1"), path)  # STDC2 has more blocks than the STDC1 checkpoint
    with pytest.raises(CheckpointError, match=r"decode_head.classifier.1.weight: checkpoint \(19, 128, 1, 1\), model expects \(11, 128, 1, 1\)"):
        load_mmseg_checkpoint(build_model("camvid-M"), path)


def test_missing_and_unexpected_keys_are_named(tmp_path):
    sd = mmseg_m1()
    del sd["decode_head.bottom_three_conv.conv.weight"]
    sd["decode_head.extra.weight"] = torch.zeros(1)
    path = tmp_path / "broken.pth"
    torch.save({"state_dict": sd}, path)
    with pytest.raises(CheckpointError, match=r"missing 1 keys: decode_head.out_proj.conv.weight; unexpected 1 keys: decode_head.extra.weight"):
        load_mmseg_checkpoint(build_model("M1"), path)
    report = load_mmseg_checkpoint(build_model("M1"), path, strict=False)
    assert report.missing == ["decode_head.out_proj.conv.weight"] and report.unexpected == ["decode_head.extra.weight"]


def test_corrupt_or_absent_files_give_one_line_errors(tmp_path):
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint")
    for path in (bad, tmp_path / "absent.pth"):
        with pytest.raises(CheckpointError) as error:
            load_mmseg_checkpoint(build_model("M1"), path)
        assert "\n" not in str(error.value) and str(path) in str(error.value)
