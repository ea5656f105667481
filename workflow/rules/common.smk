# Helpers shared by every stage: config validation, the preset, and the target lists.
from snakemake.utils import validate

from crosscbam.models import list_variants
from crosscbam.paper import paper_table


validate(config, "../schemas/config.schema.yaml")

PRESET = config["preset"]
RESULTS = f"results/{PRESET}"
LOGS = f"logs/{PRESET}"


wildcard_constraints:
    variant="|".join(list_variants()),


def table_variants(table):
    """The crosscbam variants behind the rows of a paper table."""
    return [v for v in paper_table(table)["variant"].dropna().unique()]


def all_targets():
    """Everything `snakemake` builds by default: the data, every result behind the reports, the reports."""
    return data_targets() + speed_targets() + report_targets()  # data.smk, speed.smk, report.smk
