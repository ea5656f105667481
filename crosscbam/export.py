"""ONNX export, the first step of the paper's inference pipeline (Sec. 4.2, "Inference Settings":
PyTorch -> ONNX -> TensorRT; docs/design.md#speed-protocol).

The exported graph takes one ``(1, 3, H, W)`` float32 image named ``image`` and returns ``logits``,
``(1, classes, H, W)``: the eval-mode forward pass, final bilinear resize included. It is a single
file (no external weights) at opset 17 by default, the highest TensorRT 8.2-8.6 parse. The export
is verified twice: ``onnx.checker`` (full check, shape inference included), and ONNX Runtime
against PyTorch on one random input.

One exact rewrite is applied by default (:func:`rewrite_channel_reductions`): CCBAM's spatial
attention (Eq. 4) takes the max and the mean over channels, which ONNX Runtime's CPU ``ReduceMax`` /
``ReduceMean`` over axis 1 compute several times slower than a tree of elementwise ``Max`` and a
1x1 ``Conv`` with weights 1/C (same values; the mean up to float rounding).
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from crosscbam.complexity import check_size
from crosscbam.errors import InputError
from crosscbam.io import atomic_path
from crosscbam.models import canonical_name
from crosscbam.models.weights import load_model

if TYPE_CHECKING:
    import onnx

#: Names of the graph's input and output.
INPUT_NAME, OUTPUT_NAME = "image", "logits"
#: ONNX metadata key naming the variant a graph was exported from (checked by :func:`read_onnx_identity`).
METADATA_MODEL = "crosscbam.model"
#: Default and minimum ONNX opset.
DEFAULT_OPSET, MIN_OPSET = 17, 17
#: Verification tolerance: ``max|onnx - torch| <= ATOL + RTOL * max|torch|`` (float32 with
#: different kernels and fusions; trained logits reach tens, hence the relative part).
ATOL, RTOL = 1e-4, 1e-4


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_onnx` wrote and how it verified."""

    model: str
    input: tuple[int, int, int, int]
    path: str
    opset: int
    checkpoint: str | None
    max_abs_diff: float
    max_abs_reference: float
    tolerance: float
    onnx_bytes: int
    rewritten_reductions: int

    def to_dict(self) -> dict:
        record = asdict(self)
        record["input"] = list(self.input)
        return record


def to_onnx(model: torch.nn.Module, size: tuple[int, int], path: str | Path, opset: int = DEFAULT_OPSET) -> Path:
    """Trace ``model`` at batch 1 and ``size`` and write a single-file ONNX graph to ``path``.

    Uses the TorchScript-based exporter (``dynamo=False``): it needs no ``onnxscript`` and writes
    the weights into the one file.
    """
    if opset < MIN_OPSET:
        raise InputError(f"ONNX opset must be at least {MIN_OPSET}, got {opset}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image = torch.zeros(1, 3, *size)
    with torch.no_grad(), warnings.catch_warnings():
        # The exporter warns that it is the legacy one, and the tracer about Python-side shape
        # checks (check_input, CCBAM's shape test); both are expected for a fixed-size export.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (image,),
            str(path),
            dynamo=False,
            opset_version=opset,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            do_constant_folding=True,
        )
    return path


def _axes(node: "onnx.NodeProto", initializers: dict[str, "onnx.TensorProto"]) -> list[int] | None:
    """A reduction's axes, from its attribute (opset < 18) or its constant second input (>= 18)."""
    import onnx

    for attribute in node.attribute:
        if attribute.name == "axes":
            return list(onnx.helper.get_attribute_value(attribute))
    if len(node.input) > 1 and node.input[1] in initializers:
        return [int(a) for a in onnx.numpy_helper.to_array(initializers[node.input[1]]).ravel()]
    return None


def rewrite_channel_reductions(model: "onnx.ModelProto") -> int:
    """Replace ``ReduceMax``/``ReduceMean`` over axis 1 (keepdims) of 4-D tensors with a ``Split``
    + ``Max`` tree and a 1x1 ``Conv`` with weights 1/C; returns how many nodes were rewritten.
    Needs static shapes (our exports have them)."""
    import onnx
    from onnx import helper, numpy_helper

    inferred = onnx.shape_inference.infer_shapes(model)
    shapes = {
        value.name: [d.dim_value if d.HasField("dim_value") else None for d in value.type.tensor_type.shape.dim]
        for value in [*inferred.graph.value_info, *inferred.graph.input, *inferred.graph.output]
    }
    initializers = {init.name: init for init in model.graph.initializer}
    new_nodes, count = [], 0
    for node in model.graph.node:
        shape = shapes.get(node.input[0]) if node.input else None
        keepdims = next((a.i for a in node.attribute if a.name == "keepdims"), 1)
        channels = shape[1] if shape and len(shape) == 4 else None
        if (
            node.op_type not in ("ReduceMax", "ReduceMean")
            or _axes(node, initializers) not in ([1], [-3])
            or not keepdims
            or not channels
            or channels < 2
        ):
            new_nodes.append(node)
            continue
        count += 1
        prefix, source, output = f"{node.name or node.output[0]}/rewrite", node.input[0], node.output[0]
        if node.op_type == "ReduceMean":
            weight = f"{prefix}/weight"
            model.graph.initializer.append(numpy_helper.from_array(np.full((1, channels, 1, 1), 1.0 / channels, np.float32), weight))
            new_nodes.append(helper.make_node("Conv", [source, weight], [output], name=f"{prefix}/conv"))
            continue
        level, current, width = 0, source, channels
        while width > 1:
            half, rest = width // 2, width % 2
            sizes = f"{prefix}/split{level}"
            model.graph.initializer.append(numpy_helper.from_array(np.array([half, half] + [1] * rest, np.int64), sizes))
            parts = [f"{prefix}/part{level}_{i}" for i in range(2 + rest)]
            new_nodes.append(helper.make_node("Split", [current, sizes], parts, axis=1, name=f"{prefix}/split{level}"))
            current = output if half == 1 else f"{prefix}/max{level}"
            new_nodes.append(helper.make_node("Max", parts, [current], name=f"{prefix}/max{level}"))
            level, width = level + 1, half
    del model.graph.node[:]
    model.graph.node.extend(new_nodes)
    return count


