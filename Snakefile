# Cross-CBAM reproduction: one DAG from data to the paper's tables.
#   snakemake --cores 8 reports/table5.csv                 (smoke preset, offline, CPU)
#   snakemake --cores 8 all --config preset=full           (the paper's protocol)
# Every rule calls the `crosscbam` CLI of the one environment this repository installs (make setup,
# or environment.yml), so the rules name no per-rule conda environment (the lint's advice).
import os

from snakemake.utils import min_version

min_version("8.0")


# Resolved against this file so that `--directory` runs (the tests) find it too.
configfile: os.path.join(workflow.basedir, "config", "config.yaml")


include: "workflow/rules/common.smk"


wildcard_constraints:
    variant="|".join(list_variants()),
    dataset="|".join(DATASETS),
    package="|".join(p.replace(".", r"\.") for p in CITYSCAPES_PACKAGES),
    h=r"\d+",
    w=r"\d+",
    seed=r"\d+",


include: "workflow/rules/data.smk"
include: "workflow/rules/complexity.smk"
include: "workflow/rules/speed.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        all_targets(),
    default_target: True
