"""The paper-side check of every claim in ``claims.yaml`` (the paper's text against its own tables and
the cited facts about the authors' code), one function each: the claim names its function in ``check``,
or one per reading in ``readings``. Claims that check the same thing name the same function. A function
returns the value with its arithmetic shown (:class:`~crosscbam.claim_arithmetic.Q`); the section
headings are the paper's. Every function here is named by a claim, and every name by a function
(:func:`crosscbam.claims.resolve_checks`).
"""

from __future__ import annotations

from crosscbam.claim_arithmetic import (Q, all_of, best, code, column, contains, equals, monotone, ordered, pct_more, pct_of_first,
                                        same, stage_strides, t)


# --- Abstract --------------------------------------------------------------------------------------

def abstract_m1_miou() -> Q:
    return t("table2", "Cross-CBAM-M1", "miou_test")


def m1_val_fps() -> Q:
    return t("table2", "Cross-CBAM-M1", "fps")


def l2_miou() -> Q:
    return t("table2", "Cross-CBAM-L2", "miou_test")


def l2_fps() -> Q:
    return t("table2", "Cross-CBAM-L2", "fps")


# --- 1. Introduction -------------------------------------------------------------------------------

def se_aspp_two() -> Q:
    return code("architecture.se_aspp_branch_count")


def intro_se_aspp_add() -> Q:
    return code("architecture.se_aspp_branches_are_summed")


def intro_stdc_filters_reduced() -> Q:
    return ordered(code("architecture.stdc_block_channel_divisors"), "rises")


def intro_l1_miou() -> Q:
    return t("table2", "Cross-CBAM-L1", "miou_test")


def l1_val_fps() -> Q:
    return t("table2", "Cross-CBAM-L1", "fps")


def intro_se_aspp_accuracy() -> Q:
    return t("table4", "M1-seaspp", "miou") > t("table4", "M1-baseline", "miou")


# --- 3.1 STDC --------------------------------------------------------------------------------------

def stdc_ref_miou() -> Q:
    return t("table2", "STDC1-Seg50", "miou_test")


def stdc_ref_fps() -> Q:
    return t("table2", "STDC1-Seg50", "fps")


def stdc_first_kernel() -> Q:
    return code("architecture.stdc_first_block_kernel")


def stdc_other_kernel() -> Q:
    return code("architecture.stdc_other_block_kernel")


def stdc_block_channels() -> Q:
    return code("architecture.stdc_block_channel_divisors")


def stdc_pool_size() -> Q:
    return code("architecture.stdc_skip_pool_kernel")


def stdc_fig2_stride() -> Q:
    return code("architecture.stdc_skip_pool_stride")


def stdc_concat() -> Q:
    return code("architecture.stdc_concatenates_blocks")


def stdc_channels_increase() -> Q:
    return all_of(
        ordered(column("table1", "stdc1_c"), "rises"),
        ordered(column("table1", "stdc2_c"), "rises"),
        ordered(column("table1", "output_size"), "falls"),
    )


def table1_channels() -> Q:
    return code("architecture.stdc_stage_channels")


def table1_stdc1_strides() -> Q:
    return same(stage_strides("stdc1"), code("architecture.stdc1_stage_strides"))


def table1_stdc2_strides() -> Q:
    return same(stage_strides("stdc2"), code("architecture.stdc2_stage_strides"))


def table1_stem() -> Q:
    return all_of(equals(code("architecture.stdc_stem_kernel"), 3), equals(code("architecture.stdc_stem_stride"), 2))


# --- 3.2 CCBAM -------------------------------------------------------------------------------------

def ca_reduction() -> Q:
    return code("architecture.channel_attention_reduction")


def ca_pools() -> Q:
    return code("architecture.channel_attention_pools")


def ca_sum() -> Q:
    return code("architecture.channel_attention_sum_then_sigmoid")


def sa_kernel() -> Q:
    return code("architecture.spatial_attention_kernel")


def sa_sigmoid() -> Q:
    return code("architecture.spatial_attention_sigmoid")


def ccbam_eq2() -> Q:
    return code("architecture.ccbam_cross_multiplication")


def ccbam_attention_modules() -> Q:
    return code("architecture.ccbam_attention_modules")


# --- 3.3 SE-ASPP -----------------------------------------------------------------------------------

