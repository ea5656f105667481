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


def test_os_errors_are_one_line_with_their_own_exit_status(tmp_path, capsys):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    assert main(["export", "M1", "--size", "32", "32", "--out", str(blocked / "M1.onnx")]) == 3
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "a-file" in err and "check the path" in err


def test_interrupt_is_one_line_and_debug_shows_the_traceback(monkeypatch, capsys):
    import crosscbam.complexity
    import pytest

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(crosscbam.complexity, "measure", interrupted)
    assert main(["complexity", "M1"]) == 130
    assert "interrupted" in capsys.readouterr().err
    with pytest.raises(KeyboardInterrupt):
        main(["--debug", "complexity", "M1"])


def test_a_bug_is_not_hidden_as_a_one_line_error(monkeypatch):
    """Only the project's own error types become one-liners; any other exception is a bug."""
    import crosscbam.complexity
    import pytest

    def bug(*args, **kwargs):
        raise ValueError("an internal bug")

    monkeypatch.setattr(crosscbam.complexity, "measure", bug)
    with pytest.raises(ValueError, match="an internal bug"):
        main(["complexity", "M1"])


def test_help_imports_no_torch():
    import subprocess
    import sys

    code = "import sys; from crosscbam.cli import build_parser; build_parser(); sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_every_record_names_the_command_that_made_it(tmp_path):
    """The last hop from a number to what made it: result JSONs carry their `crosscbam ...` command line."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-m", "crosscbam", "complexity", "M1-c128", "--size", "64", "128", "--json"],
                         capture_output=True, text=True, check=True)
    assert json.loads(run.stdout)["provenance"]["command"] == "crosscbam complexity M1-c128 --size 64 128 --json"
    from crosscbam.provenance import provenance

    assert "command" not in provenance()  # used from other code (here: pytest), no command to name
