"""Training support: evaluation reports and the promotion gate."""
