"""ONNX export (paper Sec. 4.2): a single file at opset >= 17, checked, equal to PyTorch."""

import json

import onnx
import pytest

from crosscbam import export
from crosscbam.cli import main


@pytest.fixture(scope="module")
def m1_onnx(tmp_path_factory):
    path = tmp_path_factory.mktemp("onnx") / "M1_64x128.onnx"
    return export.export_onnx("m1", (64, 128), path), path


def test_export_is_one_checked_file_with_logits_at_input_size(m1_onnx):
    result, path = m1_onnx
    assert result.model == "M1" and result.input == (1, 3, 64, 128) and result.opset == 17
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no external weight files
    model = onnx.load(str(path))
    assert model.opset_import[0].version >= 17
    (graph_input,), (graph_output,) = model.graph.input, model.graph.output
    dims = lambda value: [d.dim_value for d in value.type.tensor_type.shape.dim]  # noqa: E731
    assert graph_input.name == "image" and dims(graph_input) == [1, 3, 64, 128]
    assert graph_output.name == "logits" and dims(graph_output) == [1, 19, 64, 128]


def test_onnx_matches_torch_within_the_stated_tolerance(m1_onnx):
    result, _ = m1_onnx
    assert result.tolerance == pytest.approx(export.ATOL + export.RTOL * result.max_abs_reference)
    assert 0 <= result.max_abs_diff <= result.tolerance and result.max_abs_reference > 0


def test_a_difference_above_tolerance_fails_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(export, "compare_with_torch", lambda *args, **kwargs: (0.5, 1.0))
    with pytest.raises(ValueError, match=r"differ by 0.5 \(tolerance 0.0002"):
        export.export_onnx("M1", (64, 64), tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []  # an unverified graph never appears under the final name


def test_a_graph_is_trusted_by_its_content_not_its_name(m1_onnx, tmp_path):
    """fps --onnx-dir reads <NAME>_<H>x<W>.onnx: another network's graph under M1's name is refused."""
    from crosscbam.speed.fps import TimingOptions, measure_fps

    _, path = m1_onnx
    assert len(export.read_onnx_identity(path, "M1", (64, 128))) == 64  # the sha256 the FPS record keeps
    wrong = tmp_path / "STDC1-Seg_64x128.onnx"
    wrong.write_bytes(path.read_bytes())  # M1's graph under the reference's name
    with pytest.raises(ValueError, match="holds M1 with input \\(1, 3, 64, 128\\), not STDC1-Seg"):
        measure_fps("STDC1-Seg", (64, 128), TimingOptions(backend="onnxruntime", onnx_dir=tmp_path, warmup=0, min_seconds=0,
                                                          min_iterations=1, threads=1), reference=None)
    with pytest.raises(ValueError, match="not M1 at \\(1, 3, 32, 64\\)"):
        export.read_onnx_identity(path, "M1", (32, 64))
    garbage = tmp_path / "M1_64x128.onnx"
    garbage.write_bytes(b"not a graph")
    with pytest.raises(ValueError, match="is not a readable ONNX file"):
        export.read_onnx_identity(garbage, "M1", (64, 128))


def test_low_opsets_are_refused(tmp_path):
    with pytest.raises(ValueError, match="opset must be at least 17"):
        export.export_onnx("M1", (64, 64), tmp_path / "m.onnx", opset=13)


def test_export_cli_prints_the_difference_and_writes_a_record(tmp_path, capsys):
    out = tmp_path / "stdc1.onnx"
    assert main(["export", "STDC1-Seg", "--size", "64", "96", "--out", str(out), "--json", str(tmp_path / "r.json")]) == 0
    assert "max |onnx - torch|" in capsys.readouterr().out and out.is_file()
    record = json.loads((tmp_path / "r.json").read_text())
    assert record["model"] == "STDC1-Seg" and record["max_abs_diff"] <= record["tolerance"]
    assert record["provenance"]["libraries"]["onnx"]


def test_export_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["export", "M9", "--size", "64", "64", "--out", str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "unknown model 'M9'" in err


@pytest.mark.parametrize("channels", [2, 7, 256])
def test_channel_reduction_rewrite_is_exact(channels):
    import numpy as np
    import onnxruntime as ort
    from onnx import TensorProto, helper

    shape = [1, channels, 5, 6]
    nodes = [
        helper.make_node("ReduceMax", ["x"], ["max"], axes=[1], keepdims=1, name="max"),
        helper.make_node("ReduceMean", ["x"], ["mean"], axes=[1], keepdims=1, name="mean"),
        helper.make_node("ReduceMean", ["x"], ["pool"], axes=[2, 3], keepdims=1, name="pool"),  # left alone
    ]
    outputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in
               (("max", [1, 1, 5, 6]), ("mean", [1, 1, 5, 6]), ("pool", [1, channels, 1, 1]))]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)], outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    assert export.rewrite_channel_reductions(model) == 2
    onnx.checker.check_model(model, full_check=True)
    assert "ReduceMax" not in {n.op_type for n in model.graph.node}
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    got_max, got_mean, got_pool = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    assert np.array_equal(got_max, x.max(axis=1, keepdims=True))
    assert np.allclose(got_mean, x.mean(axis=1, keepdims=True), atol=1e-6)
    assert np.allclose(got_pool, x.mean(axis=(2, 3), keepdims=True))


def test_m1_export_rewrites_ccbams_spatial_attention(m1_onnx):
    result, path = m1_onnx
    assert result.rewritten_reductions == 8  # 2 CCBAMs x 2 spatial attentions x (max, mean)
    ops = [n.op_type for n in onnx.load(str(path)).graph.node]
    assert "ReduceMax" in ops  # channel attention's global max pool (over H, W) is kept
