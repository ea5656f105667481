"""Inference speed (paper Sec. 4.2; DESIGN.md §6).

Modules: :mod:`~crosscbam.speed.timing` (the timing loop), :mod:`~crosscbam.speed.backends` (PyTorch,
ONNX Runtime, backend choice), :mod:`~crosscbam.speed.tensorrt` (engines, cache), :mod:`~crosscbam.speed.roofline`,
:mod:`~crosscbam.speed.load` (the machine's load while timing), :mod:`~crosscbam.speed.fps` (one measurement: :func:`~crosscbam.speed.fps.measure_fps`),
:mod:`~crosscbam.speed.records` (:func:`~crosscbam.speed.records.read_fps_record`) and
:mod:`~crosscbam.speed.cli`. Nothing is imported here, so that the command line stays fast and the
optional ``onnxruntime`` / ``tensorrt`` load only where used.
"""
