-- A match consumes one expectation and one target entry; neither may appear in two matches.
select
    'expectation' as side,
    expectation_id as consumed_id,
    count(*) as times_consumed
from {{ ref('fct_matches') }}
group by expectation_id
having count(*) > 1

union all

select
    'target' as side,
    target_entry_id as consumed_id,
    count(*) as times_consumed
from {{ ref('fct_matches') }}
group by target_entry_id
having count(*) > 1
