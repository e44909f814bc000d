"""The audit trail: the sealer chains what requests appended (docs/audit-sealing.md)."""

from pro_server.audit.sealing import seal_job

# Often: the unsealed tail (not tamper-evident yet) is at most this old while the scheduler
# runs; `pro audit verify` and EDC reads seal on demand besides.
JOBS = (("audit-seal", seal_job, 5),)
