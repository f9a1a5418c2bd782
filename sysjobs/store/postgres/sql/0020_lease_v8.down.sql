-- Revision 0020 downgraded (frozen): the _v8 lease function dropped (0018's _v7 ones stayed).

DROP FUNCTION IF EXISTS sysjobs_end_and_claim_v8(json, json, text, boolean);
