"""The report: figures (PNG) and a Markdown summary under results/report/.

Every number in the text comes from the benchmark CSV and the records; nothing is written by
hand. The numbers (:mod:`~yoloshrink.report.analysis`, :mod:`~yoloshrink.report.seeds`) and the
words (:mod:`~yoloshrink.report.text` and its templates) are kept apart; the figures are
:mod:`~yoloshrink.report.figures`, the tables :mod:`~yoloshrink.report.markdown`, and
:mod:`~yoloshrink.report.build` puts them together for the report rule.
"""
