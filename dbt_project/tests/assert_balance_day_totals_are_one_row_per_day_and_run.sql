-- one checkpoint per account, status, effective date and recording run
select
    account_id,
    status,
    effective_date,
    recorded_at,
    count(*) as rows_for_the_key
from {{ ref('fct_balance_day_totals') }}
group by all
having count(*) > 1
