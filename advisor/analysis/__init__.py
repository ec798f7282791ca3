"""The decision layer: from measured strategy results to a verdict a team can act on.

evidence    per-probe correctness, costs and latencies read from the strategy results
mix         the team's workload mix: per-probe weights and where the verdict would change
statistics  intervals, the paired test, Holm's correction, probes needed
decision    the rule that picks one strategy (tie band + materiality, or value per answer)
stability   the same rule re-run on bootstrap resamples: how sure the verdict is
breakeven   query volumes where a one-off fit pays for itself
ranking     everything above assembled into the Ranking stored in results.json
verdict     the headline, the reasons and the details, in words
"""
