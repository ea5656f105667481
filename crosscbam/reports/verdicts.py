"""The tolerances, decimals and words of the reports' verdicts against the paper (Tables 2-6)."""

#: Relative tolerances for a "consistent" complexity verdict (params 0.1 %, FLOPs 0.5 %).
COMPLEXITY_TOLERANCE = {"params_m": 0.001, "gflops": 0.005}
#: mIoU tolerance in points for a "consistent" verdict (full preset only).
MIOU_TOLERANCE_POINTS = 1.0
#: Relative tolerance of our FPS ratio to the same-run reference against the paper's ratio.
FPS_RATIO_TOLERANCE = 0.10
#: Decimals kept per metric in the tables.
DECIMALS = {"gflops": 3, "params_m": 4, "miou": 2, "fps": 1, "ratio": 3}
NOT_COMPARABLE = "not comparable"
#: The verdict of a row of another method, which we do not build (the compact view leaves it blank).
NOT_BUILT = "not built here"
#: What a delta shows where ours is not comparable with the paper (never a number that looks like a match).
NOT_APPLICABLE = "n/a"


def accuracy_comparable(preset: str, data: str) -> bool:
    """Whether an accuracy of ours can be judged against the paper's (Sec. 4.1): the full preset on real data."""
    return preset == "full" and data == "real"
