"""Review detection: text models (malicious, deceptive, cause) and reviewer/attack behaviour."""

from monitor.detection.runner import DetectSummary, detect

__all__ = ["DetectSummary", "detect"]
