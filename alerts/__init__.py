"""After-sales cases and alert emails.

Rules only write Alert rows (an outbox in the database); ``alerts.sender`` claims and
delivers them, so detection and crawling never wait on a mail server.
"""
