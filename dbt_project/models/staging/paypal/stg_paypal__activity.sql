{#- PayPal activity download rows as staging entries. Payments and refunds move money on the
    profile's `paypal_clearing` account (the PayPal balance); a withdrawal sweeps the balance to
    the bank and is money in transit on `paypal_withdrawals`, as a Stripe payout is on
    `stripe_payouts`. Memo rows (authorizations, holds not yet taken) move no money and are left
    out. The export signs amounts from the balance's point of view; entries carry the magnitude
    and a direction. -#}
with

source as (

    select * from {{ source('raw_paypal', 'paypal_activity') }}

),

currencies as (

    select * from {{ ref('currencies') }}

),

profiles as (

    select * from {{ ref('profiles') }}

),

activity as (

    select
        source.*,
        coalesce(profiles.timezone, 'UTC') as time_zone_name,
        {{ to_minor_units('source.gross', 'currencies.minor_units') }} as gross_minor,
        {{ to_minor_units('coalesce(source.fee, 0)', 'currencies.minor_units') }}
            as signed_fee_minor,
        {{ to_minor_units('source.net', 'currencies.minor_units') }} as signed_net_minor,
        -- the export's transaction types, by what they do to the balance
        case
            when source.type in (
                'Express Checkout Payment', 'Website Payment', 'General Payment', 'Mobile Payment',
                'Subscription Payment', 'PreApproved Payment Bill User Payment', 'Payment Received',
                'Shopping Cart Payment Received', 'Web Accept Payment Received'
            ) then 'payment'
            when source.type in ('Payment Refund', 'Refund') then 'refund'
            when source.type in (
                'General Withdrawal', 'Withdraw Funds to Bank Account', 'User Initiated Withdrawal',
                'Withdraw Funds to a Bank Account'
            ) then 'withdrawal'
            else 'other'
        end as activity_type
    from source
    inner join currencies
        on currencies.currency_code = upper(source.currency)
    left join profiles
        on profiles.profile_id = source._profile_id
    where coalesce(source.balance_impact, '') <> 'Memo'

),

renamed as (

    select
        -- ids
        _file_id || ':' || _source_row as staging_row_id,
        _profile_id || ':paypal_activity:' || transaction_id as entry_id,
        'paypal_activity' as source_name,
        transaction_id as source_entry_id,
        activity_type as entry_type,
        _profile_id as profile_id,
        -- a withdrawal leaves the PayPal balance for the bank: it is money in transit
        case when activity_type = 'withdrawal' then 'paypal_withdrawals' else 'paypal_clearing' end as account_name,

        -- amounts: the export signs them from the balance's point of view; a withdrawal's net
        -- is what the money in transit account receives
        abs(gross_minor) as amount_minor,
        abs(signed_fee_minor) as fee_minor,
        case when activity_type = 'withdrawal' then abs(signed_net_minor) else signed_net_minor end as net_minor,
        upper(currency) as currency,
        -- money into the balance is a DEBIT to it, money out a CREDIT; a withdrawal is a DEBIT
        -- to the money in transit
        case
            when activity_type = 'withdrawal' then 'DEBIT'
            when coalesce(balance_impact = 'Credit', gross_minor >= 0) then 'DEBIT'
            else 'CREDIT'
        end as direction,
        lower(status) as status,

        -- timestamps: the export's local date, time and zone, read as UTC at ingest
        occurred_at as effective_at,
        {{ business_date('occurred_at', 'time_zone_name') }} as business_date,

        -- references
        invoice_number as order_ref,
        case
            when activity_type = 'payment' then transaction_id
            when activity_type = 'refund' then reference_txn_id
        end as charge_ref,
        case when activity_type = 'withdrawal' then transaction_id end as payout_ref,
        -- the customer pays from their address and is refunded to it
        case
            when activity_type = 'payment' then lower(from_email)
            when activity_type = 'refund' then lower(to_email)
        end as customer_email,
        coalesce(subject, item_title) as description,
        json_object(
            'type', type,
            'name', name,
            'balance_impact', balance_impact,
            'gross', gross,
            'fee', fee,
            'net', net,
            'balance', balance,
            'reference_txn_id', reference_txn_id,
            'receipt_id', receipt_id,
            'custom_number', custom_number,
            'from_email', from_email,
            'to_email', to_email,
            'local_time', local_time,
            'time_zone', time_zone,
            'note', note
        ) as metadata,

        -- lineage
        _source_file as source_file,
        _source_row as source_row,
        _ingested_at as ingested_at,
        _raw_hash as raw_hash
    from activity

)

select * from renamed
