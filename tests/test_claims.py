import inspect
import os
import re
from pathlib import Path

import pytest

from crosscbam import authors_code, claim_checks, claims
from crosscbam.authors_code import facts
from crosscbam.claim_arithmetic import code, pct_more, pct_of_first, t
from crosscbam.claims import (VERDICTS, audit, claim_words, judge, load_claims, paper_check_names, resolve_checks, section_counts,
                              tolerance)
from crosscbam.cli import main
from crosscbam.errors import InputError
from crosscbam.reports import claim_checks_ours
from crosscbam.reports.claims import Results, audit_ours, finding_sentence, ours_check_names
from crosscbam.reports.tables import table_notes
from reference_forward import AUTHORS_ENV  # the one place tests locate the authors' environment

# The fork as tools/authors_code/setup.sh unpacks it (make authors-check).
PEER_SOURCE = AUTHORS_ENV / "package"
# The paper's text as converted to Markdown: outside the repository (../shared/paper from its root, or
# $CROSSCBAM_PAPER), like the shared data; the quote test skips where it is absent.
REPO = Path(__file__).resolve().parents[1]
PAPER = Path(os.environ.get("CROSSCBAM_PAPER") or REPO.parent / "shared" / "paper" / "cross-cbam.md")


def by_id(frame):
    return frame.set_index("id")


@pytest.fixture(scope="module")
def paper_side():
    return by_id(audit())


# --- each verdict kind on a hand-made claim ------------------------------------------------------

def claim(**fields):
    return {"id": "x", "section": "4.3", "quote": "q", **fields}


def test_consistent_when_the_single_reading_agrees_within_the_printed_decimals():
    row = judge(claim(stated=2.6), [("", lambda: t("table3", "Cross-CBAM-L", "miou") - t("table3", "LSPANet", "miou"))])
    assert row["verdict"] == "consistent"
    assert row["readings"] == "75.6 (T3 Cross-CBAM-L mIoU) - 73 (T3 LSPANet mIoU) = 2.6 -> agrees"


def test_inconsistent_when_no_reading_agrees():
    row = judge(claim(stated="74.18"), [("", lambda: t("table2", "Cross-CBAM-M1", "miou_val"))])
    assert row["verdict"] == "inconsistent" and row["tolerance"] == "0.005"


def test_ambiguous_names_the_reading_that_makes_it_true():
    row = judge(claim(stated=31.9), [
        ("relative to LSPANet", lambda: pct_more(t("table2", "Cross-CBAM-L2", "fps"), t("table2", "LSPANet", "fps"))),
        ("relative to L2", lambda: pct_of_first(t("table2", "Cross-CBAM-L2", "fps"), t("table2", "LSPANet", "fps"))),
    ])
    assert row["verdict"] == "ambiguous"
    assert row["reason"].startswith("true if read relative to L2; false if read relative to LSPANet")
    assert "= 46.932 -> disagrees" in row["readings"] and "= 31.9413 -> agrees" in row["readings"]


def test_not_checkable_with_the_reason():
    assert judge(claim(stated=4, not_checkable="about another paper"), [])["reason"] == "about another paper"
    row = judge(claim(stated=0.01), [("", lambda: code("recipe.no_such_key"))])
    assert row["verdict"] == "not checkable" and "recipe.no_such_key" in row["reason"]
    missing_cell = judge(claim(stated=1.0), [("", lambda: t("table2", "SegFormer", "miou_val"))])
    assert missing_cell["verdict"] == "not checkable" and "'-'" in missing_cell["reason"]


def test_tolerance_follows_the_printed_decimals():
    assert tolerance(2) == 0.5 and tolerance("75.30") == pytest.approx(0.005) and tolerance(240.9) == pytest.approx(0.05)
    m1_over_stdc1 = [("", lambda: t("table2", "Cross-CBAM-M1", "miou_test") - t("table2", "STDC1-Seg50", "miou_test"))]
    assert judge(claim(stated=2), m1_over_stdc1)["verdict"] == "consistent"
    assert judge(claim(stated=2.0), m1_over_stdc1)["verdict"] == "inconsistent"


# --- the paper's claims ---------------------------------------------------------------------------

