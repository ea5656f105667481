import re
import sys
from pathlib import Path

import pytest
import torch

import crosscbam
from crosscbam.models import build_model, get_variant, list_variants
from crosscbam.variants import VARIANTS, Variant

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_variants() -> set[str]:
    """The names of the README's variant table (`-seaspp` after `camvid-M-baseline` is `camvid-M-seaspp`)."""
    section = README.read_text(encoding="utf-8").split("### Variants", 1)[1]
    table = re.search(r"^\|.*?(?=\n[^|])", section, flags=re.MULTILINE | re.DOTALL).group()
    names = set()
    for cell in re.findall(r"^\| (`.*?) \|", table, flags=re.MULTILINE):
        first, *others = re.findall(r"`([^`]+)`", cell)
        names |= {first} | {first.rsplit("-", 1)[0] + name if name.startswith("-") else name for name in others}
    return names


def test_the_readme_lists_every_variant():
    assert readme_variants() == set(VARIANTS), "README.md, Variants: the table lists crosscbam/variants.py's VARIANTS"


def test_the_authors_check_takes_every_dilation_variant_from_variants(monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("authors_check", README.parent / "tools" / "authors_code" / "check.py")
    check = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, check)  # its dataclasses look their module up there
    spec.loader.exec_module(check)
    monkeypatch.setitem(VARIANTS, "M1-d4-8", Variant(dilations=(4, 8)))
    networks = check.config_networks()
    assert [n.ours for n in networks] == ["M1", "L1", "M1-d2-4", "M1-d3-5", "M1-d1-3-5", "M1-d2-4-6", "M1-d4-8"]
    assert networks[-1].dilations == (4, 8) and networks[1].stdc_type == "STDCNet2"


@pytest.mark.parametrize("name", list_variants())
def test_forward_backward_at_64x128(name):
    torch.manual_seed(0)
    model = build_model(name, num_classes=4).train()
    main, aux = model(torch.randn(2, 3, 64, 128))
    assert main.shape == (2, 4, 64, 128) and torch.isfinite(main).all()
    assert (aux is None) == (not get_variant(name).aux_head)
    loss = main.square().mean() + (aux.square().mean() if aux is not None else 0)
    loss.backward()
    no_grad = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not no_grad


@pytest.mark.parametrize("name", ["M1", "L1", "camvid-M"])
def test_eval_returns_logits_at_input_resolution(name):
    model = build_model(name).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 96, 160))
    assert out.shape == (1, get_variant(name).num_classes, 96, 160)


def test_eval_logits_are_the_bilinear_upsampled_head_output():
    model = build_model("M1").eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        head = model.decode(x)
        full = model(x)
    assert head.shape[2:] == (8, 8)
    expected = torch.nn.functional.interpolate(head, size=(64, 64), mode="bilinear", align_corners=False)
    assert torch.allclose(full, expected)


def test_names_are_case_insensitive_and_variants_share_weight_shapes():
    assert get_variant("m1") is get_variant("M1")
    shapes = lambda m: {k: v.shape for k, v in m.state_dict().items()}  # noqa: E731
    assert shapes(build_model("m2")) == shapes(build_model("M1"))  # suffix 1/2 is only the resolution


def test_camvid_variants_default_to_11_classes():
    assert build_model("camvid-L").decode_head.classifier[1].out_channels == 11
    assert crosscbam.build_model("M1", num_classes=7).aux_head.classifier[1].out_channels == 7


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown model 'M3'.*M1, L1, M2, L2"):
        build_model("M3")


@pytest.mark.parametrize("shape", [(1, 1, 64, 64), (3, 64, 64), (1, 3, 16, 64)])
def test_bad_input_shapes_give_a_clear_error(shape):
    with pytest.raises(ValueError, match="expected an image batch|at least 32"):
        build_model("M1").eval()(torch.zeros(shape))


def test_odd_input_sizes_work():
    # CamVid's 720 is not a multiple of 32; the decoder resizes to each skip's exact size.
    with torch.no_grad():
        out = build_model("M1").eval()(torch.zeros(1, 3, 90, 120))
    assert out.shape[2:] == (90, 120)
