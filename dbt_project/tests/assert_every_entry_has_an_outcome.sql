-- Nothing is lost between staging and the outcomes: every visible entry has at least one.
select entries.entry_id
from {{ ref('int_entries_unioned') }} as entries
anti join {{ ref('fct_reconciliation_outcomes') }} as outcomes
    on outcomes.entry_id = entries.entry_id
