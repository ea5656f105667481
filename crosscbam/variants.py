"""The named networks of the paper's Tables 2-6 as plain data (no torch: the workflow reads them).

A :class:`Variant` lists what differs; :func:`crosscbam.models.build_model` turns a name into a model.
Which variants share weights is derived here, once (:func:`weights_of`): M2 is M1 evaluated at
768x1536 (docs/design.md#variants), so it is trained once, as M1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from crosscbam.data import DATASETS
from crosscbam.errors import InputError


@dataclass(frozen=True)
class Variant:
    """One paper model.

    Attributes:
        backbone: ``"stdc1"`` (M) or ``"stdc2"`` (L).
        head: ``"cross_cbam"`` (Fig. 1), ``"se_aspp"`` or ``"fcn"`` (Table 4 ablations), or
            ``"stdc_seg"`` (STDC-Seg's context path + FFM + FCN head, the Table 2 speed reference).
        context: context module of the Cross-CBAM head, ``"se_aspp"`` or ``"conv"``.
        aspp_channels: C, the SE-ASPP / context width (Table 6).
        dilations: SE-ASPP rates (Table 5).
        aux_head: train with the FCN auxiliary head on stage 4.
        dataset: the dataset it is built for and trained on (its classes: :attr:`num_classes`).
        eval_size: the paper's input size (H, W) for this variant.
        rows: the paper rows that are this network: table -> its row label, or labels
            (:func:`crosscbam.tables.row_label`); a label the paper's table lacks is a row of ours only.
        description: the paper's row, for reports.
    """

    backbone: str = "stdc1"
    head: str = "cross_cbam"
    context: str = "se_aspp"
    aspp_channels: int = 256
    dilations: tuple[int, ...] = (1, 3)
    aux_head: bool = True
    dataset: str = "cityscapes"
    eval_size: tuple[int, int] = (512, 1024)
    rows: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict, compare=False)
    description: str = field(default="", compare=False)

    @property
    def num_classes(self) -> int:
        """The classes of its dataset (19 Cityscapes, 11 CamVid)."""
        return _classes(self.dataset)


def _classes(dataset: str) -> int:
    return DATASETS[dataset].num_classes


_SEG75 = (768, 1536)
_CAMVID = DATASETS["camvid"].image_size  # every Table 3 row's input: the CamVid images' own size (Sec. 4.2)

VARIANTS: dict[str, Variant] = {
    "M1": Variant(rows={"table2": "Cross-CBAM-M1", "table4": "Cross-CBAM-M1 + se_aspp + ccbam + aux_loss", "table5": "(1,3)",
                        "table6": "256"},
                  description="Cross-CBAM-M1 (Tables 2, 4-6)"),
    "L1": Variant(backbone="stdc2", rows={"table2": "Cross-CBAM-L1"}, description="Cross-CBAM-L1 (Table 2)"),
    "M2": Variant(eval_size=_SEG75, rows={"table2": "Cross-CBAM-M2"}, description="Cross-CBAM-M2 (Table 2)"),
    "L2": Variant(backbone="stdc2", eval_size=_SEG75, rows={"table2": "Cross-CBAM-L2"}, description="Cross-CBAM-L2 (Table 2)"),
    "camvid-M": Variant(dataset="camvid", eval_size=_CAMVID, rows={"table3": "Cross-CBAM-M"}, description="Cross-CBAM-M on CamVid (Table 3)"),
    "camvid-L": Variant(backbone="stdc2", dataset="camvid", eval_size=_CAMVID, rows={"table3": "Cross-CBAM-L"},
                        description="Cross-CBAM-L on CamVid (Table 3)"),
    "M1-d2-4": Variant(dilations=(2, 4), rows={"table5": "(2,4)"}, description="dilations (2,4) (Table 5)"),
    "M1-d3-5": Variant(dilations=(3, 5), rows={"table5": "(3,5)"}, description="dilations (3,5) (Table 5)"),
    "M1-d1-3-5": Variant(dilations=(1, 3, 5), rows={"table5": "(1,3,5)"}, description="dilations (1,3,5) (Table 5)"),
    "M1-d2-4-6": Variant(dilations=(2, 4, 6), rows={"table5": "(2,4,6)"}, description="dilations (2,4,6) (Table 5)"),
    "M1-c512": Variant(aspp_channels=512, rows={"table6": "512"}, description="SE-ASPP with 512 channels (Table 6)"),
    "M1-c128": Variant(aspp_channels=128, rows={"table6": "128"}, description="SE-ASPP with 128 channels (Table 6)"),
    "M1-baseline": Variant(head="fcn", aux_head=False, rows={"table4": "Baseline"},
                           description="STDC1 + FCN head (Table 4 baseline)"),
    "M1-seaspp": Variant(head="se_aspp", aux_head=False, rows={"table4": "Cross-CBAM-M1 + se_aspp"},
                         description="STDC1 + SE-ASPP (Table 4)"),
    "M1-ccbam": Variant(context="conv", aux_head=False, rows={"table4": "Cross-CBAM-M1 + ccbam"}, description="STDC1 + CCBAM (Table 4)"),
    "M1-noaux": Variant(aux_head=False, rows={"table4": "Cross-CBAM-M1 + se_aspp + ccbam"},
                        description="STDC1 + SE-ASPP + CCBAM (Table 4)"),
    # Table 4's networks for CamVid's 11 classes: the ablation on real images at CPU scale (camvid-M is its last row).
    "camvid-M-baseline": Variant(head="fcn", aux_head=False, dataset="camvid", eval_size=_CAMVID, description="STDC1 + FCN head on CamVid (Table 4 baseline)"),
    "camvid-M-seaspp": Variant(head="se_aspp", aux_head=False, dataset="camvid", eval_size=_CAMVID, description="STDC1 + SE-ASPP on CamVid (Table 4)"),
    "camvid-M-ccbam": Variant(context="conv", aux_head=False, dataset="camvid", eval_size=_CAMVID, description="STDC1 + CCBAM on CamVid (Table 4)"),
    "camvid-M-noaux": Variant(aux_head=False, dataset="camvid", eval_size=_CAMVID, description="STDC1 + SE-ASPP + CCBAM on CamVid (Table 4)"),
    "STDC1-Seg": Variant(head="stdc_seg", aux_head=False,
                         rows={"table2": ("STDC1-Seg50", "STDC1-Seg75"), "table3": "STDC1-Seg"},
                         description="STDC1-Seg inference network, same-run FPS reference (Table 2)"),
    "STDC2-Seg": Variant(backbone="stdc2", head="stdc_seg", aux_head=False,
                         rows={"table2": ("STDC2-Seg50", "STDC2-Seg75"), "table3": "STDC2-Seg"},
                         description="STDC2-Seg inference network, same-run FPS reference (Table 2)"),
}


@dataclass(frozen=True)
class Rival:
    """A rival network of Tables 2-3, built in this package (:mod:`crosscbam.models.rivals`).

    Attributes:
        dataset: the dataset of its table row: Cityscapes for a Table 2 row, CamVid for a rival that only
            Table 3 lists; it trains on either (its classes follow the dataset it is trained on).
        eval_size: the input size (H, W) of the rival's Table 2/3 row (Table 2's where both list it).
        aux_head: always ``False``: the rivals' training-only heads are not built.
        rows: the paper rows that are this network, as :attr:`Variant.rows`.
        description: the table row, for reports.
    """

    dataset: str = "cityscapes"
    eval_size: tuple[int, int] = (512, 1024)
    aux_head: bool = False
    rows: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict, compare=False)
    description: str = field(default="", compare=False)

    @property
    def num_classes(self) -> int:
        """The classes of its table row's dataset."""
        return _classes(self.dataset)


