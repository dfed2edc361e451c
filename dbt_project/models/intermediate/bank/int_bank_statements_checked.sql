{#- Every bank statement with its check and the entries its loaded lines became (none for an
    MT942 report, whose entries are not reconciled; a PayPal download's rows for its balances),
    so that one that does not add up can be shown to finance with its lines. Statements dated
    from the window's end on are left for a later run, as entries are. -#}
with

statements as (

    select * from {{ ref('stg_bank__statements') }}
    where statement_date < {{ window_end() }}

),

statement_lines as (

    select staging_row_id, entry_id, source_name, source_entry_id from {{ ref('stg_bank__camt053_entries') }}
    union all
    select staging_row_id, entry_id, source_name, source_entry_id from {{ ref('stg_bank__mt940_entries') }}
    union all
    select staging_row_id, entry_id, source_name, source_entry_id from {{ ref('stg_bank__bai2_entries') }}
    union all
    -- a PayPal activity download checks its own running balance; its Memo rows are no entries
    select staging_row_id, entry_id, source_name, source_entry_id from {{ ref('stg_paypal__activity') }}

),

loaded_lines as (

    select
        statements.statement_key,
        loaded.staging_row_id
    from statements
    cross join unnest(statements.staging_row_ids) as loaded (staging_row_id)

),

entries_per_statement as (

    select
        loaded_lines.statement_key,
        list(statement_lines.entry_id order by statement_lines.staging_row_id) as entry_ids,
        list(
            statement_lines.source_name || ':' || statement_lines.source_entry_id
            order by statement_lines.staging_row_id
        ) as records
    from loaded_lines
    inner join statement_lines
        on statement_lines.staging_row_id = loaded_lines.staging_row_id
    group by loaded_lines.statement_key

)

select
    statements.*,
    coalesce(entries_per_statement.entry_ids, []::varchar[]) as entry_ids,
    coalesce(entries_per_statement.records, []::varchar[]) as records
from statements
left join entries_per_statement
    on entries_per_statement.statement_key = statements.statement_key
