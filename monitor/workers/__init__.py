"""Jobs on a Redis-backed queue (Dramatiq) and the ``shopmon worker`` processes that run them.

The active scheduler decides *when* a job is due and puts it on the queue; any number of
workers, on any machines with the same settings, decide *where* it runs. Without
``workers.redis_url`` none of this is used and the scheduler runs its jobs itself.
"""
