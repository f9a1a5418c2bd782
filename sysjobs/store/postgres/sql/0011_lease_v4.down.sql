-- Revision 0011 downgraded (frozen): the _v4 lease functions dropped (0009's _v3 ones come back from sql/0009_lease_v3.sql).

DROP FUNCTION IF EXISTS sysjobs_end_and_claim_v4(json, json, text, boolean);

DROP FUNCTION IF EXISTS sysjobs_claim_fair_v4(text, text[], text[], text[], json, int, boolean, bigint, bigint, bigint);

DROP FUNCTION IF EXISTS sysjobs_claim_batch_v4(text, text, text[], text[], int, boolean, bigint, bigint, bigint);
