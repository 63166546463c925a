"""Model registry: one folder per version, a ``LIVE`` alias per model name, rollback history.

Split by responsibility: ``layout`` (what a folder holds, metadata, small file helpers), ``aliases``
(names, the signed ``LIVE`` alias and its history), ``store`` (``Registry``: saving, loading, promoting
versions), ``skops_io`` (model files: trust checks, packed vocabularies), ``cards`` (the model card),
``mirror`` (the ``ModelVersion`` table). Many commands, pages and trainers use the registry, so its
public names are importable from here.
"""

from monitor.model_trust import ModelTrustError, RegistryError, is_trusted, trust_type
from monitor.registry.layout import PromotionRefused, VersionMeta, check_name, fingerprint_rows
from monitor.registry.mirror import sync_to_db
from monitor.registry.store import Registry, registry_for

__all__ = [
    "ModelTrustError",
    "PromotionRefused",
    "Registry",
    "RegistryError",
    "VersionMeta",
    "check_name",
    "fingerprint_rows",
    "is_trusted",
    "registry_for",
    "sync_to_db",
    "trust_type",
]
