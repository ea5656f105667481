"""The reports: our results next to the paper's (Sec. 4, Tables 2-6), for people to read.

Modules: :mod:`~crosscbam.reports.tables` (Tables 2-6 and the complexity summary, with their notes),
:mod:`~crosscbam.reports.verdicts` (tolerances, decimals and the words of a verdict),
:mod:`~crosscbam.reports.speed` (when a timing decides a verdict: noise, load, protocol; the shown
FPS ratio; the speed table), :mod:`~crosscbam.reports.markdown` (CSV + Markdown twins, the compact
view), :mod:`~crosscbam.reports.claims` (the claims audit written; the claims against our results),
:mod:`~crosscbam.reports.ablation` (Table 4 measured over seeds), :mod:`~crosscbam.reports.deployment`,
:mod:`~crosscbam.reports.figures` and :mod:`~crosscbam.reports.html` (the one-page report).
Reading result records and aggregating seeds is :mod:`crosscbam.records`'s. Nothing is imported here,
so that the workflow's ``from crosscbam.reports.ablation import STEPS`` stays light.
"""
