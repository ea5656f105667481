import pytest

from crosscbam.complexity import check_size, measure


def test_m1_matches_the_paper_protocol():
    result = measure("M1")
    # docs/design.md#counting-protocol: 12,213,541 = 11,621,010 (with the unused SE-ASPP classifier) + 592,531 aux.
    assert result.params == 12_213_541
    assert result.params_aux == 592_531
    assert result.params_inference + result.params_unused_authors == 11_621_010
    assert result.input == (1, 3, 512, 1024)
    assert abs(result.flops / 11.31e9 - 1) < 0.005


def test_flops_scale_with_the_input_and_params_do_not():
    small, large = measure("M1-c128", (256, 512)), measure("M1-c128", (512, 1024))
    assert small.params == large.params
    assert abs(large.flops / small.flops - 4) < 0.01


def test_ablation_without_se_aspp_has_no_unused_classifier():
    assert measure("M1-ccbam", (64, 64)).params_unused_authors == 0


def test_counting_is_silent(capfd):
    measure("M1", (64, 128))
    out, err = capfd.readouterr()
    assert out == "" and err == ""


@pytest.mark.parametrize("size", [(0, 64), (64,), (16, 1024), (64.5, 64)])
def test_bad_sizes_say_what_is_expected(size):
    with pytest.raises(ValueError, match="two integers H W, each at least 32"):
        check_size(size)