@pytest.mark.parametrize("claim_id, verdict", [
    ("abstract-m1-miou", "consistent"), ("m1-vs-stdc", "consistent"), ("camvid-vs-lspanet", "consistent"),
    ("ablation-se-aspp", "inconsistent"),  # 68.74 - 52.26 = 16.48, not 4.48
    # Sec. 4.4 "The CCBAM module in Cross-CBAM-M1 improves the mIoU by 3.89%": by Table 4's labels CCBAM adds
    # 72.63 - 52.26 = 20.37 to the baseline and 74.02 - 68.74 = 5.28 to +SE-ASPP; 3.89 = 72.63 - 68.74 is
    # +CCBAM minus +SE-ASPP, two models that each have one module, not a gain (was "ambiguous").
    ("ablation-ccbam", "inconsistent"),
    # Sec. 4.2 "For training CamVid, the cropped resolution is 960x720 ... For CamVid, the resolution of the
    # input images are 960x720": no table or fact of the authors' code gives it (it was "consistent" against
    # our own Table 3 caption, which is not the paper's words).
    ("camvid-resolution", "not checkable"),
    # Sec. 4.3 "about two percentage points higher than the STDC network[10], while retaining a competitive
    # inference speed": (250.4 - 240.9) / 250.4 x 100 = 3.8 % slower than STDC1-Seg50 <= 10 % (new claim).
    ("m1-speed-competitive", "consistent"),
    ("m1-val-miou", "inconsistent"), ("m1-val-fps", "consistent"), ("rates-13-fps", "consistent"),
    ("segformer-from-fps", "inconsistent"), ("segformer-gain", "ambiguous"), ("l2-faster-lspanet", "ambiguous"),
    ("l2-highest", "ambiguous"), ("pp-liteseg-faster", "inconsistent"), ("camvid-vs-stdc2", "ambiguous"),
    ("camvid-lightweight", "ambiguous"), ("se-aspp-batchnorm", "inconsistent"), ("se-gate-sigmoid", "inconsistent"),
    ("ca-reduction", "consistent"), ("cityscapes-total", "consistent"), ("channels-fewer-better", "ambiguous"),
    ("recipe-lr", "consistent"), ("recipe-scale-cityscapes", "inconsistent"), ("recipe-gpus", "not checkable"),
    ("aspp-rates", "not checkable"),
])
def test_known_verdicts(paper_side, claim_id, verdict):
    assert paper_side.loc[claim_id, "verdict"] == verdict


def test_a_table_conflict_is_its_own_finding_not_the_sentence_s(paper_side):
    assert paper_side.loc["tables-M1-fps", "verdict"] == "inconsistent"
    assert "240.9 and 241.1" in paper_side.loc["tables-M1-fps", "reason"]
    assert paper_side.loc["tables-M1-miou", "verdict"] == "consistent"


def test_citations_are_checked_against_the_reference_list(paper_side):
    citations = paper_side[paper_side["kind"] == "citation"]
    wrong = citations[citations["verdict"] == "inconsistent"]
    assert set(wrong["quote"]) == {"derived from DenseNet[19]", "SegNext-T[14]"}
    assert "SegNext-T is [11]" in wrong.set_index("quote").loc["SegNext-T[14]", "reason"]
    assert wrong.set_index("quote").loc["SegNext-T[14]", "paraphrase"] == "a row of Table 2"
    assert len(citations) >= 80


def test_section_counts_add_up(paper_side):
    counts = section_counts(paper_side.reset_index()).set_index("section")
    total = counts.loc["all"]
    assert total["found"] == len(paper_side) == sum(total[v] for v in VERDICTS)
    assert total["checked"] == total["found"] - total["not checkable"]
    assert {"abstract", "1", "3.1", "3.2", "3.3", "3.4", "4.1", "4.2", "4.3", "4.4", "tables"} <= set(counts.index)
    assert total["left out"] == len(load_claims()["left_out"])


