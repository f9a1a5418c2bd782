-- Revision 0017 downgraded (frozen): the _v6 lease functions dropped (0016's _v5 ones stayed).

DROP FUNCTION IF EXISTS sysjobs_end_and_claim_v6(json, json, text, boolean);

DROP FUNCTION IF EXISTS sysjobs_claim_fair_v6(text, text[], text[], text[], json, int, boolean, bigint, bigint, bigint, json, json);

DROP FUNCTION IF EXISTS sysjobs_claim_batch_v6(text, text, text[], text[], int, boolean, bigint, bigint, bigint, json, int);

DROP FUNCTION IF EXISTS sysjobs_claim_take_v6(text, text, text[], text[], int, boolean, bigint, bigint, bigint);