def se_aspp_kernels() -> Q:
    return code("architecture.se_aspp_branch_kernels")


def se_aspp_rates() -> Q:
    return code("architecture.se_aspp_dilations")


def se_aspp_filters() -> Q:
    return code("architecture.se_aspp_channels")


def se_aspp_batchnorm() -> Q:
    return code("architecture.se_aspp_branches_have_batchnorm")


def se_aspp_256_tradeoff() -> Q:
    return t("table6", 256, "miou") >= best("table6", "miou")


def se_aspp_no_upsampling() -> Q:
    return code("architecture.se_aspp_has_image_pool_upsampling")


def se_gate_sigmoid() -> Q:
    return code("architecture.se_gate_activation")


def se_aspp_add_then_concat() -> Q:
    return all_of(code("architecture.se_aspp_branches_are_summed"), code("architecture.se_aspp_concat_se_and_sum"))


def se_aspp_final_conv() -> Q:
    return code("architecture.se_aspp_bottleneck_kernel")


# --- 3.4 Architecture and loss ---------------------------------------------------------------------

def arch_output_stride() -> Q:
    return code("architecture.output_stride")


def arch_stages_fused() -> Q:
    return code("architecture.decoder_fuses_stages")


def arch_m_l_backbones() -> Q:
    return all_of(
        equals(t("table2", "Cross-CBAM-M1", "backbone"), "STDC1"),
        equals(t("table2", "Cross-CBAM-M2", "backbone"), "STDC1"),
        equals(t("table2", "Cross-CBAM-L1", "backbone"), "STDC2"),
        equals(t("table2", "Cross-CBAM-L2", "backbone"), "STDC2"),
        equals(t("table3", "Cross-CBAM-M", "backbone"), "STDC1"),
        equals(t("table3", "Cross-CBAM-L", "backbone"), "STDC2"),
    )


def arch_m_faster() -> Q:
    return all_of(
        t("table2", "Cross-CBAM-M1", "fps") > t("table2", "Cross-CBAM-L1", "fps"),
        t("table2", "Cross-CBAM-M2", "fps") > t("table2", "Cross-CBAM-L2", "fps"),
        t("table3", "Cross-CBAM-M", "fps") > t("table3", "Cross-CBAM-L", "fps"),
    )


def arch_l_more_accurate() -> Q:
    return all_of(
        t("table2", "Cross-CBAM-L1", "miou_test") > t("table2", "Cross-CBAM-M1", "miou_test"),
        t("table2", "Cross-CBAM-L2", "miou_test") > t("table2", "Cross-CBAM-M2", "miou_test"),
        t("table3", "Cross-CBAM-L", "miou") > t("table3", "Cross-CBAM-M", "miou"),
    )


def loss_focal_aux() -> Q:
    return contains(code("recipe.loss_auxiliary"), ["FocalLoss"])


def loss_ce_main() -> Q:
    return contains(code("recipe.loss_decode"), ["CrossEntropyLoss"])


def loss_weights_sum() -> Q:
    return code("recipe.loss_decode_weight") + code("recipe.loss_auxiliary_weight")


def aux_head_stage() -> Q:
    return code("architecture.auxiliary_head_stage")


# --- 4.1 Datasets ----------------------------------------------------------------------------------

def cityscapes_total() -> Q:
    return Q(2975, "2975") + 500 + 1525


def cityscapes_classes() -> Q:
    return code("architecture.cityscapes_classes")


def cityscapes_resolution() -> Q:
    return t("table2", "FasterSeg", "resolution")


def camvid_total() -> Q:
    return Q(367, "367") + 101 + 233


# --- 4.2 Training and inference settings -----------------------------------------------------------

def recipe_optimizer() -> Q:
    return code("recipe.optimizer")


def recipe_momentum() -> Q:
    return code("recipe.momentum")


def recipe_weight_decay() -> Q:
    return code("recipe.weight_decay")


def recipe_batch_cityscapes_per_gpu() -> Q:
    return code("recipe.batch_per_gpu")


def recipe_batch_cityscapes_in_total() -> Q:
    return code("recipe.batch_per_gpu") * code("recipe.gpus")


def recipe_batch_camvid() -> Q:
    return code("recipe.batch_camvid")


