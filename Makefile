# The two front-door commands (README): `make smoke` and `make test`. Both set up .venv first.
VENV ?= .venv
PYTHON ?= python3
CORES ?= 2
BIN := $(abspath $(VENV))/bin
export PATH := $(BIN):$(PATH)

.PHONY: setup browser slurm smoke test authors-check gpu-wheels clean

# torch first, pinned, so that nothing later pulls a multi-GB CUDA build.
$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install --disable-pip-version-check --no-deps -e .
	touch $@

setup: $(VENV)/.installed

# The smoke reproduction: the whole DAG on the smoke preset, to reports/.
smoke: setup
	snakemake --profile workflow/profiles/local --cores $(CORES) --config preset=smoke

# Debian's Chromium renders the HTML report in its test; installed when we may (root), else that test skips.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "chromium is not installed: the HTML report's browser test will be skipped"

# Debian's SLURM and munge for the one-node cluster of tests/test_slurm.py (installed when we may, root,
# else that test skips), and the Snakemake SLURM executor, pinned in tools/slurm/requirements.txt.
slurm: $(VENV)/.slurm-installed
	@command -v slurmctld >/dev/null 2>&1 && command -v slurmd >/dev/null 2>&1 && command -v munged >/dev/null 2>&1 || \
		{ [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends slurmctld slurmd slurm-client munge >/dev/null; } || \
		echo "SLURM is not installed: the SLURM test will be skipped"

$(VENV)/.slurm-installed: tools/slurm/requirements.txt $(VENV)/.installed
	$(BIN)/pip install --disable-pip-version-check --no-deps -r tools/slurm/requirements.txt
	touch $@

test: setup browser slurm
	pytest

# The pure-Python packages tools/gpu/check needs beyond a GPU image's PyTorch (pins from requirements.txt), as
# wheels to carry to that machine.
gpu-wheels: setup
	rm -rf tools/gpu/wheels && mkdir -p tools/gpu/wheels
	$(BIN)/pip download --disable-pip-version-check --no-deps -d tools/gpu/wheels \
		$$(grep -E '^(pyyaml|tqdm|cityscapesscripts)==' requirements.txt)

# Our networks, loss and initialisation against the authors' MMSeg fork (set up in ~/.cache/crosscbam-authors,
# or AUTHORS_ENV); prints an equivalence table. tests/test_authors_check.py runs the same check under `make test`.
authors-check: setup
	bash tools/authors_code/setup.sh
	python tools/authors_code/check.py

clean:
	rm -rf logs .snakemake
	find results reports -mindepth 1 ! -name README.md -delete
