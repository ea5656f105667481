#!/usr/bin/env bash
# Set up the authors' MMSegmentation fork for CPU use, isolated from the project's environment.
#
#   AUTHORS_ENV (default ~/.cache/crosscbam-authors) receives
#     package/  the unpacked wheel of PyPI mmsegmentation-zzb 0.23.0 (mmseg/ with .mim/configs/)
#     venv/     Python with torch 2.13.0 (CPU) and mmcv 1.5.0 built without its compiled ops
#
# The fork is used from sys.path, not pip-installed (its requirements pull in far more than it needs
# here). mmseg 0.23 accepts mmcv 1.3.13-1.5.0; mmcv 1.5.0 is a source distribution whose setup.py
# still imports pkg_resources, so its isolated build gets setuptools<70. Re-running is cheap: every
# step checks its result first. Needs a package index (PyPI or a mirror) on the first run.
set -euo pipefail
AUTHORS_ENV=${AUTHORS_ENV:-$HOME/.cache/crosscbam-authors}
PYTHON=${PYTHON:-python3}
TORCH_VERSION=2.13.0
MMCV_VERSION=1.5.0
PACKAGE=mmsegmentation-zzb==0.23.0
quiet=(--quiet --disable-pip-version-check)
mkdir -p "$AUTHORS_ENV"
venv_python="$AUTHORS_ENV/venv/bin/python"

if [ ! -d "$AUTHORS_ENV/package/mmseg/.mim/configs" ]; then
  rm -rf "$AUTHORS_ENV/wheel" "$AUTHORS_ENV/package.partial"
  "$PYTHON" -m pip download "${quiet[@]}" --no-deps --only-binary :all: "$PACKAGE" -d "$AUTHORS_ENV/wheel"
  "$PYTHON" -m zipfile -e "$AUTHORS_ENV"/wheel/mmsegmentation_zzb-*.whl "$AUTHORS_ENV/package.partial"
  mv "$AUTHORS_ENV/package.partial" "$AUTHORS_ENV/package"
fi

[ -x "$venv_python" ] || "$PYTHON" -m venv "$AUTHORS_ENV/venv"

# A plain `pip install torch` may resolve to a CUDA build of several GB: pin the CPU release.
if ! "$venv_python" -c "import torch, sys; sys.exit(not torch.__version__.startswith('$TORCH_VERSION'))" 2>/dev/null; then
  "$venv_python" -m pip install "${quiet[@]}" "torch==$TORCH_VERSION"
fi

if ! "$venv_python" -c "import mmcv, sys; sys.exit(mmcv.__version__ != '$MMCV_VERSION')" 2>/dev/null; then
  constraints="$AUTHORS_ENV/build-constraints.txt"
  echo "setuptools<70" > "$constraints"
  MMCV_WITH_OPS=0 PIP_CONSTRAINT="$constraints" "$venv_python" -m pip install "${quiet[@]}" "mmcv==$MMCV_VERSION"
fi

"$venv_python" -c "import torch, mmcv; print(f'authors environment ready: torch {torch.__version__}, mmcv {mmcv.__version__}')"