def test_a_check_named_by_no_claim_or_a_name_with_no_check_stops_the_audit_naming_it(monkeypatch):
    data = load_claims()
    first, *rest = data["claims"]
    monkeypatch.setattr(claims, "load_claims", lambda: {**data, "claims": [{**first, "check": "no_such_check"}, *rest]})
    with pytest.raises(InputError, match=r"^claims.yaml: claim abstract-m1-miou names no_such_check, which crosscbam.claim_checks does not"):
        audit()
    monkeypatch.setattr(claims, "load_claims", lambda: {**data, "claims": rest})
    with pytest.raises(InputError, match=r"^crosscbam.claim_checks: abstract_m1_miou named by no claim"):
        audit()
    without_part = [{**c, "ours": c["ours"][:2]} if c["id"] == "rates-35-larger" else c for c in data["claims"]]
    monkeypatch.setattr(claims, "load_claims", lambda: {**data, "claims": without_part})
    with pytest.raises(InputError, match=r"^crosscbam.reports.claim_checks_ours: rates_35_larger_slower named by no claim"):
        audit_ours(Results([], preset="full"))
    misnamed = [{**c, "ours": "ablation_se_asp"} if c["id"] == "ablation-se-aspp" else c for c in data["claims"]]
    monkeypatch.setattr(claims, "load_claims", lambda: {**data, "claims": misnamed})
    with pytest.raises(InputError, match=r"claim ablation-se-aspp names ablation_se_asp, which crosscbam.reports.claim_checks_ours"):
        audit_ours(Results([], preset="full"))


def test_every_claim_names_its_checks_and_every_check_is_named():
    paper = resolve_checks(claim_checks, paper_check_names)
    assert sum(bool(readings) for _, readings in paper) >= 100
    assert {check.__name__ for _, readings in paper for _, check in readings} >= {"m1_vs_stdc_val", "l2_fps"}
    assert {check.__module__ for _, readings in paper for _, check in readings} == {"crosscbam.claim_checks"}
    ours = resolve_checks(claim_checks_ours, ours_check_names)
    assert {claim["id"] for claim, parts in ours if parts} >= {"abstract-m1-fps", "rates-35-larger", "segformer-gain"}


def test_arithmetic_helpers():
    assert t("table3", "LSPANet", "fps").value == 73.5
    assert pct_more(t("table2", "Cross-CBAM-L2", "fps"), t("table2", "LSPANet", "fps")).value == pytest.approx(46.93, abs=0.01)
    assert pct_of_first(t("table2", "Cross-CBAM-L2", "fps"), t("table2", "LSPANet", "fps")).value == pytest.approx(31.94, abs=0.01)


def as_compared(text: str) -> str:
    """A quote and the paper's Markdown, normalised alike: the converter's marks dropped (``$``, braces,
    ``*``, ``<b>``, a LaTeX command's backslash, so ``\\alpha`` reads ``alpha``), ``\\times`` and ``×``
    read as ``x``, and all whitespace removed (the converter spaces inline math at random)."""
    text = re.sub(r"\\times|×", "x", text)
    text = re.sub(r"</?b>|[${}*\\]", "", text)
    return re.sub(r"\s+", "", text)


@pytest.mark.skipif(not PAPER.is_file(), reason=f"no paper text at {PAPER}")
def test_every_quote_is_the_papers_text():
    """A quote is the paper's words: each part between "..." occurs in the paper, in order."""
    paper = as_compared(PAPER.read_text(encoding="utf-8"))
    data = load_claims()
    quotes = [(kind, entry.get("id", entry["section"]), entry["quote"]) for kind in ("claims", "citations", "left_out")
              for entry in data[kind]]
    not_found = []
    for kind, where, quote in quotes:
        at = 0
        for part in filter(None, (as_compared(p) for p in quote.split("..."))):
            at = paper.find(part, at)
            if at < 0:
                not_found.append(f"{kind} {where}: {quote!r}")
                break
            at += len(part)
    assert not not_found, "quotes that are not the paper's words:\n" + "\n".join(not_found)


def test_our_wording_is_never_in_quotation_marks(paper_side):
    row = paper_side.loc["se-gate-sigmoid"].to_dict()
    assert row["quote"] == "SE-ASPP consists of two parallel atrous convolutions and a SE attention module"
    assert claim_words(row) == f'"{row["quote"]}" [ours: {row["paraphrase"]}]' and "sigmoid" in row["paraphrase"]
    conflict = paper_side.loc["tables-M1-fps"].to_dict()
    assert conflict["quote"] == "" and '"' not in finding_sentence({**conflict, "section": "tables"})
    assert finding_sentence({**conflict, "paraphrase": float("nan"), "quote": "x"}).startswith('Tables: "x" is')