RIVALS: dict[str, Rival] = {
    "PP-LiteSeg-T": Rival(rows={"table2": ("PP-LiteSeg-T1", "PP-LiteSeg-T2"), "table3": "PP-LiteSeg-T"},
                          description="PP-LiteSeg-T (STDC1 + SPPM + UAFM decoder; Tables 2-3)"),
    "PP-LiteSeg-B": Rival(rows={"table2": ("PP-LiteSeg-B1", "PP-LiteSeg-B2"), "table3": "PP-LiteSeg-B"},
                          description="PP-LiteSeg-B (STDC2 + SPPM + UAFM decoder; Tables 2-3)"),
    "PP-LiteSeg-T-fork": Rival(description="the Cross-CBAM authors' own PP-LiteSeg port (STDC1 + FldUAFMHead of their fork)"),
    "DDRNet-23-slim": Rival(dataset="camvid", eval_size=_CAMVID, rows={"table3": "DDRNet"},
                             description="DDRNet-23-slim (dual-resolution ResNet + DAPPM; Table 3 row DDRNet)"),
    "BiSeNetV2": Rival(description="BiSeNetV2 (detail + semantic branches, guided aggregation; Tables 2-3 list its -L form)"),
    "BiSeNetV1": Rival(dataset="camvid", eval_size=_CAMVID, rows={"table3": "BiseNetV1-L"}, description="BiSeNetV1 with ResNet-18 (Table 3 row BiseNetV1-L)"),
    "SegFormer-B0": Rival(eval_size=(1024, 1024), rows={"table2": "SegFormer"}, description="SegFormer-B0 (MiT-B0 + all-MLP decoder; Table 2 row SegFormer)"),
}