def recipe_poly() -> Q:
    return code("recipe.lr_policy")


def recipe_power() -> Q:
    return code("recipe.poly_power")


def recipe_lr() -> Q:
    return code("recipe.lr")


def recipe_min_lr() -> Q:
    return code("recipe.min_lr")


def recipe_iterations_cityscapes() -> Q:
    return code("recipe.iterations")


def recipe_iterations_camvid() -> Q:
    return code("recipe.iterations_camvid")


def recipe_crop_cityscapes() -> Q:
    return code("recipe.crop_size")


def recipe_scale_cityscapes() -> Q:
    return code("recipe.resize_ratio")


def camvid_resolution() -> Q:
    return code("recipe.crop_camvid")


def recipe_scale_camvid() -> Q:
    return code("recipe.scale_range_camvid")


def recipe_flip() -> Q:
    return code("recipe.flip_prob")


def recipe_gpus() -> Q:
    return code("recipe.gpus")


def inference_sizes_cityscapes() -> Q:
    return all_of(
        equals(t("table2", "Cross-CBAM-M1", "resolution"), "512x1024"),
        equals(t("table2", "Cross-CBAM-L1", "resolution"), "512x1024"),
        equals(t("table2", "Cross-CBAM-M2", "resolution"), "768x1536"),
        equals(t("table2", "Cross-CBAM-L2", "resolution"), "768x1536"),
    )


# --- 4.3 Results -----------------------------------------------------------------------------------

def results_resolutions() -> Q:
    return all_of(
        equals(t("table2", "Cross-CBAM-L1", "resolution"), "512x1024"),
        equals(t("table2", "Cross-CBAM-L2", "resolution"), "768x1536"),
    )


def m1_val_miou() -> Q:
    return t("table2", "Cross-CBAM-M1", "miou_val")


def m1_vs_stdc_val() -> Q:
    return t("table2", "Cross-CBAM-M1", "miou_val") - t("table2", "STDC1-Seg50", "miou_val")


def m1_vs_stdc_test() -> Q:
    return t("table2", "Cross-CBAM-M1", "miou_test") - t("table2", "STDC1-Seg50", "miou_test")


def m1_speed_competitive() -> Q:
    return pct_of_first(t("table2", "STDC1-Seg50", "fps"), t("table2", "Cross-CBAM-M1", "fps")) <= 10


def l1_val_miou() -> Q:
    return t("table2", "Cross-CBAM-L1", "miou_val")


def l2_highest_in_series() -> Q:
    return (t("table2", "Cross-CBAM-L2", "miou_test")
            >= best("table2", "miou_test", ["Cross-CBAM-M1", "Cross-CBAM-L1", "Cross-CBAM-M2", "Cross-CBAM-L2"]))


def l2_highest_at_768x1536_test() -> Q:
    return t("table2", "Cross-CBAM-L2", "miou_test") >= best("table2", "miou_test", resolution="768x1536")


def l2_highest_at_768x1536_val() -> Q:
    return t("table2", "Cross-CBAM-L2", "miou_val") >= best("table2", "miou_val", resolution="768x1536")


def l2_similar_lspanet() -> Q:
    return abs(t("table2", "Cross-CBAM-L2", "miou_test") - t("table2", "LSPANet", "miou_test")) <= 0.5


def l2_faster_lspanet_relative_to_lspanet() -> Q:
    return pct_more(t("table2", "Cross-CBAM-L2", "fps"), t("table2", "LSPANet", "fps"))


def l2_faster_lspanet_relative_to_l2() -> Q:
    return pct_of_first(t("table2", "Cross-CBAM-L2", "fps"), t("table2", "LSPANet", "fps"))


def pp_liteseg_comparable() -> Q:
    return all_of(
        abs(t("table2", "Cross-CBAM-M1", "miou_test") - t("table2", "PP-LiteSeg-T1", "miou_test")) <= 1.5,
        abs(t("table2", "Cross-CBAM-L1", "miou_test") - t("table2", "PP-LiteSeg-B1", "miou_test")) <= 1.5,
        abs(t("table2", "Cross-CBAM-M2", "miou_test") - t("table2", "PP-LiteSeg-T2", "miou_test")) <= 1.5,
        abs(t("table2", "Cross-CBAM-L2", "miou_test") - t("table2", "PP-LiteSeg-B2", "miou_test")) <= 1.5,
    )


