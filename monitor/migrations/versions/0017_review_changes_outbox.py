"""outbox rows for the cases whose review or case changed (consumer review_changes), from triggers

Following review changes into cases joined every open case with its review (about 200k cases
at 1M reviews) on every run, to find the few whose review was raised, removed or missed by a
crawl. Triggers write an outbox row (consumer ``review_changes``, the review id) whenever a
review that has a case changes its rating, deletion, missed crawls or missing-since, and
whenever a case is opened or changes its state, rating or review; ``alerts.changes`` then looks
at those reviews only. Triggers, not the writers: the crawl's storage, case updates, bulk edits,
the demo and the tests all write these columns, and a writer that forgot to record would leave
a case behind silently. The rows that match now are queued once here.

Revision ID: 0017
Revises: 0016
"""
from alembic import op


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

_QUEUE = "INSERT INTO outbox (consumer, target_type, target_id) VALUES ('review_changes', 'review', {id})"
_REVIEW_CHANGED = ("OLD.rating IS DISTINCT FROM NEW.rating OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at "
                   "OR OLD.missed_crawls IS DISTINCT FROM NEW.missed_crawls "
                   "OR OLD.missing_since IS DISTINCT FROM NEW.missing_since")
_CASE_CHANGED = ("OLD.state IS DISTINCT FROM NEW.state OR OLD.rating IS DISTINCT FROM NEW.rating "
                 "OR OLD.review_id IS DISTINCT FROM NEW.review_id")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite spells IS DISTINCT FROM as IS NOT (3.39 knows both; older ones only IS NOT).
        review_changed = _REVIEW_CHANGED.replace("IS DISTINCT FROM", "IS NOT")
        case_changed = _CASE_CHANGED.replace("IS DISTINCT FROM", "IS NOT")
        op.execute(
            "CREATE TRIGGER review_changes_review AFTER UPDATE OF rating, deleted_at, missed_crawls, missing_since "
            f"ON review WHEN ({review_changed}) AND EXISTS (SELECT 1 FROM \"case\" WHERE review_id = NEW.id) "
            f"BEGIN {_QUEUE.format(id='NEW.id')}; END")
        op.execute(
            "CREATE TRIGGER review_changes_case_insert AFTER INSERT ON \"case\" WHEN NEW.review_id IS NOT NULL "
            f"BEGIN {_QUEUE.format(id='NEW.review_id')}; END")
        op.execute(
            "CREATE TRIGGER review_changes_case_update AFTER UPDATE OF state, rating, review_id ON \"case\" "
            f"WHEN NEW.review_id IS NOT NULL AND ({case_changed}) BEGIN {_QUEUE.format(id='NEW.review_id')}; END")
    else:
        op.execute(
            "CREATE FUNCTION review_changes_review() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF EXISTS (SELECT 1 FROM \"case\" WHERE review_id = NEW.id) THEN "
            f"{_QUEUE.format(id='NEW.id')}; END IF; RETURN NULL; END $$")
        op.execute(
            "CREATE FUNCTION review_changes_case() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"{_QUEUE.format(id='NEW.review_id')}; RETURN NULL; END $$")
        op.execute(
            "CREATE TRIGGER review_changes_review AFTER UPDATE OF rating, deleted_at, missed_crawls, missing_since "
            f"ON review FOR EACH ROW WHEN ({_REVIEW_CHANGED}) EXECUTE FUNCTION review_changes_review()")
        op.execute(
            "CREATE TRIGGER review_changes_case_insert AFTER INSERT ON \"case\" FOR EACH ROW "
            "WHEN (NEW.review_id IS NOT NULL) EXECUTE FUNCTION review_changes_case()")
        op.execute(
            "CREATE TRIGGER review_changes_case_update AFTER UPDATE OF state, rating, review_id ON \"case\" "
            f"FOR EACH ROW WHEN (NEW.review_id IS NOT NULL AND ({_CASE_CHANGED})) EXECUTE FUNCTION review_changes_case()")
    # What a run before the upgrade would still have found: unresolved cases whose review is
    # removed, raised or missing (the last check, whether staff were told, stays the consumer's).
    op.execute(
        "INSERT INTO outbox (consumer, target_type, target_id) "
        "SELECT 'review_changes', 'review', c.review_id FROM \"case\" c JOIN review r ON r.id = c.review_id "
        "WHERE c.state NOT IN ('modified', 'closed') AND (r.deleted_at IS NOT NULL OR r.rating > c.rating "
        "OR r.missed_crawls > 0)")


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE consumer = 'review_changes'")
    if op.get_bind().dialect.name == "sqlite":
        for name in ("review_changes_review", "review_changes_case_insert", "review_changes_case_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS review_changes_review ON review")
        op.execute("DROP TRIGGER IF EXISTS review_changes_case_insert ON \"case\"")
        op.execute("DROP TRIGGER IF EXISTS review_changes_case_update ON \"case\"")
        op.execute("DROP FUNCTION IF EXISTS review_changes_review()")
        op.execute("DROP FUNCTION IF EXISTS review_changes_case()")