def test_one_fact_one_verdict_for_the_camvid_input_size(paper_side):
    """Sec. 4.1, 4.2 and 4.3 give the CamVid size in other words: one row judges it, the others are left out."""
    assert "caption" not in inspect.getsource(claim_checks)  # our captions are not the paper's words
    assert not {"camvid-input", "recipe-crop-camvid"} & set(paper_side.index)
    assert "Sec. 4.1, 4.2 and 4.3" in paper_side.loc["camvid-resolution", "reason"]
    repeats = [item for item in load_claims()["left_out"] if "camvid-resolution" in item["reason"]]
    assert {item["section"] for item in repeats} == {"4.1", "4.3"}


def test_the_loss_weights_are_one_fact_counted_once(paper_side):
    # Sec. 3.4 "a weight alpha is set to choose the proportion of main loss and auxiliary loss ... Loss = alpha CE
    # + (1 - alpha) FL": the authors' config weighs both losses 1.0, 1 + 1 = 2, not 1. One inconsistency, not two.
    on_weights = [claim["id"] for claim, readings in resolve_checks(claim_checks, paper_check_names)
                  if any("loss_decode_weight" in inspect.getsource(check) for _, check in readings)]
    assert on_weights == ["loss-weights-sum"]
    assert paper_side.loc["loss-weights-sum", "verdict"] == "inconsistent"
    assert "= 2 -> disagrees" in paper_side.loc["loss-weights-sum", "readings"]


def test_params_notes_say_why_m1_differs_between_tables_2_and_5():
    # M1: 12.21 M in Table 5 (the paper's count, with the auxiliary head), fewer in Table 2 (inference network).
    assert "auxiliary head" in " ".join(table_notes("table5", "smoke")) and "Tables 2-3" in " ".join(table_notes("table5", "smoke"))
    assert "inference network alone" in " ".join(table_notes("table2", "smoke"))
    assert "Tables 5-6 add the auxiliary head" in " ".join(table_notes("table2", "smoke"))


# --- the authors' code as cited data ------------------------------------------------------------

def test_every_architecture_fact_is_cited():
    found = facts("architecture")
    assert len(found) >= 30
    for fact in found:
        assert fact.file.startswith("mmseg/") and fact.line[0].isdigit() and "0.23.0" in fact.package


@pytest.mark.skipif(not (PEER_SOURCE / "mmseg").is_dir(), reason="the authors' sdist is not unpacked here")
def test_cited_lines_exist_in_the_authors_sdist():
    for fact in facts("architecture"):
        lines = (PEER_SOURCE / fact.file).read_text(encoding="utf-8").splitlines()
        first = int(fact.line.split("-")[0].split(",")[0])
        assert first <= len(lines), fact.key
    stdc = (PEER_SOURCE / "mmseg/models/backbones/stdc.py").read_text().splitlines()
    assert "AvgPool2d(kernel_size=3, stride=2" in stdc[79]
    head = (PEER_SOURCE / "mmseg/models/decode_heads/cross_cbam_bisenet.py").read_text().splitlines()
    assert "in_channels // 16" in head[14]


def test_recipe_facts_are_used_by_key_without_code_changes(monkeypatch):
    data = dict(authors_code._load())
    data["recipe"] = {
        "lr": {"value": 0.01, "file": "mmseg/.mim/configs/_base_/schedules/schedule_160k.py", "line": 2},
        "batch_per_gpu": {"value": 16, "file": "mmseg/.mim/configs/x.py", "line": 65},
        "gpus": {"value": 2, "file": "mmseg/.mim/configs/x.py", "line": 1},
    }
    monkeypatch.setattr(authors_code, "_load", lambda: data)
    frame = by_id(audit())
    assert frame.loc["recipe-lr", "verdict"] == "consistent"
    assert "schedule_160k.py:2" in frame.loc["recipe-lr", "readings"]
    assert frame.loc["recipe-batch-cityscapes", "verdict"] == "ambiguous"  # 16 per GPU, 32 in total
    assert frame.loc["recipe-min-lr", "verdict"] == "not checkable"
    assert "no recipe.min_lr" in frame.loc["recipe-min-lr", "reason"]


# --- ours ---------------------------------------------------------------------------------------

