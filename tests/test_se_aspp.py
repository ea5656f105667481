import pytest
import torch

from crosscbam.models.se_aspp import SEASPP


def test_branches_follow_the_dilations():
    module = SEASPP(1024, 256, (1, 3, 5))
    convs = [branch.conv for branch in module.branches]
    assert [c.kernel_size[0] for c in convs] == [1, 3, 3]
    assert [c.dilation[0] for c in convs] == [1, 3, 5] and [c.padding[0] for c in convs] == [0, 3, 5]
    assert all(branch.bn is None and branch.conv.bias is not None for branch in module.branches)


def test_parameter_count_of_the_paper_module():
    # 1x1 (262,400) + 3x3 d3 (2,359,552) + SE (262,400 + 263,168) + 3x3 1280->256 (2,949,376)
    assert sum(p.numel() for p in SEASPP(1024, 256, (1, 3)).parameters()) == 6_096_896


def test_output_keeps_resolution_and_has_c_channels():
    out = SEASPP(64, 32, (1, 3))(torch.randn(2, 64, 5, 7))
    assert out.shape == (2, 32, 5, 7)


def test_excitation_scales_the_input_per_channel():
    module = SEASPP(4, 4, (1,))
    with torch.no_grad():
        for conv in (module.squeeze.conv, module.excite.conv):
            conv.weight.zero_()
            conv.bias.zero_()
        module.excite.conv.bias.fill_(2.0)  # excitation = relu(2) = 2 for every channel
    x = torch.randn(1, 4, 3, 3)
    captured = {}
    module.project.register_forward_hook(lambda m, inputs, out: captured.setdefault("x", inputs[0]))
    module(x)
    assert torch.allclose(captured["x"][:, :4], 2 * x)


def test_bad_dilations_are_refused():
    with pytest.raises(ValueError, match="dilations"):
        SEASPP(64, 32, (0, 3))
