"""Synthetic corpora built the way the papers built theirs: invented entities no model can know,
facts stated in controlled phrasings, and multiple-choice probes whose answers only the
documents hold. `python -m advisor.synthetic corpora` rewrites the shipped samples from a seed.
"""