def fps_record(model, reference, ratio, *, backend="tensorrt", size=(512, 1024), cv=0.01, fraction=0.5):
    timing = {"cv": cv}
    return {"model": model, "input": [1, 3, *size], "backend": backend, "timing": timing, "fps": 100.0 * ratio,
            "roofline": {"fraction_measured": fraction}, "provenance": {"device": "gpu"},
            "reference": {"model": reference, "fps": 100.0, "timing": {"cv": cv}}, "fps_ratio": ratio}


def test_ours_complexity_is_compared_and_smoke_accuracy_is_never_a_verdict():
    records = [
        {"kind": "complexity", "model": "M1", "params_m": 12.2135, "gflops": 11.329, "path": "results/x/complexity/M1.json"},
        {"kind": "complexity", "model": "M1-d3-5", "params_m": 14.9, "gflops": 12.4},
        {"kind": "evaluation", "dataset": "cityscapes", "model": "M1", "miou_mean": 0.3, "preset": "smoke", "data": "synthetic"},
    ]
    frame = by_id(audit_ours(Results(records, preset="smoke")))
    assert frame.loc["rates-13-params", "verdict_ours"] == "reproduced"
    assert frame.loc["rates-13-flops", "verdict_ours"] == "reproduced"
    assert "results/x/complexity/M1.json" in frame.loc["rates-13-flops", "arithmetic"]  # the file it read, named
    # Sec. 4.4 "(3,5) ... corresponds to larger model, more parameters, and slower inference speed": params and
    # FLOPs (14.9 > 12.2136 M, 12.4 > 11.329 G) hold, the speed is not measured: not reproduced on params alone.
    larger = frame.loc["rates-35-larger"]
    assert larger["verdict_ours"] == "not reproduced here"
    assert "checked: larger model (GFLOPs) holds, more parameters holds; not checked: slower inference speed" in larger["reason_ours"]
    assert frame.loc["m1-val-miou", "verdict_ours"] == "not reproduced here"
    assert frame.loc["m1-val-miou", "ours"] == "n/a" and "smoke" in frame.loc["m1-val-miou", "reason_ours"]


@pytest.mark.parametrize("record, preset, why", [
    (fps_record("M1", "STDC1-Seg", 0.96), "smoke", "smoke preset"),
    (fps_record("M1", "STDC1-Seg", 0.96, backend="onnxruntime"), "full", "TensorRT"),
    (fps_record("M1", "STDC1-Seg", 0.96, size=(256, 512)), "full", "the paper's is 512x1024"),
    (fps_record("M1", "STDC1-Seg", 0.96, cv=0.2), "full", "noisy"),
    (fps_record("M1", "STDC1-Seg", 0.96, fraction=1.4), "full", "roofline fraction 1.40 > 1"),
])
def test_an_fps_verdict_needs_full_tensorrt_paper_size_and_a_quiet_record(record, preset, why):
    row = by_id(audit_ours(Results([record], preset=preset))).loc["abstract-m1-fps"]
    assert row["verdict_ours"] == "not reproduced here" and why in row["reason_ours"]


def test_every_part_of_a_claim_is_judged():
    complexity = [{"kind": "complexity", "model": "M1", "params_m": 12.2135, "gflops": 11.329},
                  {"kind": "complexity", "model": "M1-d3-5", "params_m": 14.9, "gflops": 12.4}]
    slower = by_id(audit_ours(Results(complexity + [fps_record("M1", "STDC1-Seg", 0.96), fps_record("M1-d3-5", "STDC1-Seg", 0.90)],
                                      preset="full"))).loc["rates-35-larger"]
    assert slower["verdict_ours"] == "reproduced" and "slower inference speed: 0.9 (ours M1-d3-5/STDC1-Seg, same run) < 0.96" in slower["arithmetic"]
    faster = by_id(audit_ours(Results(complexity + [fps_record("M1", "STDC1-Seg", 0.96), fps_record("M1-d3-5", "STDC1-Seg", 0.99)],
                                      preset="full"))).loc["rates-35-larger"]
    assert faster["verdict_ours"] == "not reproduced" and "slower inference speed" in faster["arithmetic"] and "-> fails" in faster["arithmetic"]


def test_fps_claims_use_the_same_run_ratio():
    frame = by_id(audit_ours(Results([fps_record("M1", "STDC1-Seg", 200.0 / 208.0)], preset="full")))
    assert float(frame.loc["abstract-m1-fps", "ours"]) == pytest.approx(250.4 * 200 / 208, abs=0.01)
    assert frame.loc["abstract-m1-fps", "verdict_ours"] == "reproduced"  # 240.8 vs 240.9, within 10 %


