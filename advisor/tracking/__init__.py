"""Tracking: a finished run copied into an experiment tracker (MLflow), for teams that keep
their model comparisons there. The run directory stays the record; tracking is a copy."""

from advisor.tracking.mlflow_tracking import check_mlflow, log_run

__all__ = ["check_mlflow", "log_run"]