def pp_liteseg_faster_each() -> Q:
    return all_of(
        t("table2", "Cross-CBAM-M1", "fps") > t("table2", "PP-LiteSeg-T1", "fps"),
        t("table2", "Cross-CBAM-L1", "fps") > t("table2", "PP-LiteSeg-B1", "fps"),
        t("table2", "Cross-CBAM-M2", "fps") > t("table2", "PP-LiteSeg-T2", "fps"),
        t("table2", "Cross-CBAM-L2", "fps") > t("table2", "PP-LiteSeg-B2", "fps"),
    )


def pp_liteseg_faster_fastest() -> Q:
    return (best("table2", "fps", ["Cross-CBAM-M1", "Cross-CBAM-L1", "Cross-CBAM-M2", "Cross-CBAM-L2"])
            > best("table2", "fps", ["PP-LiteSeg-T1", "PP-LiteSeg-B1", "PP-LiteSeg-T2", "PP-LiteSeg-B2"]))


def segnext_faster_relative_to_segnext() -> Q:
    return pct_more(t("table2", "Cross-CBAM-L2", "fps"), t("table2", "SegNext-T", "fps"))


def segnext_faster_relative_to_l2() -> Q:
    return pct_of_first(t("table2", "Cross-CBAM-L2", "fps"), t("table2", "SegNext-T", "fps"))


def segnext_miou() -> Q:
    return t("table2", "SegNext-T", "miou_test") - t("table2", "Cross-CBAM-L2", "miou_test")


def segformer_inferior() -> Q:
    return t("table2", "Cross-CBAM-L2", "miou_test") < t("table2", "SegFormer", "miou_test")


def segformer_from_fps() -> Q:
    return t("table2", "SegFormer", "fps")


def segformer_gain_relative_to_segformer() -> Q:
    return pct_more(t("table2", "Cross-CBAM-L2", "fps"), t("table2", "SegFormer", "fps"))


def segformer_gain_relative_to_l2() -> Q:
    return pct_of_first(t("table2", "Cross-CBAM-L2", "fps"), t("table2", "SegFormer", "fps"))


def camvid_l_miou() -> Q:
    return t("table3", "Cross-CBAM-L", "miou")


def camvid_l_fps() -> Q:
    return t("table3", "Cross-CBAM-L", "fps")


def camvid_vs_stdc2_miou() -> Q:
    return t("table3", "Cross-CBAM-L", "miou") > t("table3", "STDC2-Seg", "miou")


def camvid_vs_stdc2_miou_and_fps() -> Q:
    return all_of(
        t("table3", "Cross-CBAM-L", "miou") > t("table3", "STDC2-Seg", "miou"),
        t("table3", "Cross-CBAM-L", "fps") > t("table3", "STDC2-Seg", "fps"),
    )


def camvid_lightweight_l() -> Q:
    return all_of(
        t("table3", "Cross-CBAM-L", "miou") > best("table3", "miou", ["ENet", "CAS", "GAS", "EDANet"]),
        t("table3", "Cross-CBAM-L", "fps") > best("table3", "fps", ["ENet", "CAS", "GAS", "EDANet"]),
    )


def camvid_lightweight_m() -> Q:
    return all_of(
        t("table3", "Cross-CBAM-M", "miou") > best("table3", "miou", ["ENet", "CAS", "GAS", "EDANet"]),
        t("table3", "Cross-CBAM-M", "fps") > best("table3", "fps", ["ENet", "CAS", "GAS", "EDANet"]),
    )


def camvid_stdc_pp_faster() -> Q:
    return all_of(
        t("table3", "STDC1-Seg", "fps") > t("table3", "Cross-CBAM-M", "fps"),
        t("table3", "PP-LiteSeg-T", "fps") > t("table3", "Cross-CBAM-M", "fps"),
        t("table3", "STDC2-Seg", "fps") > t("table3", "Cross-CBAM-L", "fps"),
        t("table3", "PP-LiteSeg-B", "fps") > t("table3", "Cross-CBAM-L", "fps"),
    )


