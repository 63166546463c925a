"""SQLModel tables. Trained classifiers are not here: they live in the model registry directory."""

from models.alerts import Alert, AlertAttempt, Silence
from models.base import UTCDateTime, utcnow
from models.cases import Case, CaseEvent
from models.catalog import Listing, ListingImage, Shop
from models.crawl import CrawlRun
from models.detection import Flag, Label, ModelVersion, ReviewBand, ReviewSignature
from models.ledger import Compensation
from models.phrasing import MessageTemplate
from models.reputation import ReputationBand, ReputationFact, ReputationShop, ReputationSnapshot, ReputationTally
from models.outbox import Outbox
from models.reviews import Review, Reviewer, ReviewRevision
from models.scheduler import JobRun, SchedulerLease
from models.users import LoginFailure, User, WebSession

__all__ = [
    "Alert",
    "AlertAttempt",
    "Case",
    "CaseEvent",
    "Compensation",
    "CrawlRun",
    "Flag",
    "JobRun",
    "Label",
    "Listing",
    "LoginFailure",
    "ListingImage",
    "MessageTemplate",
    "ModelVersion",
    "Outbox",
    "ReputationBand",
    "ReputationFact",
    "ReputationShop",
    "ReputationSnapshot",
    "ReputationTally",
    "Review",
    "ReviewBand",
    "ReviewRevision",
    "ReviewSignature",
    "Reviewer",
    "SchedulerLease",
    "Shop",
    "Silence",
    "UTCDateTime",
    "User",
    "WebSession",
    "utcnow",
]
