{#- Every data row of a landed file is either loaded into its raw table or quarantined: rows
    read = rows loaded + rows quarantined (counted in raw.quarantine). A file listed here lost
    rows at the door, or its quarantine rows went missing. -#}
select
    file_id,
    source_file,
    rows_read,
    rows_loaded,
    rows_quarantined
from {{ ref('mart_file_conservation') }}
where not is_conserved
