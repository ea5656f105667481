"""Inference speed (paper Sec. 4.2; docs/design.md#speed-protocol).

Modules: :mod:`~crosscbam.speed.timing` (the timing loop), :mod:`~crosscbam.speed.backend` (what a backend
is), one module per backend (:mod:`~crosscbam.speed.tensorrt`: engines, cache; :mod:`~crosscbam.speed.onnxruntime`,
:mod:`~crosscbam.speed.openvino`, :mod:`~crosscbam.speed.pytorch`), :mod:`~crosscbam.speed.backends` (their one
list, and the choice among them), :mod:`~crosscbam.speed.roofline`,
:mod:`~crosscbam.speed.load` (the machine's load while timing), :mod:`~crosscbam.speed.fps` (one measurement: :func:`~crosscbam.speed.fps.measure_fps`),
:mod:`~crosscbam.speed.records` (:func:`~crosscbam.speed.records.read_fps_record`) and
:mod:`~crosscbam.speed.cli`. Nothing is imported here, so that the command line stays fast and the
backends' libraries load only where used.
"""
