-- The floor: the order -> charge rule (macros/rules/shopify_order_to_stripe_charge.sql) as one
-- hand-written query on the raw tables. Exact matching only: same profile, same normalized order
-- reference (or, for a charge without one, the same customer email), same currency, same amount,
-- charge 0..3 days after the order; one-to-one.
-- Amounts: order totals are converted with 2 minor units (the demo's EUR and USD).
create schema if not exists bench;

create or replace table bench.floor_matches as
with

orders as (

    select
        _profile_id as profile_id,
        name as order_name,
        upper(currency) as currency,
        cast(round(total * 100) as bigint) as amount_minor,
        created_at,
        nullif(regexp_replace(upper(name), '[\s#\-_./:]+', '', 'g'), '') as reference,
        lower(email) as email
    from raw.shopify_orders
    where total is not null
        and coalesce(lower(financial_status), '') not in ('voided', 'pending')

),

charges as (

    select
        _profile_id as profile_id,
        id as charge_id,
        upper(currency) as currency,
        amount as amount_minor,
        created,
        nullif(
            regexp_replace(upper(json_extract_string(metadata, '$.order_id')), '[\s#\-_./:]+', '', 'g'),
            ''
        ) as reference,
        lower(json_extract_string(metadata, '$.customer_email')) as email
    from raw.stripe_balance_transactions
    where type = 'charge'

),

unreferenced_charges as (

    -- charges whose order reference finds no order: the email is the fallback
    select charges.*
    from charges
    anti join orders
        on orders.profile_id = charges.profile_id
        and orders.reference = charges.reference

),

candidates as (

    select
        orders.profile_id,
        orders.order_name,
        charges.charge_id,
        orders.created_at,
        charges.created
    from orders
    inner join charges
        on charges.profile_id = orders.profile_id
        and charges.reference = orders.reference
        and charges.currency = orders.currency
        and charges.amount_minor = orders.amount_minor
    where date_diff('day', cast(orders.created_at as date), cast(charges.created as date))
        between 0 and 3

    union all

    select
        orders.profile_id,
        orders.order_name,
        charges.charge_id,
        orders.created_at,
        charges.created
    from orders
    inner join unreferenced_charges as charges
        on charges.profile_id = orders.profile_id
        and charges.email = orders.email
        and charges.currency = orders.currency
        and charges.amount_minor = orders.amount_minor
    where date_diff('day', cast(orders.created_at as date), cast(charges.created as date))
        between 0 and 3

),

first_charge_per_order as (

    select * from candidates
    qualify row_number() over (
        partition by profile_id, order_name
        order by created, charge_id
    ) = 1

)

select profile_id, order_name, charge_id
from first_charge_per_order
qualify row_number() over (
    partition by profile_id, charge_id
    order by created_at, order_name
) = 1;
