"""Item pipelines, one per file, in this order: validate → normalise → dedupe → store → images."""
