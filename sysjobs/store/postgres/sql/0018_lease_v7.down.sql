-- Revision 0018 downgraded (frozen): the _v7 lease functions dropped (0017's _v6 ones stayed).

DROP FUNCTION IF EXISTS sysjobs_end_and_claim_v7(json, json, text, boolean);

DROP FUNCTION IF EXISTS sysjobs_claim_fair_v7(text, text[], text[], text[], json, int, boolean, bigint, bigint, bigint, json, json);

DROP FUNCTION IF EXISTS sysjobs_claim_batch_v7(text, text, text[], text[], int, boolean, bigint, bigint, bigint, json, int);

DROP FUNCTION IF EXISTS sysjobs_claim_take_v7(text, text, text[], text[], int, boolean, bigint, bigint, bigint);
