"""Location feeds: the payloads real trackers send, read into :class:`zones.feeds.fix.FeedFix`.

One module per protocol; none touches the web or the database.
"""
