"""Names the dead-code gate (vulture, see [tool.vulture] in pyproject.toml) cannot see used.

Never imported or run: vulture only reads the names below as uses. Each group says how the names
are reached; a name that is really unused does not belong here, it is deleted.
"""
# ruff: noqa
# type: ignore
_ = object()

# Counters read through dataclasses.asdict() / as_dict() (command output, logs, JSON).
_.cases_modified, _.cases_possibly_removed  # alerts.changes.ChangeCounts
_.reclaimed  # alerts.sender.SendSummary
_.imported, _.replaced, _.unchanged, _.blank, _.flags_updated  # monitor.labels.importer
_.model_versions  # monitor.detection.runner.DetectSummary
_.disagreement  # monitor.labels.queue.QueueItem (as_dict, `shopmon labels queue --json`)
_.listings_new, _.reviews_unchanged, _.images_new  # spiders.item_rows.StoreCounts

# Table columns written for the record and read by templates, exports or people with SQL.
_.fetched_at, _.recorded_at, _.decode_errors, _.revision_count, _.duration_s, _.password_changed_at
_.old_rating, _.old_text, _.old_follow_up_text, _.old_seller_reply  # ReviewRevision
_.next_cursor, _.total_text, _.severity_label, _.buyer  # board.html (BoardPage, BoardRow)
_.original_size  # monitor.listings.loading.LoadedImage

# Attributes of other libraries' objects that shopmon sets.
_.data_type, _.freeze_panes  # openpyxl (alerts.case_export)
_.policy  # email.message (alerts.render)
_._do_submit_job  # APScheduler executor override (monitor.scheduler.runner)
_.queue_prefetch  # Dramatiq's Worker reads it (monitor.workers.service)
_.persist_file, _.stat_file  # Scrapy's file-store interface (spiders.pipelines.images.ImageStoreFiles)

# Reached by a dotted string: the scheduler's job functions, the board's worker app (uvicorn).
run_task, crawl_in_child, worker_app

# Reached by value: Role("analyst").
_.ANALYST

# Used by the tests and benchmarks only: the shared-data folder, the one-call crawl of every
# shop, the DSR parser (tested on a real capture), the failure kinds every email language must
# name, text scoring without the database and the full reputation snapshot of every shop
# (monitor.reputation.store; the pipeline keeps snapshots with snapshot_changed).
shared_dir, crawl_all, parse_shop_dsr, FAILURE_KINDS, score_texts, snapshot
