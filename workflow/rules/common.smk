# Helpers shared by every stage: config validation, the preset, and the target lists.
from snakemake.utils import validate

from crosscbam.models import list_variants
from crosscbam.paper import paper_table


validate(config, "../schemas/config.schema.yaml")

PRESET = config["preset"]
RESULTS = f"results/{PRESET}"
LOGS = f"logs/{PRESET}"
COMPLEXITY_TABLES = ["table5", "table6"]


wildcard_constraints:
    variant="|".join(list_variants()),


def table_variants(table):
    """The crosscbam variants behind the rows of a paper table."""
    return [v for v in paper_table(table)["variant"].dropna().unique()]


def all_targets():
    tables = [f"reports/{t}.{ext}" for t in COMPLEXITY_TABLES for ext in ("csv", "md")]
    return tables + ["reports/complexity.csv", "reports/complexity.md"]
