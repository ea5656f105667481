# Everything the rules share: config validation, the preset's settings, paths, and the functions
# that turn the config into targets. The rule files (one per stage) hold rules only.
from snakemake.utils import validate

from crosscbam.data import DATASETS
from crosscbam.models import get_variant, list_variants
from crosscbam.paper import paper_table
from crosscbam.speed.fps import reference_for


validate(config, "../schemas/config.schema.yaml")

PRESET = config["preset"]
SETTINGS = config["presets"][PRESET]
DATA_CONFIG = SETTINGS["data"]
SPEED = SETTINGS["speed"]
TRAIN = SETTINGS["train"]
EVALUATE = SETTINGS["evaluate"]
RESULTS = f"results/{PRESET}"
LOGS = f"logs/{PRESET}"
DATA = f"data/{PRESET}"
ONNX_DIR = f"{RESULTS}/onnx"
CITYSCAPES_PACKAGES = ["gtFine_trainvaltest.zip", "leftImg8bit_trainvaltest.zip"]
FPS_BACKENDS = ["onnxruntime", "torch"]  # rule fps; tensorrt has its own rule (GPU)
# M2 / L2 are M1 / L1 evaluated at 768x1536 (the suffix is only the input resolution, DESIGN.md §1).
SAME_WEIGHTS = {"M2": "M1", "L2": "L1"}
PAPER_TABLES = ["table2", "table3", "table4", "table5", "table6"]
TABLE_DATASET = {"table2": "cityscapes", "table3": "camvid", "table4": "cityscapes", "table5": "cityscapes", "table6": "cityscapes"}
SUMMARY_TABLES = ["claims", "complexity", "fps"]
FIGURES = ["fig7_qualitative", "fig8_ablation", "speed_accuracy", "training_curves"]
FIRST_SEED = TRAIN["seeds"][0]



# --- data (data.smk) ----------------------------------------------------------------------------
def dataset_root(dataset):
    """The prepared tree of `dataset` for this preset (what build_dataset / the CLI take as root)."""
    return f"{DATA}/{dataset}"


def dataset_ready(dataset):
    """The marker a rule that reads `dataset` depends on: its data card, written when the tree is complete."""
    return f"{DATA}/{dataset}/data_card.json"


# --- speed (speed.smk) --------------------------------------------------------------------------
def speed_runs():
    """(variant, H, W) of every configured FPS job: the configured sizes, or each variant's paper size."""
    runs = []
    for variant in SPEED["variants"]:
        sizes = SPEED["sizes"] if SPEED["sizes"] else [get_variant(variant).eval_size]
        runs += [(variant, h, w) for h, w in sizes]
    return runs


def fps_results():
    """Every configured FPS JSON of this preset (the inputs of reports/fps.csv)."""
    return [f"{RESULTS}/fps/{v}_{h}x{w}.{b}.json" for v, h, w in speed_runs() for b in SPEED["backends"]]


def fps_onnx(wildcards):
    """The ONNX exports an ONNX Runtime / TensorRT job reuses: the variant's and its reference's."""
    if wildcards.backend == "torch":
        return []
    names = [wildcards.variant] + [r for r in [reference_for(wildcards.variant)] if r]
    return [f"{ONNX_DIR}/{name}_{wildcards.h}x{wildcards.w}.onnx" for name in names]


def fps_threads(wildcards):
    return SPEED["threads"] or workflow.cores


# --- training and evaluation (train.smk, evaluate.smk) ------------------------------------------
def checkpoint(dataset, variant, seed):
    """The final checkpoint a table row's model comes from (M2/L2 share M1/L1's)."""
    return f"{RESULTS}/train/{dataset}/{SAME_WEIGHTS.get(variant, variant)}/seed{seed}/final.pth"


def eval_size(variant, dataset):
    """The paper's evaluation size of `variant`, scaled to this preset's images (1.0 on real data)."""
    height, width = get_variant(variant).eval_size
    real_height = DATASETS[dataset].image_size[0]
    ours = DATA_CONFIG["synthetic"][dataset]["size"][0] if DATA_CONFIG["source"] == "synthetic" else real_height
    return round(height * ours / real_height), round(width * ours / real_height)


def evaluation(dataset, variant):
    return f"{RESULTS}/eval/{dataset}/{variant}.json"


# --- reports (report.smk) ------------------------------------------------------------------------
def table_variants(table):
    """The crosscbam variants behind the rows of a paper table."""
    return [v for v in paper_table(table)["variant"].dropna().unique()]


def table_fps(variant):
    """The FPS record a table row shows: the preset's first backend, at its first size (else the paper's)."""
    height, width = SPEED["sizes"][0] if SPEED["sizes"] else get_variant(variant).eval_size
    return f"{RESULTS}/fps/{variant}_{height}x{width}.{SPEED['backends'][0]}.json"


def table_inputs(table):
    """Every result a paper table reads: evaluations, and complexity and FPS where the table has them."""
    variants = table_variants(table)
    files = [evaluation(TABLE_DATASET[table], v) for v in variants]
    if table in ("table5", "table6"):
        files += [f"{RESULTS}/complexity/{v}.json" for v in variants]
    if "fps" in paper_table(table).columns:
        files += [table_fps(v) for v in variants]
    return files


def trained_models():
    """(dataset, variant) of every model the tables train."""
    return sorted({(TABLE_DATASET[t], SAME_WEIGHTS.get(v, v)) for t in PAPER_TABLES for v in table_variants(t)})


def ablation_pairs():
    return " ".join(f"{v}={checkpoint('cityscapes', v, FIRST_SEED)}" for v in table_variants("table4"))


def training_metrics():
    """NAME=PATH of each model's metrics.jsonl, which its training job writes beside final.pth."""
    return " ".join(f"{d}/{v}={os.path.dirname(checkpoint(d, v, FIRST_SEED))}/metrics.jsonl" for d, v in trained_models())


def all_targets():
    """Everything `snakemake` builds by default: the data, every result behind the reports, the reports."""
    tables = PAPER_TABLES + SUMMARY_TABLES
    return (
        [dataset_ready(d) for d in DATA_CONFIG["datasets"]]
        + fps_results()
        + [f"reports/{t}.{ext}" for t in tables for ext in ("csv", "md")]
        + [f"reports/figures/{f}.png" for f in FIGURES]
        + ["reports/report.html"]
    )
