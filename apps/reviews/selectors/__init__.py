"""The reviews app's reads, by sub-area:

- ``access``: who may see what (the workspace's doors, and the scopes the admin applies to the same rows);
- ``workspace``: the queue, the review page, submitted reviews and their disputes;
- ``calibration``: sessions, their progress and their agreement report;
- ``reports``: the leads' QA reports, one query per section.
"""
