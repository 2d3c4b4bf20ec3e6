"""Events pushed to partners: signed HTTP callbacks with retries and a delivery log.

Partners used to pull their routes; with an endpoint registered they are told
when the live schedule changes for their own crews (docs/OPERATIONS.md, "Webhooks").
"""
