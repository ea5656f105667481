"""The specification of the tables we reproduce (crosscbam/tables.py), joined with the cited paper data:
the paper's file holds only the paper's data; a paper row is a network of ours by that network's `rows`."""

from importlib import resources

import pytest
import yaml

from crosscbam import variants
from crosscbam.errors import InputError
from crosscbam.paper import evaluation_size, paper_table, rows_not_in_paper
from crosscbam.reports.tables import NOT_IN_PAPER, compile_table
from crosscbam.tables import SPEED_TABLES, TABLES, row_networks
from crosscbam.variants import Variant

PROVENANCE = {"device": "test cpu", "commit": "abc123", "libraries": {"fvcore": "0.1.5"}}


def test_the_cited_paper_data_holds_none_of_our_names():
    cited = yaml.safe_load(resources.files("crosscbam").joinpath("paper_values.yaml").read_text(encoding="utf-8"))
    keys = {key for table in TABLES for row in cited[table]["rows"] for key in row}
    assert not keys & {"variant", "network"}, "which network a row is belongs in crosscbam/variants.py (rows)"


@pytest.mark.parametrize("table, label, variant, network", [
    ("table2", "Cross-CBAM-M2", "M2", None),
    ("table2", "STDC1-Seg75", None, "STDC1-Seg"),  # another method's row that we build
    ("table2", "SegFormer", None, "SegFormer-B0"),
    ("table2", "BiseNetV2-L", None, None),  # its -L form is not what we build
    ("table3", "Cross-CBAM-M", "camvid-M", None),
    ("table3", "DDRNet", None, "DDRNet-23-slim"),
    ("table5", "(2,4)", "M1-d2-4", None),
])
def test_a_paper_row_is_the_network_that_names_it(table, label, variant, network):
    row = paper_table(table).set_index(TABLES[table].label[0]).loc[label]
    assert [name if isinstance(name, str) else None for name in row[["variant", "network"]]] == [variant, network]


def test_table4_rows_told_apart_by_their_check_marks_and_tables_4_to_6_are_all_built():
    assert list(paper_table("table4")["variant"]) == ["M1-baseline", "M1-seaspp", "M1-ccbam", "M1-noaux", "M1"]
    assert list(paper_table("table6")["variant"]) == ["M1-c512", "M1", "M1-c128"]
    assert paper_table("table5")["variant"].notna().all()
    assert SPEED_TABLES == ("table2", "table3") and TABLES["table3"].dataset == "camvid"


def test_other_methods_on_camvid_are_evaluated_at_table3s_one_input():
    assert evaluation_size("PP-LiteSeg-T", "camvid") == (720, 960)  # its Table 2 row's input is 512x1024
    assert evaluation_size("PP-LiteSeg-T", "cityscapes") == (512, 1024)
    assert evaluation_size("M2", "cityscapes") == (768, 1536) and evaluation_size("camvid-M", "camvid") == (720, 960)


def test_a_table5_variant_that_the_paper_lacks_is_one_entry_and_reads_not_in_the_paper(monkeypatch):
    monkeypatch.setitem(variants.VARIANTS, "M1-d4-8", Variant(dilations=(4, 8), rows={"table5": "(4,8)"}))
    complexity = {"kind": "complexity", "model": "M1-d4-8", "input": [1, 3, 512, 1024], "gflops": 13.0, "params_m": 14.3,
                  "params_inference": 13_700_000, "provenance": PROVENANCE}
    frame = compile_table("table5", [complexity], preset="smoke")
    assert len(frame) == 6 and len(paper_table("table5")) == 5  # the paper's table stays the paper's
    ours = frame.set_index("dilations").loc["(4,8)"]
    assert ours["variant"] == "M1-d4-8" and ours["source"] == f"ours only: {NOT_IN_PAPER}"
    assert ours["miou_paper"] == ours["fps_paper"] == ours["gflops_paper"] == NOT_IN_PAPER
    assert ours["gflops"] == 13.0 and ours["complexity_verdict"] == "no paper value" and ours["miou_verdict"] == "missing result"


def test_a_row_label_spelt_unlike_the_papers_is_refused(monkeypatch):
    monkeypatch.setitem(variants.VARIANTS, "M1-d2-4", Variant(dilations=(2, 4), rows={"table5": "(2, 4)"}))
    with pytest.raises(InputError, match=r"M1-d2-4: table5 row '\(2, 4\)' is not the paper's '\(2,4\)'"):
        rows_not_in_paper("table5")


def test_two_networks_cannot_be_one_paper_row(monkeypatch):
    monkeypatch.setitem(variants.VARIANTS, "M1-again", Variant(rows={"table6": "256"}))
    with pytest.raises(InputError, match="table6 row '256' is both M1 and M1-again"):
        row_networks("table6")
