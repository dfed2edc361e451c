-- Every version of every transaction balances: per currency, debits equal credits.
select
    transaction_id,
    version,
    currency,
    sum(case when direction = 'DEBIT' then amount_minor else -amount_minor end) as imbalance_minor
from {{ ref('fct_ledger_entry_versions') }}
group by transaction_id, version, currency
having sum(case when direction = 'DEBIT' then amount_minor else -amount_minor end) <> 0
