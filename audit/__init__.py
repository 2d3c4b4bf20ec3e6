"""Who changed what and when: an append-only trail of writes to jobs, plans, visits, sites
and construction records (see docs/RELIABILITY.md, "Audit trail")."""
