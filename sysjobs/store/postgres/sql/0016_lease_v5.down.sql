-- Revision 0016 downgraded (frozen): the _v5 lease functions dropped (0011's _v4 ones stayed).

DROP FUNCTION IF EXISTS sysjobs_end_and_claim_v5(json, json, text, boolean);

DROP FUNCTION IF EXISTS sysjobs_claim_fair_v5(text, text[], text[], text[], json, int, boolean, bigint, bigint, bigint, json, json);

DROP FUNCTION IF EXISTS sysjobs_claim_batch_v5(text, text, text[], text[], int, boolean, bigint, bigint, bigint, json, int);

DROP FUNCTION IF EXISTS sysjobs_claim_take_v5(text, text, text[], text[], int, boolean, bigint, bigint, bigint);
