-- function: sysjobs_end_and_claim_v8
DROP INDEX ix_jobs_created;
DROP INDEX ix_jobs_status_created;
DROP INDEX ix_jobs_type_created;
