import json

from crosscbam.cli import main


def test_complexity_json_has_the_documented_keys(capsys):
    assert main(["complexity", "m1", "--size", "64", "128", "--json"]) == 0
    out, err = capsys.readouterr()
    record = json.loads(out)
    assert {"model", "input", "params", "params_inference", "flops", "provenance"} <= set(record)
    assert record["model"] == "M1" and record["input"] == [1, 3, 64, 128] and err == ""
    assert record["params"] == 12_213_541


def test_complexity_human_readable(capsys):
    assert main(["complexity", "M1-c128", "--size", "64", "64"]) == 0
    assert "params (paper protocol)" in capsys.readouterr().out


def test_bad_name_and_size_are_one_line_errors(capsys):
    assert main(["complexity", "M9"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "unknown model 'M9'" in err and "M1" in err
    assert main(["complexity", "M1", "--size", "8", "8"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "at least 32" in err
