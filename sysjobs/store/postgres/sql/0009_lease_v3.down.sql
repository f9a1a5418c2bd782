-- Revision 0009 downgraded (frozen): 0008's functions back (0008_lease.sql, applied by the
-- downgrade before this), the versioned ones dropped.

DROP FUNCTION IF EXISTS sysjobs_end_and_claim_v3(json, json, text, boolean);

DROP FUNCTION IF EXISTS sysjobs_claim_batch_v3(text, text[], text[], int, boolean, bigint, bigint, bigint);
