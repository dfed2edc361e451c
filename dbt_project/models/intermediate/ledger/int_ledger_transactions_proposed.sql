{#- The states every ledger transaction goes through, as far as this run knows. An expectation
    (of one entry or of a group) is a transaction whose entries are EXPECTED (state 1): the
    counterpart's account receives what the source account gives up, in the source's currency.
    The match that consumes it posts the transaction (state 2; PENDING while the processor still
    holds the money as pending), with every cent attributed:

      - the target account receives what actually settled, in the settlement currency;
      - the source account gives up what was expected, in its own currency;
      - when the match crossed currencies, the fx_conversion accounts turn the expected amount
        into the settlement currency at the rate the match used;
      - what settled beyond (or short of) the expected value goes to fx_gain_loss when the match
        crossed currencies, else to reconciliation_variance (a difference the rule's tolerance
        accepted);
      - the processor's fee goes from the target account to processing_fees.

    An operator's write_off (stg_resolutions__resolutions) is a transaction of its own,
    `txn|resolution|<resolution_id>`, POSTED: the difference written off leaves (or, when short,
    tops up) the target entry's account and goes to reconciliation_variance in its currency.
    force_match and link reach the ledger as matches (int_matches_assigned); the other actions
    move no money.

    A source entry a rule's `member_postings` names (a dispute inside a Stripe payout, a fee line
    of an Adyen batch) is booked on its own, `txn|booking|<entry_id>`, POSTED when it happened:
    its amount goes to the account the rule names and its fee to processing_fees, out of the
    source account (the processor's clearing), which its group's payout then leaves even.

    Balanced per currency by construction: each leg below is a pair of one debit and one credit
    of the same amount in one currency.

    A view: its one reader, fct_ledger_entry_versions, stores what it appends, so the millions of
    proposed entries of a run are never written twice (at a million orders, writing them to the
    warehouse took as long as computing them). -#}
{{ config(materialized='view') }}
{%- set booking_rules = recon_rules() | selectattr('member_postings') | list -%}
with

-- read by each reader with its own filters and columns, not copied whole first
expectations as not materialized (

    select * from {{ ref('int_expectations_created') }}

),

matches as (

    select * from {{ ref('int_matches_assigned') }}

),

entries as not materialized (

    select * from {{ ref('int_entries_unioned') }}

),

write_offs as (

    select * from {{ ref('stg_resolutions__resolutions') }}
    where action = 'write_off'
        and amount_minor <> 0

),

expected_states as (

    select
        'txn|' || expectations.expectation_id as transaction_id,
        1 as state_number,
        'EXPECTED' as status,
        expectations.expectation_id,
        expectations.rule_name,
        expectations.profile_id,
        expectations.source_entry_id,
        cast(null as varchar) as target_entry_id,
        expectations.source_account_id,
        expectations.expected_target_account_id as target_account_id,
        expectations.expected_direction as direction,
        expectations.expected_amount_minor as source_amount_minor,
        expectations.expected_currency as source_currency,
        expectations.expected_amount_minor as target_amount_minor,
        expectations.expected_currency as target_currency,
        expectations.expected_amount_minor as reference_amount_minor,
        cast(0 as bigint) as fee_minor,
        cast(null as varchar) as fx_rate,
        expectations.effective_at,
        expectations.business_date as event_date
    from expectations

),

posted_states as (

    select
        expected_states.* replace (
            2 as state_number,
            case when lower(target.status) = 'pending' then 'PENDING' else 'POSTED' end as status,
            target.entry_id as target_entry_id,
            target.account_id as target_account_id,
            matches.source_original_amount_minor as source_amount_minor,
            matches.target_amount_minor as target_amount_minor,
            matches.settlement_currency as target_currency,
            matches.source_amount_minor as reference_amount_minor,
            coalesce(matches.target_fee_minor, 0) as fee_minor,
            matches.fx_rate as fx_rate,
            target.effective_at as effective_at,
            greatest(expected_states.event_date, target.business_date) as event_date
        )
    from expected_states
    inner join matches
        on matches.expectation_id = expected_states.expectation_id
    inner join entries as target
        on target.entry_id = matches.target_entry_id

),

transactions as (

    select
        *,
        source_currency <> target_currency as is_cross_currency,
        -- what settled beyond the expected value (negative: short of it), in the target's currency
        target_amount_minor - reference_amount_minor as difference_minor,
        case when direction = 'DEBIT' then 'CREDIT' else 'DEBIT' end as opposite_direction,
        -- every entry follows from these fields, so they identify the transaction's state
        md5(
            concat_ws(
                '|', status, source_account_id, target_account_id, direction, target_entry_id,
                source_amount_minor, source_currency, target_amount_minor, target_currency,
                reference_amount_minor, fee_minor, fx_rate
            )
        ) as version_hash
    from (
        select * from expected_states
        union all
        select * from posted_states
    )

),

legs as (

    -- 1, 2: the counterpart's account receives what settled; the source account gives up what
    -- was expected
    select *, 1 as entry_index, target_account_id as account_id, direction as entry_direction,
        target_amount_minor as entry_amount_minor, target_currency as entry_currency
    from transactions
    union all
    select *, 2, source_account_id, opposite_direction, source_amount_minor, source_currency
    from transactions

    -- 3, 4: a match across currencies converts the expected amount at its rate
    union all
    select *, 3, profile_id || ':fx_conversion:' || source_currency, direction,
        source_amount_minor, source_currency
    from transactions
    where is_cross_currency
    union all
    select *, 4, profile_id || ':fx_conversion:' || target_currency, opposite_direction,
        reference_amount_minor, target_currency
    from transactions
    where is_cross_currency

    -- 5: the difference between what settled and the expected value
    union all
    select *, 5,
        profile_id || case when is_cross_currency then ':fx_gain_loss:' else ':reconciliation_variance:' end
            || target_currency,
        case when difference_minor > 0 then opposite_direction else direction end,
        abs(difference_minor), target_currency
    from transactions
    where difference_minor <> 0

    -- 6, 7: the processor keeps its fee out of the money it holds
    union all
    select *, 6, profile_id || ':processing_fees:' || target_currency, 'DEBIT', fee_minor, target_currency
    from transactions
    where fee_minor <> 0
    union all
    select *, 7, target_account_id, 'CREDIT', fee_minor, target_currency
    from transactions
    where fee_minor <> 0

),

proposed_entries as (

select
    transaction_id || '@' || state_number || '#' || entry_index as proposed_entry_id,
    transaction_id,
    state_number,
    entry_index,
    profile_id,
    rule_name,
    expectation_id,
    source_entry_id,
    target_entry_id,
    status as transaction_status,
    account_id,
    entry_direction as direction,
    cast(entry_amount_minor as bigint) as amount_minor,
    entry_currency as currency,
    status,
    fx_rate,
    effective_at,
    event_date,
    version_hash
from legs

),

write_off_transactions as (

    select
        'txn|resolution|' || write_offs.resolution_id as transaction_id,
        'resolution' as rule_name,
        write_offs.profile_id,
        write_offs.expectation_id,
        cast(null as varchar) as source_entry_id,
        write_offs.target_entry_id,
        target.account_id as target_account_id,
        write_offs.profile_id || ':reconciliation_variance:' || target.currency as variance_account_id,
        -- an excess leaves the target's account; a shortfall is made up to it
        case
            when (write_offs.amount_minor > 0) = (target.direction = 'DEBIT') then 'CREDIT'
            else 'DEBIT'
        end as target_side_direction,
        abs(write_offs.amount_minor) as amount_minor,
        target.currency,
        target.effective_at,
        target.business_date as event_date
    from write_offs
    inner join entries as target
        on target.entry_id = write_offs.target_entry_id

),

write_off_versions as (

    select
        *,
        md5(concat_ws('|', 'POSTED', target_account_id, variance_account_id, target_side_direction, amount_minor, currency))
            as version_hash
    from write_off_transactions

),

write_off_legs as (

    select *, 1 as entry_index, target_account_id as account_id, target_side_direction as entry_direction,
        amount_minor as entry_amount_minor
    from write_off_versions
    union all
    select *, 2, variance_account_id, case when target_side_direction = 'DEBIT' then 'CREDIT' else 'DEBIT' end,
        amount_minor
    from write_off_versions

),

booking_members as (

    -- the source entries of the rules that book some of their members
    select
        expectations.expectation_id,
        expectations.rule_name,
        expectations.source_account_id,
        member.entry_id
    from expectations,
        unnest(expectations.member_entry_ids) as member(entry_id)
    where expectations.rule_name in ('{{ booking_rules | map(attribute='name') | join("', '") }}')

),

bookings as (

    {#- with no rule that books, one lookup that finds nothing keeps the columns #}
    {%- for rule in booking_rules or [{'name': '', 'member_postings': [{'when': 'false', 'account': 'none'}]}] %}
    {%- for posting in rule.member_postings %}
    select
        'txn|booking|' || source.entry_id as transaction_id,
        '{{ rule.name }}' as rule_name,
        booking_members.expectation_id,
        source.entry_id as source_entry_id,
        cast(null as varchar) as target_entry_id,
        source.profile_id,
        booking_members.source_account_id,
        source.profile_id || ':{{ posting.account }}:' || source.currency as booked_account_id,
        source.direction,
        case when source.direction = 'DEBIT' then 'CREDIT' else 'DEBIT' end as opposite_direction,
        abs(source.net_minor) as net_minor,
        source.amount_minor,
        coalesce(source.fee_minor, 0) as fee_minor,
        source.currency,
        source.effective_at,
        source.business_date as event_date
    from booking_members
    inner join entries as source
        on source.entry_id = booking_members.entry_id
    where booking_members.rule_name = '{{ rule.name }}'
        and ({{ posting.when }})
    {{ 'union all' if not loop.last }}
    {%- endfor %}
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),

booking_versions as (

    select
        *,
        md5(concat_ws('|', 'POSTED', source_account_id, booked_account_id, direction, net_minor, amount_minor, fee_minor, currency))
            as version_hash
    from bookings

),

booking_legs as (

    -- the source account gives up (or, a reversal, receives) what the entry moved, net of its fee
    select *, 1 as entry_index, source_account_id as account_id, direction as entry_direction,
        net_minor as entry_amount_minor
    from booking_versions
    union all
    select *, 2, booked_account_id, opposite_direction, amount_minor
    from booking_versions
    where amount_minor <> 0
    union all
    select *, 3, profile_id || ':processing_fees:' || currency, 'DEBIT', fee_minor
    from booking_versions
    where fee_minor <> 0

),

-- write-offs and bookings: transactions of their own, in one state, POSTED
own_legs as (

    select
        transaction_id, entry_index, profile_id, rule_name, expectation_id, source_entry_id, target_entry_id,
        account_id, entry_direction, entry_amount_minor, currency, effective_at, event_date, version_hash
    from write_off_legs
    union all by name
    select
        transaction_id, entry_index, profile_id, rule_name, expectation_id, source_entry_id, target_entry_id,
        account_id, entry_direction, entry_amount_minor, currency, effective_at, event_date, version_hash
    from booking_legs

)

select * from proposed_entries
union all by name
select
    transaction_id || '@1#' || entry_index as proposed_entry_id,
    transaction_id,
    1 as state_number,
    entry_index,
    profile_id,
    rule_name,
    expectation_id,
    source_entry_id,
    target_entry_id,
    'POSTED' as transaction_status,
    account_id,
    entry_direction as direction,
    cast(entry_amount_minor as bigint) as amount_minor,
    currency,
    'POSTED' as status,
    cast(null as decimal(18, 10)) as fx_rate,
    effective_at,
    event_date,
    version_hash
from own_legs