def check_onnx(path: str | Path) -> None:
    """Run ``onnx.checker`` with the full check; raise a one-line ``ValueError`` if it fails."""
    import onnx

    try:
        onnx.checker.check_model(str(path), full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError(f"ONNX checker rejected {path}: {first_line}") from None


def read_onnx_identity(path: str | Path, name: str, size: tuple[int, int]) -> str:
    """Check that ``path`` is our export of variant ``name`` at ``size``; return its sha256.

    A file is trusted by what it holds, not by its name: the graph must carry the variant it was
    exported from (metadata written by :func:`export_onnx`) and take a ``(1, 3, H, W)`` input.

    Raises:
        ValueError: one line naming the file, what it holds and the fix.
    """
    import hashlib

    import onnx

    path = Path(path)
    try:
        graph = onnx.load(str(path), load_external_data=False)
    except Exception as error:  # onnx raises DecodeError, OSError, ... for garbage
        raise InputError(f"{path} is not a readable ONNX file ({type(error).__name__}); delete it and export again") from None
    stored = {prop.key: prop.value for prop in graph.metadata_props}.get(METADATA_MODEL)
    inputs = [tuple(d.dim_value for d in i.type.tensor_type.shape.dim) for i in graph.graph.input]
    expected = (1, 3, *size)
    if stored != canonical_name(name) or inputs != [expected]:
        raise InputError(
            f"{path} holds {stored or 'an unknown network'} with input {inputs[0] if inputs else '?'}, "
            f"not {canonical_name(name)} at {expected}; delete it and run `crosscbam export {canonical_name(name)} "
            f"--size {size[0]} {size[1]} --out {path}`"
        )
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def compare_with_torch(model: torch.nn.Module, path: str | Path, size: tuple[int, int], seed: int = 0) -> tuple[float, float]:
    """``(max|onnx - torch|, max|torch|)`` on one random N(0, 1) image, ONNX run by ONNX Runtime (CPU)."""
    import onnxruntime as ort

    generator = torch.Generator().manual_seed(seed)
    image = torch.randn(1, 3, *size, generator=generator)
    with torch.no_grad():
        reference = model(image).numpy()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (output,) = session.run([OUTPUT_NAME], {INPUT_NAME: image.numpy()})
    if output.shape != reference.shape:
        raise InputError(f"ONNX output shape {output.shape} differs from PyTorch's {reference.shape}")
    return float(np.max(np.abs(output - reference))), float(np.max(np.abs(reference)))


def export_onnx(
    name: str,
    size: tuple[int, int] | list[int],
    out: str | Path,
    checkpoint: str | Path | None = None,
    opset: int = DEFAULT_OPSET,
    atol: float = ATOL,
    rtol: float = RTOL,
    rewrite: bool = True,
) -> ExportResult:
    """Export variant ``name`` at input ``size`` to ``out`` and verify it (Sec. 4.2).

    Args:
        rewrite: apply :func:`rewrite_channel_reductions` (exact; faster on ONNX Runtime's CPU).

    Raises:
        ValueError: one line, if the checker rejects the graph or ONNX Runtime's logits differ
            from PyTorch's by more than ``atol + rtol * max|torch|``.
    """
    canonical = canonical_name(name)
    height, width = check_size(list(size))
    model, _ = load_model(canonical, checkpoint)
    out = Path(out)
    with atomic_path(out) as path:  # only a verified graph ever appears under the final name
        to_onnx(model, (height, width), path, opset)
        import onnx

        graph = onnx.load(str(path))
        rewritten = rewrite_channel_reductions(graph) if rewrite else 0
        onnx.helper.set_model_props(graph, {METADATA_MODEL: canonical})
        onnx.save(graph, str(path))
        check_onnx(path)
        max_diff, max_ref = compare_with_torch(model, path, (height, width))
        tolerance = atol + rtol * max_ref
        if not max_diff <= tolerance:
            raise InputError(
                f"ONNX Runtime and PyTorch logits of {canonical} differ by {max_diff:.3g} "
                f"(tolerance {tolerance:.3g} = {atol:g} + {rtol:g} x max|logit| {max_ref:.3g})"
            )
        onnx_bytes = path.stat().st_size
    return ExportResult(
        model=canonical,
        input=(1, 3, height, width),
        path=str(out),
        opset=opset,
        checkpoint=str(checkpoint) if checkpoint is not None else None,
        max_abs_diff=max_diff,
        max_abs_reference=max_ref,
        tolerance=tolerance,
        onnx_bytes=onnx_bytes,
        rewritten_reductions=rewritten,
    )