def camvid_stdc_pp_accuracy() -> Q:
    return all_of(
        t("table3", "Cross-CBAM-M", "miou") > t("table3", "STDC1-Seg", "miou"),
        t("table3", "Cross-CBAM-M", "miou") > t("table3", "PP-LiteSeg-T", "miou"),
        t("table3", "Cross-CBAM-L", "miou") > t("table3", "STDC2-Seg", "miou"),
        t("table3", "Cross-CBAM-L", "miou") > t("table3", "PP-LiteSeg-B", "miou"),
    )


def camvid_vs_lspanet() -> Q:
    return t("table3", "Cross-CBAM-L", "miou") - t("table3", "LSPANet", "miou")


def camvid_vs_mfnet() -> Q:
    return t("table3", "Cross-CBAM-L", "miou") - t("table3", "MFNet", "miou")


def camvid_faster_lspanet_relative_to_lspanet() -> Q:
    return pct_more(t("table3", "Cross-CBAM-L", "fps"), t("table3", "LSPANet", "fps"))


def camvid_faster_lspanet_relative_to_l() -> Q:
    return pct_of_first(t("table3", "Cross-CBAM-L", "fps"), t("table3", "LSPANet", "fps"))


# --- 4.4 Ablation ----------------------------------------------------------------------------------

def ablation_setting_rates() -> Q:
    return all_of(
        equals(code("architecture.se_aspp_dilations"), [1, 3]),
        equals(code("architecture.se_aspp_channels"), 256),
        same(t("table4", "M1", "miou"), t("table5", "(1,3)", "miou")),
        same(t("table4", "M1", "miou"), t("table6", 256, "miou")),
    )


def ablation_se_aspp_over_baseline() -> Q:
    return t("table4", "M1-seaspp", "miou") - t("table4", "M1-baseline", "miou")


def ablation_both_over_ccbam() -> Q:
    return t("table4", "M1-noaux", "miou") - t("table4", "M1-ccbam", "miou")


def ablation_ccbam_over_baseline() -> Q:
    return t("table4", "M1-ccbam", "miou") - t("table4", "M1-baseline", "miou")


def ablation_ccbam_added_to_se_aspp() -> Q:
    return t("table4", "M1-noaux", "miou") - t("table4", "M1-seaspp", "miou")


def ablation_aux() -> Q:
    return all_of(
        t("table4", "M1", "miou") > t("table4", "M1-noaux", "miou"),
        t("table4", "M1", "miou") - t("table4", "M1-noaux", "miou") < 1,
    )


def rates_tried_as_all_rows() -> Q:
    return equals(column("table5", "dilations"), ["(1,3)", "(2,4)", "(3,5)", "(1,3,5)"])


def rates_tried_as_some_rows() -> Q:
    return contains(column("table5", "dilations"), ["(1,3)", "(2,4)", "(3,5)", "(1,3,5)"])


def rates_13_miou() -> Q:
    return t("table5", "(1,3)", "miou")


def rates_13_fps() -> Q:
    return t("table5", "(1,3)", "fps")


def rates_13_flops() -> Q:
    return t("table5", "(1,3)", "gflops")


def rates_13_params() -> Q:
    return t("table5", "(1,3)", "params_m")


def rates_13_resolution() -> Q:
    return t("table2", "Cross-CBAM-M1", "resolution")


def rates_35_highest() -> Q:
    return t("table5", "(3,5)", "miou") >= best("table5", "miou")


def rates_35_larger() -> Q:
    return all_of(
        t("table5", "(3,5)", "gflops") > t("table5", "(1,3)", "gflops"),
        t("table5", "(3,5)", "params_m") > t("table5", "(1,3)", "params_m"),
        t("table5", "(3,5)", "fps") < t("table5", "(1,3)", "fps"),
    )


def channels_512_miou() -> Q:
    return t("table6", 512, "miou")


def channels_second_value_256() -> Q:
    return t("table6", 256, "miou")


def channels_not_more_better() -> Q:
    return t("table6", 256, "miou") > t("table6", 512, "miou")


def channels_fewer_better_all_rows() -> Q:
    return monotone("table6", "miou", [512, 256, 128], "rises")


def channels_fewer_params() -> Q:
    return monotone("table6", "params_m", [512, 256, 128], "falls")


def channels_fewer_faster() -> Q:
    return monotone("table6", "fps", [512, 256, 128], "rises")