def test_full_preset_accuracy_gets_a_verdict():
    records = [{"kind": "evaluation", "dataset": "cityscapes", "model": "M1", "miou_mean": 0.7418, "preset": "full", "data": "real"}]
    frame = by_id(audit_ours(Results(records, preset="full")))
    assert float(frame.loc["m1-val-miou", "ours"]) == pytest.approx(74.18)
    assert frame.loc["m1-val-miou", "verdict_ours"] == "reproduced"


def test_the_audit_runs_without_results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["report", "claims", "--csv", "reports/claims.csv", "--md", "reports/claims.md"]) in (0, None)
    text = (tmp_path / "reports" / "claims.md").read_text()
    assert "## Claims per section" in text and "## Findings" in text and "## Left out, and why" in text
    assert not list((tmp_path / "reports").glob("*.partial"))


def _group(table, fps_of, backend="tensorrt", cv=0.01):
    from crosscbam.paper import speed_group

    networks = [{"model": e["network"], "input": [1, 3, *e["size"]], "rows": e["rows"], "fps": fps_of.get(e["network"], 50.0),
                 "timing": {"cv": cv}} for e in speed_group(table)]
    return {"kind": "fps_group", "table": table, "scale": 1.0, "models": [n["model"] for n in networks], "backend": backend,
            "precision": "fp32", "networks": networks, "provenance": {"device": "gpu"}}


def test_speed_comparisons_are_judged_from_one_same_run_group():
    # On this (made-up) GPU, Cross-CBAM is faster than PP-LiteSeg at every size: the text's claim holds for ours.
    fast = {"M1": 300.0, "L1": 200.0, "M2": 130.0, "L2": 88.6, "PP-LiteSeg-T": 100.0, "PP-LiteSeg-B": 80.0, "SegFormer-B0": 15.2}
    frame = by_id(audit_ours(Results([_group("table2", fast)], preset="full")))
    assert frame.loc["pp-liteseg-faster", "verdict_ours"] == "reproduced"
    assert frame.loc["segformer-gain", "ours"] == "82.8442"  # (88.6 - 15.2) / 88.6: the reading that matches 82.8
    assert frame.loc["segformer-gain", "verdict_ours"] == "reproduced"
    twice = by_id(audit_ours(Results([_group("table2", {**fast, "SegFormer-B0": 44.3})], preset="full")))
    assert twice.loc["segformer-gain", "ours"] == "50" and twice.loc["segformer-gain", "verdict_ours"] == "not reproduced"
    slow = {**fast, "PP-LiteSeg-T": 1000.0}
    assert by_id(audit_ours(Results([_group("table2", slow)], preset="full"))).loc["pp-liteseg-faster", "verdict_ours"] == "not reproduced"
    # CPU timings are information only: the measured ratio is in the reason, never a verdict on a GPU claim.
    cpu = by_id(audit_ours(Results([_group("table2", fast, backend="onnxruntime")], preset="full"))).loc["pp-liteseg-faster"]
    assert cpu["verdict_ours"] == "not reproduced here" and "measured Cross-CBAM-M1/PP-LiteSeg-T1 = 3.000 with onnxruntime" in cpu["reason_ours"]
    assert "no same-run timing" in by_id(audit_ours(Results([], preset="full"))).loc["camvid-stdc-pp-faster", "reason_ours"]


def test_fps_claims_without_a_variant_record_use_the_table_group():
    # Abstract "77.2% mIoU with a speed of 88.6FPS": Table 2 times L2 and STDC2-Seg75 in one run; 88.6 / 97.0 x 97.0.
    group = _group("table2", {"L2": 88.6, "STDC2-Seg": 97.0})
    row = by_id(audit_ours(Results([group], preset="full"))).loc["abstract-l2-fps"]
    assert "(ours Cross-CBAM-L2/STDC2-Seg75, same run)" in row["arithmetic"] and row["verdict_ours"] == "reproduced"
    smoke = by_id(audit_ours(Results([group], preset="smoke"))).loc["abstract-l2-fps"]
    assert "no same-run FPS" not in smoke["reason_ours"] and "measured Cross-CBAM-L2/STDC2-Seg75" in smoke["reason_ours"]
