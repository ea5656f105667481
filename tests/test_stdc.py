import pytest
import torch

from crosscbam.models.stdc import STDCModule, stdc_net


@pytest.mark.parametrize("name, params", [("stdc1", 5_318_304), ("stdc2", 9_348_768)])
def test_backbone_parameter_count_matches_the_mmseg_layout(name, params):
    # docs/design.md#backbone gives the exact counts of the MMSeg layout (fusion 'cat', no final conv).
    assert sum(p.numel() for p in stdc_net(name).parameters()) == params


@pytest.mark.parametrize("name, modules", [("stdc1", (2, 2, 2)), ("stdc2", (4, 5, 3))])
def test_backbone_features_are_stages_3_to_5(name, modules):
    net = stdc_net(name).eval()
    s3, s4, s5 = net(torch.randn(1, 3, 64, 128))
    assert s3.shape == (1, 256, 8, 16) and s4.shape == (1, 512, 4, 8) and s5.shape == (1, 1024, 2, 4)
    assert tuple(len(stage) for stage in net.stages[2:]) == modules


def test_stdc_module_blocks_follow_fig2():
    module = STDCModule(64, 256, stride=2)
    widths = [layer.conv.out_channels for layer in module.layers]
    kernels = [layer.conv.kernel_size[0] for layer in module.layers]
    assert widths == [128, 64, 32, 32] and kernels == [1, 3, 3, 3]
    assert module.downsample.conv.groups == 128 and module.downsample.act is None
    out = module(torch.randn(2, 64, 16, 16))
    assert out.shape == (2, 256, 8, 8)


def test_stride_one_module_concatenates_the_first_block_unchanged():
    module = STDCModule(256, 256, stride=1).eval()
    x = torch.randn(1, 256, 8, 8)
    out = module(x)
    assert torch.equal(out[:, :128], module.layers[0](x))


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="stride"):
        STDCModule(64, 256, stride=3)
    with pytest.raises(ValueError, match="stdc1"):
        stdc_net("stdc3")