def published_counts() -> dict[str, dict]:
    """What each rival's own authors publish: counts with their protocol, sources and training recipe
    (cited data, ``crosscbam/rivals.yaml``)."""
    import yaml
    from importlib import resources

    with resources.files("crosscbam").joinpath("rivals.yaml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def list_variants() -> list[str]:
    """Canonical names of every buildable network: the paper's variants, then the rivals."""
    return [*VARIANTS, *RIVALS]


def canonical_name(name: str) -> str:
    """Resolve a case-insensitive variant name; raise ``ValueError`` listing the known names."""
    by_lower = {key.lower(): key for key in list_variants()}
    try:
        return by_lower[name.lower()]
    except KeyError:
        raise InputError(f"unknown model {name!r}; known models: {', '.join(list_variants())}") from None


def get_variant(name: str) -> Variant | Rival:
    """The :class:`Variant` (or :class:`Rival`) behind a (case-insensitive) name."""
    canonical = canonical_name(name)
    return RIVALS[canonical] if canonical in RIVALS else VARIANTS[canonical]


def weights_of(name: str) -> str:
    """The variant whose trained weights ``name`` uses: the first listed variant that is the same
    network, i.e. differs at most in its paper input size (``weights_of("M2") == "M1"``)."""
    if canonical_name(name) in RIVALS:  # each rival is its own network
        return canonical_name(name)
    network = replace(get_variant(name), eval_size=(0, 0))
    return next(other for other, variant in VARIANTS.items() if replace(variant, eval_size=(0, 0)) == network)


#: Same-run speed reference of each backbone: the STDC-Seg network Table 2 compares Cross-CBAM with.
SPEED_REFERENCES = {"stdc1": "STDC1-Seg", "stdc2": "STDC2-Seg"}


def is_paper_model(name: str) -> bool:
    """Whether ``name`` is the paper's own network (Cross-CBAM or one of its ablations), not another
    method's that we build to compare with (STDC-Seg, the rivals)."""
    variant = get_variant(name)
    return isinstance(variant, Variant) and variant.head != "stdc_seg"


def speed_reference(name: str) -> str | None:
    """The STDC-Seg network with ``name``'s backbone, timed beside it; ``None`` for STDC-Seg itself
    and for the rivals (no STDC-Seg row to compare their ratio with)."""
    return SPEED_REFERENCES[get_variant(name).backbone] if is_paper_model(name) else None
