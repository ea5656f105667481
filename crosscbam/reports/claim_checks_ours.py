"""The ours-side check of every claim in ``claims.yaml`` that we measure ourselves (``ours`` in the
claim, or one function per part), one function each: the same quantity as the claim, from our results
(:class:`~crosscbam.reports.claims.Results`), joined with the paper's tables where the claim needs them
(an FPS from our same-run ratio times the paper's reference FPS). The section headings are the paper's.
Every function here is named by a claim, and every name by a function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crosscbam.claim_arithmetic import Q, all_of, t

if TYPE_CHECKING:
    from crosscbam.reports.claims import Results


# --- Abstract --------------------------------------------------------------------------------------

def abstract_m1_fps(results: Results) -> Q:
    return results.ours_fps_ratio("M1", "STDC1-Seg") * t("table2", "STDC1-Seg50", "fps")


def abstract_l2_fps(results: Results) -> Q:
    return results.ours_fps_ratio("L2", "STDC2-Seg") * t("table2", "STDC2-Seg75", "fps")


# --- 1. Introduction -------------------------------------------------------------------------------

def intro_l1_fps(results: Results) -> Q:
    return results.ours_fps_ratio("L1", "STDC2-Seg") * t("table2", "STDC2-Seg50", "fps")


# --- 3.4 Architecture and loss ---------------------------------------------------------------------

def arch_m_faster(results: Results) -> Q:
    return all_of(
        results.ours_speed("table2", "Cross-CBAM-M1", "Cross-CBAM-L1") > 1,
        results.ours_speed("table2", "Cross-CBAM-M2", "Cross-CBAM-L2") > 1,
        results.ours_speed("table3", "Cross-CBAM-M", "Cross-CBAM-L") > 1,
    )


# --- 4.3 Results -----------------------------------------------------------------------------------

def m1_val_miou(results: Results) -> Q:
    return results.ours_miou("cityscapes", "M1")


def m1_speed_competitive(results: Results) -> Q:
    return results.ours_fps_ratio("M1", "STDC1-Seg") >= 0.9


def l1_val_miou(results: Results) -> Q:
    return results.ours_miou("cityscapes", "L1")


def pp_liteseg_faster(results: Results) -> Q:
    return all_of(
        results.ours_speed("table2", "Cross-CBAM-M1", "PP-LiteSeg-T1") > 1,
        results.ours_speed("table2", "Cross-CBAM-L1", "PP-LiteSeg-B1") > 1,
        results.ours_speed("table2", "Cross-CBAM-M2", "PP-LiteSeg-T2") > 1,
        results.ours_speed("table2", "Cross-CBAM-L2", "PP-LiteSeg-B2") > 1,
    )


def segformer_gain(results: Results) -> Q:
    # (L2 - SegFormer) / L2 x 100 = (ratio - 1) / ratio x 100 with ratio = L2 / SegFormer (same run)
    ratio = results.ours_speed("table2", "Cross-CBAM-L2", "SegFormer")
    return (ratio - 1) / ratio * 100


def camvid_stdc_pp_faster(results: Results) -> Q:
    return all_of(
        results.ours_speed("table3", "STDC1-Seg", "Cross-CBAM-M") > 1,
        results.ours_speed("table3", "PP-LiteSeg-T", "Cross-CBAM-M") > 1,
        results.ours_speed("table3", "STDC2-Seg", "Cross-CBAM-L") > 1,
        results.ours_speed("table3", "PP-LiteSeg-B", "Cross-CBAM-L") > 1,
    )


# --- 4.4 Ablation ----------------------------------------------------------------------------------

def ablation_se_aspp(results: Results) -> Q:
    return results.ours_miou("cityscapes", "M1-seaspp") - results.ours_miou("cityscapes", "M1-baseline")


def ablation_ccbam(results: Results) -> Q:
    return results.ours_miou("cityscapes", "M1-ccbam") - results.ours_miou("cityscapes", "M1-baseline")


def ablation_both(results: Results) -> Q:
    return results.ours_miou("cityscapes", "M1-noaux") - results.ours_miou("cityscapes", "M1-ccbam")


def ablation_aux(results: Results) -> Q:
    return results.ours_miou("cityscapes", "M1") > results.ours_miou("cityscapes", "M1-noaux")


def rates_13_flops(results: Results) -> Q:
    return results.ours_complexity("M1", "gflops")


def rates_13_params(results: Results) -> Q:
    return results.ours_complexity("M1", "params_m")


def rates_35_larger_gflops(results: Results) -> Q:
    return results.ours_complexity("M1-d3-5", "gflops") > results.ours_complexity("M1", "gflops")


def rates_35_larger_params(results: Results) -> Q:
    return results.ours_complexity("M1-d3-5", "params_m") > results.ours_complexity("M1", "params_m")


def rates_35_larger_slower(results: Results) -> Q:
    return results.ours_fps_ratio("M1-d3-5", "STDC1-Seg") < results.ours_fps_ratio("M1", "STDC1-Seg")


def channels_fewer_params(results: Results) -> Q:
    return all_of(
        results.ours_complexity("M1-c128", "params_m") < results.ours_complexity("M1", "params_m"),
        results.ours_complexity("M1", "params_m") < results.ours_complexity("M1-c512", "params_m"),
    )
