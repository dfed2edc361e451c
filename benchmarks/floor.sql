-- The floor: the default rule pack (macros/rules/) written by hand as one DuckDB query on the raw
-- tables, the lower bound the product's matching is measured against. The Stripe chain and the
-- PayPal rules:
--
--   1. shopify_order_to_stripe_charge (one order -> the balance transactions of one charge id,
--      so partial captures match as their sum; orders not paid with PayPal): by normalized order
--      reference, and for a charge group whose reference finds no order by customer email +
--      amount + currency; checks: currency, exact amount, 0..3 days between business dates,
--      order status paid. A charge Stripe converted (it has an exchange rate) from the order's
--      currency is compared with the order's amount converted at the ECB reference rate of the
--      order's business date (fx_convert, the project's UDF), within 3%.
--   1b. shopify_split_orders_to_stripe_charge (orders whose payment reference names a charge ->
--      that charge): grouped by the payment reference; checks: currency, the orders' sum equals
--      the charge's amount, 0..3 days.
--   2. shopify_refund_to_stripe_refund (one to one): by normalized order reference (the
--      refund's own, else its charge's); checks: currency, exact amount.
--   3. stripe_balance_to_payout (the charges, refunds and disputes a payout paid out -> the
--      payout): grouped by the payout id the payout reconciliation report gives them; checks:
--      currency, |net sum| equals the payout's amount, 0..10 days from the group's latest
--      business date.
--   4. stripe_payout_to_bank_credit (one to one, bank credits whose remittance text or debtor
--      names Stripe): by the payout id found in the remittance text (po_...), and for a credit
--      whose id finds no payout by amount + currency; checks: currency, exact amount, 0..5
--      days, Jaro-Winkler(payout id, reference) >= 0.9 (the project's UDF
--      similarity_jaro_winkler: the connection must have the UDFs registered).
--   5. shopify_order_to_paypal_payment (one to one, orders paid with PayPal): by normalized
--      invoice number, fallback payer email + amount + currency; checks: currency, exact
--      amount, 0..3 days.
--   6. shopify_refund_to_paypal_refund (one to one): by normalized invoice number; checks:
--      currency, exact amount, 0..5 days.
--   7. paypal_withdrawal_to_bank_credit (one to one, bank credits naming PayPal): by the
--      17-character transaction id found in the remittance text, fallback amount + currency;
--      checks: currency, exact amount, 0..5 days, Jaro-Winkler >= 0.9. A bank credit the
--      Stripe payout rule (higher priority) found candidates for is left to that rule.
--
-- Like the product: business dates are calendar dates in the profile's time zone (profiles
-- seed), minor units come from the currencies seed, references are normalized the same way
-- (in SQL here, by a Python UDF in the product), a group is named by its first member (by time,
-- then id) with its member count, and a target uses only the first identifier that finds
-- candidates, whether they pass or not.
--
-- Simpler than the product:
--   * one round of assignment: every target proposes to its earliest passing candidate and
--     every expectation keeps the earliest target proposing to it (min over a struct, not a
--     window); a target that lost is not retried (the product runs greedy rounds and reports
--     what is left as several candidates);
--   * matches only: no exceptions, explanations, check results, open items, chains or ledger;
--   * copies: a Stripe balance transaction delivered more than once keeps its last copy (the
--     product tells deduplicated from superseded content); orders, report lines, PayPal rows
--     and bank entries are taken as they come, which the benchmark's data allows;
--   * no chart of accounts (every account exists for the demo's currencies), no run window
--     (every raw row is inside the benchmark's window), rule priorities only where two rules
--     share entries (bank credits); the rules' profiles and filters are written out, not read.
--
-- bench.floor_matches has one row per match, named like marts.fct_matches (rule_name,
-- profile_id, source_record_id, target_record_id and both member counts); source_record_ids
-- and target_record_ids list a side's members when it has several (NULL for a single entry).
create schema if not exists bench;

create or replace table bench.floor_matches as
with

profiles as (

    select profile_id, timezone from config.profiles

),

currencies as (

    select currency_code, minor_units, cast(pow(10, minor_units) as integer) as minor_factor from config.currencies

),

reference_rates as (

    -- units per euro by publication date (euro itself is 1 on any day)
    select distinct on (currency, rate_date) upper(currency) as currency, rate_date, units_per_eur
    from raw.ecb_reference_rates
    order by currency, rate_date, _ingested_at desc

),

-- --- the entries, from the raw tables ---------------------------------------------------------

order_rows as (

    -- the first row of an order in the export carries its totals
    select
        orders._profile_id as profile_id,
        orders.name as order_name,
        upper(orders.currency) as currency,
        cast(round(orders.total * currencies.minor_factor) as bigint) as amount_minor,
        cast(round(orders.refunded_amount * currencies.minor_factor) as bigint) as refunded_minor,
        orders.created_at,
        cast(timezone(profiles.timezone, orders.created_at at time zone 'UTC') as date) as business_date,
        nullif(regexp_replace(upper(orders.name), '[\s#\-_./:]+', '', 'g'), '') as reference,
        lower(orders.email) as email,
        lower(orders.financial_status) as status,
        -- an order paid with PayPal is left to the PayPal rules
        coalesce(orders.payment_method, '') ilike '%paypal%' as paid_with_paypal,
        -- orders of one checkout paid by one charge name it
        coalesce(orders.payment_reference, '') like 'ch!_%' escape '!' as paid_with_others,
        orders.payment_reference
    from raw.shopify_orders as orders
    inner join currencies
        on currencies.currency_code = upper(orders.currency)
    inner join profiles
        on profiles.profile_id = orders._profile_id
    where orders.total is not null

),

orders as (

    select * from order_rows where status <> 'voided' and not paid_with_paypal and not paid_with_others

),

stale_copies as materialized (

    -- a balance transaction delivered more than once keeps its last copy
    select txn._profile_id, txn.id, txn._source_file, txn._source_row
    from raw.stripe_balance_transactions as txn
    semi join (
        select _profile_id, id
        from raw.stripe_balance_transactions
        group by all
        having count(*) > 1
    ) as repeated
        on repeated._profile_id = txn._profile_id
        and repeated.id = txn.id
    qualify row_number() over (
        partition by txn._profile_id, txn.id
        order by txn._ingested_at desc, txn._source_file desc, txn._source_row desc
    ) > 1

),

balance as (

    select
        txn._profile_id as profile_id,
        txn.id,
        txn.type,
        txn.source,
        abs(txn.amount) as amount_minor,
        txn.net,
        upper(txn.currency) as currency,
        txn.created,
        cast(timezone(profiles.timezone, txn.created at time zone 'UTC') as date) as business_date,
        txn.order_id as order_ref,
        lower(txn.customer_email) as email,
        txn.charge,
        txn.exchange_rate
    from raw.stripe_balance_transactions as txn
    inner join profiles
        on profiles.profile_id = txn._profile_id
    anti join stale_copies
        on stale_copies._profile_id = txn._profile_id
        and stale_copies.id = txn.id
        and stale_copies._source_file = txn._source_file
        and stale_copies._source_row = txn._source_row

),

payouts as (

    select * from balance where type = 'payout'

),

-- --- 1. order -> charge (the balance transactions of one charge id) ---------------------------

charge_groups as (

    select
        profile_id,
        currency,
        coalesce(source, id) as charge_ref,
        -- the first member (by time, then id) names the group; its references stand for it
        min(struct_pack(created, id, order_ref, email, exchange_rate)) as first_member,
        count(*) as member_count,
        cast(sum(amount_minor) as bigint) as amount_minor,
        max(created) as created,
        max(business_date) as business_date
    from balance
    where type = 'charge'
    group by all

),

charge_targets as (

    select
        profile_id,
        currency,
        charge_ref,
        first_member.id as first_id,
        member_count,
        amount_minor,
        created,
        business_date,
        nullif(regexp_replace(upper(first_member.order_ref), '[\s#\-_./:]+', '', 'g'), '') as reference,
        first_member.email,
        first_member.exchange_rate
    from charge_groups
    -- a charge that split orders name is theirs
    anti join order_rows as split_orders
        on split_orders.profile_id = charge_groups.profile_id
        and split_orders.payment_reference = charge_groups.charge_ref
        and split_orders.paid_with_others

),

charge_candidates as (

    select
        1 as identifier_rank,
        charge_targets.*,
        orders.order_name,
        orders.created_at,
        orders.currency as order_currency,
        orders.amount_minor as order_amount_minor,
        orders.business_date as order_business_date,
        orders.status
    from charge_targets
    inner join orders
        on orders.profile_id = charge_targets.profile_id
        and orders.reference = charge_targets.reference

    union all

    -- the fallback, for a group whose reference finds no order
    select
        2 as identifier_rank,
        charge_targets.*,
        orders.order_name,
        orders.created_at,
        orders.currency,
        orders.amount_minor,
        orders.business_date,
        orders.status
    from charge_targets
    inner join orders
        on orders.profile_id = charge_targets.profile_id
        and orders.email = charge_targets.email
        and orders.amount_minor = charge_targets.amount_minor
        and orders.currency = charge_targets.currency
    anti join orders as by_reference
        on by_reference.profile_id = charge_targets.profile_id
        and by_reference.reference = charge_targets.reference

),

charge_candidates_settled as (

    -- a charge Stripe converted is compared with the order converted at the reference rate
    select
        candidates.*,
        case
            when candidates.order_currency = candidates.currency then candidates.order_amount_minor
            when candidates.exchange_rate is not null then fx_convert(
                candidates.order_amount_minor, from_units.minor_units, to_units.minor_units,
                case when candidates.order_currency = 'EUR' then '1' else from_rate.units_per_eur end,
                case when candidates.currency = 'EUR' then '1' else to_rate.units_per_eur end
            )
        end as expected_minor,
        case when candidates.order_currency = candidates.currency then 0 else 3 end as tolerance_percent
    from charge_candidates as candidates
    left join currencies as from_units on from_units.currency_code = candidates.order_currency
    left join currencies as to_units on to_units.currency_code = candidates.currency
    asof left join reference_rates as from_rate
        on from_rate.currency = candidates.order_currency
        and from_rate.rate_date <= candidates.order_business_date
    asof left join reference_rates as to_rate
        on to_rate.currency = candidates.currency
        and to_rate.rate_date <= candidates.order_business_date

),

charge_proposals as (

    -- every charge group proposes to its earliest passing order
    select
        profile_id,
        first_id,
        any_value(currency) as currency,
        any_value(charge_ref) as charge_ref,
        any_value(member_count) as member_count,
        any_value(created) as created,
        min(struct_pack(identifier_rank, created_at, order_name)) as proposal
    from charge_candidates_settled
    where abs(amount_minor - expected_minor) <= floor(expected_minor * tolerance_percent / 100.0)
        and date_diff('day', order_business_date, business_date) between 0 and 3
        and status in ('paid', 'partially_refunded', 'refunded')
    group by profile_id, first_id

),

order_accepted as (

    -- and every order keeps the earliest group proposing to it
    select
        profile_id,
        proposal.order_name,
        min(
            struct_pack(
                identifier_rank := proposal.identifier_rank,
                created := created,
                first_id := first_id,
                member_count := member_count,
                currency := currency,
                charge_ref := charge_ref
            )
        ) as accepted
    from charge_proposals
    group by profile_id, proposal.order_name

),

grouped_members as (

    -- the members of the charge groups of several (partial captures)
    select
        balance.profile_id,
        balance.currency,
        coalesce(balance.source, balance.id) as charge_ref,
        list(balance.id) as member_ids
    from balance
    semi join charge_groups
        on charge_groups.profile_id = balance.profile_id
        and charge_groups.currency = balance.currency
        and charge_groups.charge_ref = coalesce(balance.source, balance.id)
        and charge_groups.member_count > 1
    where balance.type = 'charge'
    group by all

),

order_matches as (

    select
        'shopify_order_to_stripe_charge' as rule_name,
        order_accepted.profile_id,
        order_accepted.order_name as source_record_id,
        order_accepted.accepted.first_id as target_record_id,
        1 as source_member_count,
        order_accepted.accepted.member_count as target_member_count,
        cast(null as varchar[]) as source_record_ids,
        grouped_members.member_ids as target_record_ids
    from order_accepted
    left join grouped_members
        on grouped_members.profile_id = order_accepted.profile_id
        and grouped_members.currency = order_accepted.accepted.currency
        and grouped_members.charge_ref = order_accepted.accepted.charge_ref

),

-- --- 1b. orders of one checkout -> the charge that paid them -----------------------------------

split_groups as (

    select
        profile_id,
        currency,
        payment_reference,
        min(struct_pack(created_at, order_name)) as first_member,
        list(order_name order by created_at, order_name) as member_names,
        count(*) as member_count,
        cast(sum(amount_minor) as bigint) as amount_minor,
        max(business_date) as business_date
    from order_rows
    where paid_with_others and status <> 'voided' and not paid_with_paypal
    group by all

),

split_matches as (

    select
        'shopify_split_orders_to_stripe_charge' as rule_name,
        split_groups.profile_id,
        split_groups.first_member.order_name as source_record_id,
        min(struct_pack(charges.created, charges.id)).id as target_record_id,
        any_value(split_groups.member_count) as source_member_count,
        1 as target_member_count,
        any_value(split_groups.member_names) as source_record_ids,
        cast(null as varchar[]) as target_record_ids
    from split_groups
    inner join balance as charges
        on charges.profile_id = split_groups.profile_id
        and charges.source = split_groups.payment_reference
        and charges.type = 'charge'
    where charges.currency = split_groups.currency
        and charges.amount_minor = split_groups.amount_minor
        and date_diff('day', split_groups.business_date, charges.business_date) between 0 and 3
    group by split_groups.profile_id, split_groups.first_member.order_name

),

-- --- 2. refund -> refund ------------------------------------------------------------------------

charge_orders as (

    -- the order a charge's own balance transactions name, which a refund of it is for
    select
        profile_id,
        source as charge,
        min(order_ref) as order_ref
    from balance
    where type = 'charge'
    group by all

),

refund_proposals as (

    select
        refunds.profile_id,
        refunds.id,
        any_value(refunds.created) as created,
        min(struct_pack(order_rows.created_at, order_rows.order_name)) as proposal
    from balance as refunds
    left join charge_orders
        on charge_orders.profile_id = refunds.profile_id
        and charge_orders.charge = refunds.charge
    inner join order_rows
        on order_rows.profile_id = refunds.profile_id
        and order_rows.reference = nullif(
            regexp_replace(upper(coalesce(refunds.order_ref, charge_orders.order_ref)), '[\s#\-_./:]+', '', 'g'), ''
        )
    where refunds.type = 'refund'
        and order_rows.refunded_minor > 0
        and not order_rows.paid_with_paypal
        and order_rows.currency = refunds.currency
        and order_rows.refunded_minor = refunds.amount_minor
    group by refunds.profile_id, refunds.id

),

refund_matches as (

    select
        'shopify_refund_to_stripe_refund' as rule_name,
        profile_id,
        proposal.order_name as source_record_id,
        min(struct_pack(created, id)).id as target_record_id,
        1 as source_member_count,
        1 as target_member_count,
        cast(null as varchar[]) as source_record_ids,
        cast(null as varchar[]) as target_record_ids
    from refund_proposals
    group by profile_id, proposal.order_name

),

-- --- 3. balance transactions -> payout ----------------------------------------------------------

paid_out_groups as (

    select
        balance.profile_id,
        balance.currency,
        report.automatic_payout_id as payout_ref,
        min(struct_pack(balance.created, balance.id)).id as first_id,
        count(*) as member_count,
        list(balance.id) as member_ids,
        sum(balance.net) as net_minor,
        max(balance.business_date) as business_date
    from balance
    inner join raw.stripe_payout_reconciliation as report
        on report._profile_id = balance.profile_id
        and report.balance_transaction_id = balance.id
    where balance.type in ('charge', 'refund', 'adjustment')
        and report.automatic_payout_id is not null
    group by all

),

payout_proposals as (

    select
        payouts.profile_id,
        payouts.id as payout_id,
        any_value(payouts.created) as payout_created,
        min(
            struct_pack(
                business_date := paid_out_groups.business_date,
                first_id := paid_out_groups.first_id,
                member_count := paid_out_groups.member_count,
                member_ids := paid_out_groups.member_ids
            )
        ) as proposal
    from payouts
    inner join paid_out_groups
        on paid_out_groups.profile_id = payouts.profile_id
        and paid_out_groups.payout_ref = payouts.source
    where paid_out_groups.currency = payouts.currency
        and abs(paid_out_groups.net_minor) = payouts.amount_minor
        and date_diff('day', paid_out_groups.business_date, payouts.business_date) between 0 and 10
    group by payouts.profile_id, payouts.id

),

payout_matches as (

    select
        'stripe_balance_to_payout' as rule_name,
        profile_id,
        proposal.first_id as source_record_id,
        min(struct_pack(payout_created, payout_id)).payout_id as target_record_id,
        any_value(proposal.member_count) as source_member_count,
        1 as target_member_count,
        any_value(proposal.member_ids) as source_record_ids,
        cast(null as varchar[]) as target_record_ids
    from payout_proposals
    group by profile_id, proposal.first_id

),

-- --- 4. payout -> bank credit -------------------------------------------------------------------

bank_credits as (

    select
        camt._profile_id as profile_id,
        -- the bank's own reference, else the entry's, else where the entry sits in its file
        coalesce(camt.account_servicer_ref, camt.entry_ref, camt.statement_id || ':' || camt._source_row)
            as bank_entry_id,
        cast(round(camt.amount * currencies.minor_factor) as bigint) as amount_minor,
        upper(camt.currency) as currency,
        coalesce(
            camt.booking_date,
            cast(timezone(profiles.timezone, camt.booked_at at time zone 'UTC') as date)
        ) as business_date,
        coalesce(camt.booked_at, timezone('UTC', timezone(profiles.timezone, cast(camt.booking_date as timestamp))))
            as effective_at,
        camt.remittance_information as description,
        -- a bank rule looks only at the credits that name its processor
        concat_ws(' ', camt.remittance_information, camt.debtor_name) as names
    from raw.camt053 as camt
    inner join currencies
        on currencies.currency_code = upper(camt.currency)
    inner join profiles
        on profiles.profile_id = camt._profile_id
    where camt.credit_debit = 'CRDT'

),

stripe_credits as (

    select
        bank_credits.*,
        nullif(regexp_extract(bank_credits.description, 'po_[A-Za-z0-9]+'), '') as payout_ref
    from bank_credits
    where bank_credits.names ilike '%stripe%'

),

bank_candidates as (

    select
        1 as identifier_rank,
        stripe_credits.*,
        payouts.id as payout_id,
        payouts.source as payout_source,
        payouts.currency as payout_currency,
        payouts.amount_minor as payout_amount_minor,
        payouts.business_date as payout_business_date,
        payouts.created as payout_created
    from stripe_credits
    inner join payouts
        on payouts.profile_id = stripe_credits.profile_id
        and payouts.source = stripe_credits.payout_ref

    union all

    -- the fallback, for a credit whose payout id finds no payout
    select
        2 as identifier_rank,
        stripe_credits.*,
        payouts.id,
        payouts.source,
        payouts.currency,
        payouts.amount_minor,
        payouts.business_date,
        payouts.created
    from stripe_credits
    inner join payouts
        on payouts.profile_id = stripe_credits.profile_id
        and payouts.amount_minor = stripe_credits.amount_minor
        and payouts.currency = stripe_credits.currency
    anti join payouts as by_reference
        on by_reference.profile_id = stripe_credits.profile_id
        and by_reference.source = stripe_credits.payout_ref

),

bank_proposals as (

    select
        profile_id,
        bank_entry_id,
        any_value(effective_at) as effective_at,
        min(struct_pack(identifier_rank, payout_created, payout_id)) as proposal
    from bank_candidates
    where payout_currency = currency
        and payout_amount_minor = amount_minor
        and date_diff('day', payout_business_date, business_date) between 0 and 5
        and similarity_jaro_winkler(payout_source, coalesce(payout_ref, description)) >= 0.9
    group by profile_id, bank_entry_id

),

bank_matches as (

    select
        'stripe_payout_to_bank_credit' as rule_name,
        profile_id,
        proposal.payout_id as source_record_id,
        min(
            struct_pack(
                identifier_rank := proposal.identifier_rank,
                effective_at := effective_at,
                bank_entry_id := bank_entry_id
            )
        ).bank_entry_id as target_record_id,
        1 as source_member_count,
        1 as target_member_count,
        cast(null as varchar[]) as source_record_ids,
        cast(null as varchar[]) as target_record_ids
    from bank_proposals
    group by profile_id, proposal.payout_id

),

-- --- 5. PayPal order -> payment ------------------------------------------------------------------

paypal_orders as (

    select * from order_rows where status <> 'voided' and paid_with_paypal

),

paypal as (

    -- the PayPal activity rows that move money, by what they do to the balance
    select
        activity._profile_id as profile_id,
        activity.transaction_id,
        case
            when activity.type in (
                'Express Checkout Payment', 'Website Payment', 'General Payment', 'Mobile Payment',
                'Subscription Payment', 'PreApproved Payment Bill User Payment', 'Payment Received',
                'Shopping Cart Payment Received', 'Web Accept Payment Received'
            ) then 'payment'
            when activity.type in ('Payment Refund', 'Refund') then 'refund'
            when activity.type in (
                'General Withdrawal', 'Withdraw Funds to Bank Account', 'User Initiated Withdrawal',
                'Withdraw Funds to a Bank Account'
            ) then 'withdrawal'
        end as activity_type,
        abs(cast(round(activity.gross * currencies.minor_factor) as bigint)) as amount_minor,
        upper(activity.currency) as currency,
        activity.occurred_at,
        cast(timezone(profiles.timezone, activity.occurred_at at time zone 'UTC') as date) as business_date,
        nullif(regexp_replace(upper(activity.invoice_number), '[\s#\-_./:]+', '', 'g'), '') as reference,
        -- the customer pays from their address
        lower(activity.from_email) as email
    from raw.paypal_activity as activity
    inner join currencies
        on currencies.currency_code = upper(activity.currency)
    inner join profiles
        on profiles.profile_id = activity._profile_id
    where coalesce(activity.balance_impact, '') <> 'Memo'

),

paypal_payment_candidates as (

    select
        1 as identifier_rank,
        payments.*,
        paypal_orders.order_name,
        paypal_orders.created_at,
        paypal_orders.currency as order_currency,
        paypal_orders.amount_minor as order_amount_minor,
        paypal_orders.business_date as order_business_date
    from paypal as payments
    inner join paypal_orders
        on paypal_orders.profile_id = payments.profile_id
        and paypal_orders.reference = payments.reference
    where payments.activity_type = 'payment'

    union all

    -- the fallback, for a payment whose invoice number finds no order
    select
        2 as identifier_rank,
        payments.*,
        paypal_orders.order_name,
        paypal_orders.created_at,
        paypal_orders.currency,
        paypal_orders.amount_minor,
        paypal_orders.business_date
    from paypal as payments
    inner join paypal_orders
        on paypal_orders.profile_id = payments.profile_id
        and paypal_orders.email = payments.email
        and paypal_orders.amount_minor = payments.amount_minor
        and paypal_orders.currency = payments.currency
    anti join paypal_orders as by_reference
        on by_reference.profile_id = payments.profile_id
        and by_reference.reference = payments.reference
    where payments.activity_type = 'payment'

),

paypal_payment_proposals as (

    select
        profile_id,
        transaction_id,
        any_value(occurred_at) as occurred_at,
        min(struct_pack(identifier_rank, created_at, order_name)) as proposal
    from paypal_payment_candidates
    where order_currency = currency
        and order_amount_minor = amount_minor
        and date_diff('day', order_business_date, business_date) between 0 and 3
    group by profile_id, transaction_id

),

paypal_payment_matches as (

    select
        'shopify_order_to_paypal_payment' as rule_name,
        profile_id,
        proposal.order_name as source_record_id,
        min(
            struct_pack(
                identifier_rank := proposal.identifier_rank,
                occurred_at := occurred_at,
                transaction_id := transaction_id
            )
        ).transaction_id as target_record_id,
        1 as source_member_count,
        1 as target_member_count,
        cast(null as varchar[]) as source_record_ids,
        cast(null as varchar[]) as target_record_ids
    from paypal_payment_proposals
    group by profile_id, proposal.order_name

),

-- --- 6. PayPal refund -> refund -----------------------------------------------------------------

paypal_refund_proposals as (

    select
        refunds.profile_id,
        refunds.transaction_id,
        any_value(refunds.occurred_at) as occurred_at,
        min(struct_pack(order_rows.created_at, order_rows.order_name)) as proposal
    from paypal as refunds
    inner join order_rows
        on order_rows.profile_id = refunds.profile_id
        and order_rows.reference = refunds.reference
    where refunds.activity_type = 'refund'
        and order_rows.refunded_minor > 0
        and order_rows.paid_with_paypal
        and order_rows.currency = refunds.currency
        and order_rows.refunded_minor = refunds.amount_minor
        and date_diff('day', order_rows.business_date, refunds.business_date) between 0 and 5
    group by refunds.profile_id, refunds.transaction_id

),

paypal_refund_matches as (

    select
        'shopify_refund_to_paypal_refund' as rule_name,
        profile_id,
        proposal.order_name as source_record_id,
        min(struct_pack(occurred_at, transaction_id)).transaction_id as target_record_id,
        1 as source_member_count,
        1 as target_member_count,
        cast(null as varchar[]) as source_record_ids,
        cast(null as varchar[]) as target_record_ids
    from paypal_refund_proposals
    group by profile_id, proposal.order_name

),

-- --- 7. PayPal withdrawal -> bank credit --------------------------------------------------------

withdrawals as (

    select * from paypal where activity_type = 'withdrawal'

),

withdrawal_credits as (

    select
        bank_credits.*,
        nullif(regexp_extract(bank_credits.description, '\b([0-9A-Z]{17})\b', 1), '') as withdrawal_ref
    from bank_credits
    -- a credit the Stripe payout rule (which ranks higher) found candidates for is that rule's
    anti join bank_candidates
        on bank_candidates.profile_id = bank_credits.profile_id
        and bank_candidates.bank_entry_id = bank_credits.bank_entry_id
    where bank_credits.names ilike '%paypal%'

),

withdrawal_candidates as (

    select
        1 as identifier_rank,
        withdrawal_credits.*,
        withdrawals.transaction_id,
        withdrawals.currency as withdrawal_currency,
        withdrawals.amount_minor as withdrawal_amount_minor,
        withdrawals.business_date as withdrawal_business_date,
        withdrawals.occurred_at as withdrawal_at
    from withdrawal_credits
    inner join withdrawals
        on withdrawals.profile_id = withdrawal_credits.profile_id
        and withdrawals.transaction_id = withdrawal_credits.withdrawal_ref

    union all

    -- the fallback, for a credit whose transaction id finds no withdrawal
    select
        2 as identifier_rank,
        withdrawal_credits.*,
        withdrawals.transaction_id,
        withdrawals.currency,
        withdrawals.amount_minor,
        withdrawals.business_date,
        withdrawals.occurred_at
    from withdrawal_credits
    inner join withdrawals
        on withdrawals.profile_id = withdrawal_credits.profile_id
        and withdrawals.amount_minor = withdrawal_credits.amount_minor
        and withdrawals.currency = withdrawal_credits.currency
    anti join withdrawals as by_reference
        on by_reference.profile_id = withdrawal_credits.profile_id
        and by_reference.transaction_id = withdrawal_credits.withdrawal_ref

),

withdrawal_proposals as (

    select
        profile_id,
        bank_entry_id,
        any_value(effective_at) as effective_at,
        min(struct_pack(identifier_rank, withdrawal_at, transaction_id)) as proposal
    from withdrawal_candidates
    where withdrawal_currency = currency
        and withdrawal_amount_minor = amount_minor
        and date_diff('day', withdrawal_business_date, business_date) between 0 and 5
        and similarity_jaro_winkler(transaction_id, coalesce(withdrawal_ref, description)) >= 0.9
    group by profile_id, bank_entry_id

),

withdrawal_matches as (

    select
        'paypal_withdrawal_to_bank_credit' as rule_name,
        profile_id,
        proposal.transaction_id as source_record_id,
        min(
            struct_pack(
                identifier_rank := proposal.identifier_rank,
                effective_at := effective_at,
                bank_entry_id := bank_entry_id
            )
        ).bank_entry_id as target_record_id,
        1 as source_member_count,
        1 as target_member_count,
        cast(null as varchar[]) as source_record_ids,
        cast(null as varchar[]) as target_record_ids
    from withdrawal_proposals
    group by profile_id, proposal.transaction_id

)

select * from order_matches
union all
select * from split_matches
union all
select * from refund_matches
union all
select * from payout_matches
union all
select * from bank_matches
union all
select * from paypal_payment_matches
union all
select * from paypal_refund_matches
union all
select * from withdrawal_matches;
