"""The support desk: find a site during a live call, read its as-built notes, log the call."""
