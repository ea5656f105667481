import pytest

from crosscbam.claims import Results, audit, load_claims, pct_faster, t


def by_id(frame):
    return frame.set_index("id")


def test_every_claim_evaluates_against_the_paper():
    frame = by_id(audit(Results([], preset="smoke")))
    assert len(frame) == len(load_claims()) >= 35
    assert set(frame["verdict"]) <= {"consistent", "inconsistent", "not checkable"}


@pytest.mark.parametrize("claim, verdict", [
    ("abstract-m1", "consistent"), ("m1-vs-stdc", "consistent"), ("camvid-vs-lspanet", "consistent"),
    ("ablation-se-aspp", "inconsistent"),  # 68.74 - 52.26 = 16.48, not 4.48
    ("ablation-ccbam", "consistent"), ("m1-val-text", "inconsistent"), ("segformer-speed", "inconsistent"),
    ("l2-vs-lspanet-speed", "inconsistent"), ("l2-highest", "inconsistent"), ("pp-liteseg-speed", "inconsistent"),
    ("se-aspp-batchnorm", "inconsistent"), ("se-sigmoid", "inconsistent"), ("ca-reduction", "consistent"),
    ("cityscapes-split", "consistent"), ("channels-fewer-better", "inconsistent"),
])
def test_known_verdicts(claim, verdict):
    assert by_id(audit(Results([], preset="smoke"))).loc[claim, "verdict"] == verdict


def test_arithmetic_helpers():
    assert t("table3", "LSPANet", "fps") == 73.5
    assert pct_faster(88.6, 60.3) == pytest.approx(46.93, abs=0.01)


def test_ours_complexity_is_compared_and_smoke_accuracy_is_never_a_verdict():
    records = [
        {"kind": "complexity", "model": "M1", "params_m": 12.2135, "gflops": 11.329},
        {"kind": "complexity", "model": "M1-d3-5", "params_m": 14.9, "gflops": 12.4},
        {"kind": "evaluation", "dataset": "cityscapes", "model": "M1", "miou_mean": 0.3},
    ]
    frame = by_id(audit(Results(records, preset="smoke")))
    assert frame.loc["dilation-13", "verdict_ours"] == "reproduced"
    assert frame.loc["dilation-13-flops", "verdict_ours"] == "reproduced"
    assert frame.loc["dilation-35-larger", "verdict_ours"] == "not reproduced"
    assert frame.loc["m1-val-text", "verdict_ours"] == "not reproduced here"
    assert "smoke preset" in frame.loc["m1-val-text", "reason_ours"]
    assert frame.loc["l1-val-text", "verdict_ours"] == "not reproduced here"
    assert frame.loc["cityscapes-split", "verdict_ours"] == "not checkable"


def test_fps_claims_use_the_same_run_ratio():
    record = {"model": "M1", "input": [1, 3, 512, 1024], "backend": "tensorrt", "timing": {}, "fps": 200.0,
              "reference": {"model": "STDC1-Seg", "fps": 208.0}, "fps_ratio": 200.0 / 208.0}
    frame = by_id(audit(Results([record], preset="full")))
    assert frame.loc["abstract-m1-fps", "ours"] == pytest.approx(250.4 * 200 / 208, abs=0.01)
    assert frame.loc["abstract-m1-fps", "verdict_ours"] == "reproduced"  # 240.8 vs 240.9, within 10 %


def test_full_preset_accuracy_gets_a_verdict():
    records = [{"kind": "evaluation", "dataset": "cityscapes", "model": "M1", "miou_mean": 0.7418}]
    frame = by_id(audit(Results(records, preset="full")))
    assert frame.loc["m1-val-text", "ours"] == pytest.approx(74.18)
    assert frame.loc["m1-val-text", "verdict_ours"] == "reproduced"
