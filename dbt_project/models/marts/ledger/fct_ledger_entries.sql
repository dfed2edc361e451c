{#- The ledger as it stands now: the entries of the latest version of every transaction. -#}
with

versions as (

    select * from {{ ref('fct_ledger_entry_versions') }}

),

latest as (

    select
        transaction_id,
        max(version) as version
    from versions
    group by transaction_id

)

select
    versions.transaction_id || '#' || versions.entry_index as ledger_entry_id,
    versions.transaction_id,
    versions.version,
    versions.entry_index,
    versions.profile_id,
    versions.rule_name,
    versions.source_entry_id,
    versions.target_entry_id,
    versions.account_id,
    versions.direction,
    versions.amount_minor,
    versions.currency,
    versions.status,
    versions.effective_at,
    versions.recorded_at
from versions
inner join latest
    on latest.transaction_id = versions.transaction_id
    and latest.version = versions.version
