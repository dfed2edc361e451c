{#- Row conservation per landed file: every data row the reader read is either loaded into the
    raw table or quarantined, and what the loaded rows became downstream. The quarantined rows
    are counted in the quarantine itself, not taken from the file's own record, so a file whose
    quarantine rows went missing shows as not conserved.

    Staged entries are the entries of int_entries_unioned read from the file, copies included;
    a row may give several (a Shopify order row with a refund gives the order and the refund).
    Some staging models leave rows out by design (listed in staging_design below); for those
    sources `skipped_by_staging` is the loaded rows that gave no entry. int_entries_unioned only
    holds entries of business dates before the run window's end, so a file whose days the run
    did not reach yet shows fewer staged entries. -#}
with

files as (

    select * from {{ ref('stg_ingest__ingested_files') }}

),

quarantined_rows as (

    select * from {{ ref('stg_ingest__quarantined_rows') }}

),

entries as (

    select * from {{ ref('int_entries_unioned') }}

),

staging_design as (

    -- what each source's staging makes of its raw rows, where it is not one entry (or more) per
    -- row: sources whose staging leaves some rows out, and reference tables that are not entries
    select *
    from (
        values
            ('shopify_orders', true, 'line-item rows: only the first row of an order carries its totals'),
            ('paypal_activity', true, 'Memo rows: authorizations and holds move no money'),
            ('stripe_payout_reconciliation', false, 'every row: a reference table (the payout of each balance transaction), not entries'),
            ('stripe_charges', false, 'every row: a reference table (the order id and e-mail of each charge), not entries'),
            ('mt942', false, 'every row: interim report entries, booked again on the end-of-day MT940 statement'),
            ('camt054', false, 'every row: notified entries, booked again on the end-of-day camt.053 statement'),
            ('ecb_reference_rates', false, 'every row: reference rates, not entries')
    ) as design (source_name, stages_entries, rows_left_out)

),

quarantined_per_file as (

    select
        file_id,
        count(*) as rows_quarantined
    from quarantined_rows
    group by file_id

),

staged_per_file as (

    select
        source_name,
        profile_id,
        source_file,
        count(*) as staged_entries,
        count(distinct source_row) as staged_rows
    from entries
    group by
        source_name,
        profile_id,
        source_file

),

conservation as (

    select
        -- ids
        files.file_id,
        files.source_name,
        files.profile_id,
        files.source_file,

        -- rows at the door
        files.rows_read,
        files.rows_loaded,
        coalesce(quarantined_per_file.rows_quarantined, 0) as rows_quarantined,

        -- rows downstream
        case
            when coalesce(staging_design.stages_entries, true)
                then coalesce(staged_per_file.staged_entries, 0)
        end as staged_entries,
        case
            when coalesce(staging_design.stages_entries, true)
                then coalesce(staged_per_file.staged_rows, 0)
        end as staged_rows,
        case
            when staging_design.stages_entries
                then files.rows_loaded - coalesce(staged_per_file.staged_rows, 0)
        end as skipped_by_staging,
        staging_design.rows_left_out as rows_left_out_by_staging,

        -- the invariant
        files.rows_read = files.rows_loaded + coalesce(quarantined_per_file.rows_quarantined, 0) as is_conserved,

        -- what the file settled about itself: its date format, its running balance
        files.read_decisions,

        -- lineage
        files.size_bytes,
        files.sha256,
        files.ingested_at
    from files
    left join quarantined_per_file
        on quarantined_per_file.file_id = files.file_id
    left join staged_per_file
        on staged_per_file.source_name = files.source_name
        and staged_per_file.profile_id = files.profile_id
        and staged_per_file.source_file = files.source_file
    left join staging_design
        on staging_design.source_name = files.source_name

)

select * from conservation
