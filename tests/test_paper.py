import pytest

from crosscbam.models import list_variants
from crosscbam.paper import TABLES, paper_table, references, table_citations


@pytest.mark.parametrize("table, rows", [("table2", 30), ("table3", 17), ("table4", 5), ("table5", 5), ("table6", 3)])
def test_every_paper_row_is_present(table, rows):
    assert len(paper_table(table)) == rows


def test_rows_we_build_name_existing_variants():
    names = set(list_variants())
    for table in TABLES:
        assert set(paper_table(table)["variant"].dropna()) <= names


def test_spot_values_are_the_papers():
    t5 = paper_table("table5").set_index("dilations")
    assert t5.loc["(1,3)", "gflops"] == 11.31 and t5.loc["(2,4,6)", "params_m"] == 16.67
    t2 = paper_table("table2").set_index("model")
    assert t2.loc["Cross-CBAM-L2", "fps"] == 88.6


def test_unknown_table_is_refused():
    with pytest.raises(ValueError, match="table2"):
        paper_table("table7")


def test_table1_and_the_reference_list_are_the_papers():
    t1 = paper_table("table1")
    assert list(t1[t1["stride"] == 1]["stdc2_r"]) == [3, 4, 2]
    refs = references()
    assert len(refs) == 45 and refs[11][0] == "SegNext" and refs[19] == ["LDFNet"]
    assert ("SegNext-T", 14) in table_citations("table2")  # as printed (the audit flags it)
    assert len(table_citations("table2")) == 26 and len(table_citations("table3")) == 15
