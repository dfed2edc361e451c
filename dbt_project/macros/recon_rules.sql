{#-
  The rules engine's compiler. A rule is one macro named `rule__<name>` in `macros/rules/`,
  returning a dict with:

    name, description, profiles ('*' for all), priority (higher wins), source_account,
    target_account, window_days (how long an expectation waits for its counterpart before it
    is reported missing), overrides (names of rules this one replaces for its profiles),
    cardinality     'one_to_one' (default); 'many_to_one': source entries with the same
                    `source_group_by` value are one group matched to one target (settlement
                    lines -> payout); 'one_to_many': target entries with the same
                    `target_group_by` value are one group matched to one source (partial
                    captures -> order). A group is matched as one entry whose amount is the sum
                    of `group_amount` over its members (default: the members' amount_minor),
                    whose dates are its latest member's and whose other fields are its first
                    member's, so every match rule, the amount tolerance too, applies to groups.
                    A source entry without a group key waits alone for one (a payout is known
                    days later) and is missing once its window has passed.
    filters         SQL predicates over `source` (the source-side staging entry)
    target_filters  SQL predicates over `target` (optional)
    identifiers     ordered list of {name, source, target}: SQL expressions; the first one that
                    finds candidates is used, the next ones are fallbacks
    match_rules     list of checks that must all pass, each {name, type, ...}:
                      equals            source, target, [category]
                      amount_tolerance  absolute_minor, percent, [base: source|target]
                      date_window       min_lag_days/max_lag_days (between business dates) or
                                        min_lag_hours/max_lag_hours (between effective times)
                      contains          source (needle), target (haystack)
                      regex             target, pattern
                      fuzzy             source, target, threshold in [0, 1], [scorer:
                                        token_set (default) or jaro_winkler, the project's UDFs
                                        similarity_token_set / similarity_jaro_winkler]
                      sql               expression over `source` and `target`, [expected,
                                        actual] SQL expressions that explain a failure
                    every match rule may name the exception `category` its failure falls into
                    and the `field` it checks (reported with a metadata mismatch)
    fx              (optional) {when, tolerance_percent, rate}: a counterpart may settle in
                    another currency (when the SQL `when` over source and target holds; default
                    always). The pair is then compared in the target's currency: `source.amount_minor`
                    is the expected amount converted at the rate an operator set for this source
                    entry (seeds/fx_rate_overrides.csv), else the rule's `rate` (SQL over source),
                    else the reference rate of the source's business date; amount tolerances also
                    accept `tolerance_percent`; a check `fx_rate_available` (category
                    fx_rate_unavailable) comes first. The ledger posts the difference between
                    what settled and the converted value to fx_gain_loss.
    member_postings (optional) list of {when, account}: source entries for which the SQL `when`
                    over `source` holds are booked on their own, whatever their group's match:
                    their amount to `account` (a dispute to chargebacks, a fee line to
                    processing_fees), their fee to processing_fees, against the source account
                    (e.g. the disputes inside a Stripe payout, so the clearing account empties)

  A column a rule names as `source.<column>` or `target.<column>` must be a column of the
  entry shape (recon_entry_columns); an account must be in the chart of accounts.

  These macros turn the rules into set-based SQL; the models in intermediate/matching use them.
-#}

{#- Every rule, validated, highest priority first. -#}
{% macro recon_rules() %}
    {%- set rules = [] -%}
    {%- for definition in recon_rule_definitions() -%}
        {%- do rules.append(recon_validate_rule(definition.rule, definition.file)) -%}
    {%- endfor -%}
    {#- a rule for some profiles may replace another rule for those profiles -#}
    {%- for rule in rules -%}
        {%- for overridden in rule.overrides -%}
            {%- set targets = rules | selectattr('name', 'equalto', overridden) | list -%}
            {%- if targets | length == 0 -%}
                {{ _rule_error(rule.file, rule.name, 'overrides', "names no rule: '" ~ overridden ~ "'") }}
            {%- endif -%}
            {%- if '*' in rule.profiles -%}
                {{ _rule_error(rule.file, rule.name, 'overrides', "a rule for every profile ('*') cannot override another; list the profiles it is for") }}
            {%- endif -%}
            {%- for profile in rule.profiles -%}
                {%- do targets[0].excluded_profiles.append(profile) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- do recon_validate_accounts(rules) -%}
    {#- two rules of one priority must not both apply to a profile ('*' applies to all) -#}
    {%- for rule in rules -%}
        {%- for other in rules[:loop.index0] if other.priority == rule.priority -%}
            {%- set shared = [] -%}
            {%- for profile in rule.profiles if (profile == '*' or profile in other.profiles or '*' in other.profiles)
                and profile not in other.excluded_profiles and profile not in rule.excluded_profiles -%}
                {%- do shared.append(profile) -%}
            {%- endfor -%}
            {%- if shared -%}
                {{ exceptions.raise_compiler_error(
                    "Rule '" ~ rule.name ~ "' (" ~ rule.file ~ "), field 'priority': priority "
                    ~ rule.priority ~ " is already used by rule '" ~ other.name ~ "' for profile(s) "
                    ~ shared | join(', ') ~ ". Give each rule of a profile its own priority.") }}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(rules | sort(attribute='priority', reverse=true)) }}
{% endmacro %}

{#- Every rule macro's dict with the file it is in. A dbt unit test may override this macro
    with its own rules ([{file: ..., rule: {...}}]) to test an operator or a cardinality. -#}
{% macro recon_rule_definitions() %}
    {%- set definitions = [] -%}
    {%- for macro_name in context.keys() | sort if macro_name.startswith('rule__') -%}
        {%- set macro = context[macro_name] -%}
        {%- set rule_file = macro.macro.original_file_path if macro.macro is defined else macro_name -%}
        {%- do definitions.append({'file': rule_file, 'rule': macro()}) -%}
    {%- endfor -%}
    {{ return(definitions) }}
{% endmacro %}

{% macro _rule_error(rule_file, rule_name, field, message) %}
    {{ exceptions.raise_compiler_error("Rule '" ~ rule_name ~ "' (" ~ rule_file ~ "), field '" ~ field ~ "': " ~ message) }}
{% endmacro %}

{% macro recon_validate_rule(rule, rule_file) %}
    {%- set _rule_keys = ['name', 'priority', 'source_account', 'target_account', 'identifiers', 'match_rules'] -%}
    {%- set _match_rule_types = ['equals', 'amount_tolerance', 'date_window', 'contains', 'regex', 'fuzzy', 'sql'] -%}
    {%- if rule is not mapping -%}
        {{ _rule_error(rule_file, '?', 'return', 'the rule macro must return a dict') }}
    {%- endif -%}
    {%- for key in _rule_keys if key not in rule -%}
        {{ _rule_error(rule_file, rule.get('name', '?'), key, 'is required') }}
    {%- endfor -%}
    {%- if rule.get('profiles', ['*']) is string or rule.get('profiles', ['*']) is not sequence or rule.get('profiles', ['*']) | length == 0 -%}
        {{ _rule_error(rule_file, rule.get('name', '?'), 'profiles', "must be a list of profile ids, or ['*'] for every profile") }}
    {%- endif -%}
    {%- if rule.priority is not number -%}
        {{ _rule_error(rule_file, rule.name, 'priority', 'must be an integer, got ' ~ rule.priority) }}
    {%- endif -%}
    {%- set cardinality = rule.get('cardinality', 'one_to_one') -%}
    {%- if cardinality not in ['one_to_one', 'one_to_many', 'many_to_one'] -%}
        {{ _rule_error(rule_file, rule.name, 'cardinality', "must be one_to_one, one_to_many or many_to_one, got '" ~ cardinality ~ "'") }}
    {%- endif -%}
    {%- if cardinality == 'many_to_one' and not rule.get('source_group_by') -%}
        {{ _rule_error(rule_file, rule.name, 'source_group_by', 'is required for a many_to_one rule: the source expression whose value groups the entries') }}
    {%- endif -%}
    {%- if cardinality == 'one_to_many' and not rule.get('target_group_by') -%}
        {{ _rule_error(rule_file, rule.name, 'target_group_by', 'is required for a one_to_many rule: the target expression whose value groups the entries') }}
    {%- endif -%}
    {%- if rule.get('overrides', []) is string -%}
        {{ _rule_error(rule_file, rule.name, 'overrides', 'must be a list of rule names') }}
    {%- endif -%}
    {%- if rule.identifiers | length == 0 -%}
        {{ _rule_error(rule_file, rule.name, 'identifiers', 'needs at least one identifier') }}
    {%- endif -%}
    {%- for identifier in rule.identifiers -%}
        {%- if 'source' not in identifier or 'target' not in identifier or 'name' not in identifier -%}
            {{ _rule_error(rule_file, rule.name, 'identifiers[' ~ loop.index0 ~ ']', 'needs a name, a source and a target expression') }}
        {%- endif -%}
    {%- endfor -%}
    {%- for match_rule in rule.match_rules -%}
        {%- set where = 'match_rules[' ~ loop.index0 ~ ']' -%}
        {%- if match_rule.get('type') not in _match_rule_types -%}
            {{ _rule_error(rule_file, rule.name, where ~ '.type', "unknown type '" ~ match_rule.get('type') ~ "'; use one of " ~ _match_rule_types | join(', ')) }}
        {%- endif -%}
        {%- set needed = {
            'equals': ['source', 'target'], 'contains': ['source', 'target'],
            'fuzzy': ['source', 'target', 'threshold'], 'regex': ['target', 'pattern'],
            'sql': ['expression'], 'amount_tolerance': [], 'date_window': [],
        }[match_rule.type] -%}
        {%- for key in needed if key not in match_rule -%}
            {{ _rule_error(rule_file, rule.name, where ~ '.' ~ key, "is required for a '" ~ match_rule.type ~ "' match rule") }}
        {%- endfor -%}
        {%- if 'name' not in match_rule -%}
            {{ _rule_error(rule_file, rule.name, where ~ '.name', 'is required') }}
        {%- endif -%}
        {%- if match_rule.type == 'amount_tolerance' -%}
            {%- if match_rule.get('percent', 0) < 0 or match_rule.get('percent', 0) > 100 -%}
                {{ _rule_error(rule_file, rule.name, where ~ '.percent', 'must be between 0 and 100, got ' ~ match_rule.percent) }}
            {%- endif -%}
            {%- if match_rule.get('absolute_minor', 0) < 0 -%}
                {{ _rule_error(rule_file, rule.name, where ~ '.absolute_minor', 'must not be negative, got ' ~ match_rule.absolute_minor) }}
            {%- endif -%}
        {%- endif -%}
        {%- if match_rule.type == 'fuzzy' and match_rule.get('scorer', 'token_set') not in ['token_set', 'jaro_winkler'] -%}
            {{ _rule_error(rule_file, rule.name, where ~ '.scorer', "must be token_set or jaro_winkler, got '" ~ match_rule.scorer ~ "'") }}
        {%- endif -%}
        {%- if match_rule.type == 'fuzzy' and (match_rule.get('threshold', -1) < 0 or match_rule.get('threshold', -1) > 1) -%}
            {{ _rule_error(rule_file, rule.name, where ~ '.threshold', 'must be between 0 and 1, got ' ~ match_rule.get('threshold')) }}
        {%- endif -%}
    {%- endfor -%}
    {%- set fx = rule.get('fx') -%}
    {%- if fx is not none -%}
        {%- if fx is not mapping -%}
            {{ _rule_error(rule_file, rule.name, 'fx', 'must be a dict: {when, tolerance_percent, rate}') }}
        {%- endif -%}
        {%- for key in fx if key not in ['when', 'tolerance_percent', 'rate'] -%}
            {{ _rule_error(rule_file, rule.name, 'fx.' ~ key, 'is not an fx setting; use when, tolerance_percent or rate') }}
        {%- endfor -%}
        {%- if fx.get('tolerance_percent', 0) is not number or fx.get('tolerance_percent', 0) < 0 or fx.get('tolerance_percent', 0) > 100 -%}
            {{ _rule_error(rule_file, rule.name, 'fx.tolerance_percent', 'must be between 0 and 100, got ' ~ fx.get('tolerance_percent')) }}
        {%- endif -%}
        {%- set fx = {'when': fx.get('when', 'true'), 'tolerance_percent': fx.get('tolerance_percent', 0), 'rate': fx.get('rate')} -%}
    {%- endif -%}
    {%- if rule.get('window_days', 0) < 0 -%}
        {{ _rule_error(rule_file, rule.name, 'window_days', 'must not be negative') }}
    {%- endif -%}
    {%- set member_postings = rule.get('member_postings', []) -%}
    {%- if member_postings is string or member_postings is mapping -%}
        {{ _rule_error(rule_file, rule.name, 'member_postings', 'must be a list of {when, account}') }}
    {%- endif -%}
    {%- for posting in member_postings -%}
        {%- if posting is not mapping or 'when' not in posting or 'account' not in posting -%}
            {{ _rule_error(rule_file, rule.name, 'member_postings[' ~ loop.index0 ~ ']', 'needs a `when` (SQL over source) and an `account`') }}
        {%- endif -%}
    {%- endfor -%}
    {%- set validated = {
        'name': rule.name,
        'description': rule.get('description', ''),
        'file': rule_file,
        'profiles': rule.get('profiles', ['*']),
        'priority': rule.priority,
        'source_account': rule.source_account,
        'target_account': rule.target_account,
        'cardinality': cardinality,
        'source_group_by': rule.get('source_group_by'),
        'target_group_by': rule.get('target_group_by'),
        'group_amount': rule.get('group_amount', 'amount_minor'),
        'overrides': rule.get('overrides', []),
        'excluded_profiles': [],
        'window_days': rule.get('window_days', 3),
        'filters': rule.get('filters', []),
        'target_filters': rule.get('target_filters', []),
        'identifiers': rule.identifiers,
        'match_rules': rule.match_rules,
        'fx': fx,
        'member_postings': member_postings,
    } -%}
    {%- do recon_validate_columns(validated) -%}
    {%- if fx -%}
        {#- a pair that crosses currencies needs a rate before any amount can be compared -#}
        {%- do validated.update({'match_rules': [{
            'name': 'fx_rate_available', 'type': 'sql', 'field': 'currency',
            'expression': 'source.original_currency = source.currency or source.amount_minor is not null',
            'expected': "source.original_currency || ' -> ' || source.currency",
            'actual': "case when source.amount_minor is null then 'no rate' else cast(source.fx_rate as varchar) end",
            'category': 'fx_rate_unavailable',
        }] + rule.match_rules}) -%}
    {%- endif -%}
    {{ return(validated) }}
{% endmacro %}

{#- The columns of an entry (int_entries_unioned) that rules may name. -#}
{% macro recon_entry_columns() %}
    {{ return([
        'entry_id', 'original_entry_id', 'source_name', 'source_entry_id', 'entry_type', 'profile_id',
        'merchant_id', 'organization_id', 'account_name', 'account_id', 'amount_minor', 'fee_minor',
        'net_minor', 'currency', 'direction', 'status', 'effective_at', 'business_date', 'order_ref',
        'charge_ref', 'charge_order_ref', 'payout_ref', 'customer_email', 'description', 'metadata', 'copy_status',
        'is_duplicate', 'duplicate_of', 'is_reconcilable', 'source_file', 'source_row', 'ingested_at',
        'raw_hash',
    ]) }}
{% endmacro %}

{#- Every `source.<column>` and `target.<column>` a rule's SQL names must exist. -#}
{% macro recon_validate_columns(rule) %}
    {%- set columns = recon_entry_columns() -%}
    {%- set fields = [] -%}
    {%- for filter in rule.filters -%}{%- do fields.append(['filters[' ~ loop.index0 ~ ']', filter]) -%}{%- endfor -%}
    {%- for filter in rule.target_filters -%}{%- do fields.append(['target_filters[' ~ loop.index0 ~ ']', filter]) -%}{%- endfor -%}
    {%- for identifier in rule.identifiers -%}
        {%- do fields.append(['identifiers[' ~ loop.index0 ~ '].source', identifier.source]) -%}
        {%- do fields.append(['identifiers[' ~ loop.index0 ~ '].target', identifier.target]) -%}
    {%- endfor -%}
    {%- for match_rule in rule.match_rules -%}
        {%- set where = 'match_rules[' ~ loop.index0 ~ '].' -%}
        {%- for key in ['source', 'target', 'expression', 'expected', 'actual'] if match_rule.get(key) is string -%}
            {%- do fields.append([where ~ key, match_rule[key]]) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for key in ['source_group_by', 'target_group_by'] if rule[key] -%}
        {%- do fields.append([key, rule[key]]) -%}
    {%- endfor -%}
    {%- for key in ['when', 'rate'] if rule.fx and rule.fx[key] -%}
        {%- do fields.append(['fx.' ~ key, rule.fx[key]]) -%}
    {%- endfor -%}
    {%- for posting in rule.member_postings -%}
        {%- do fields.append(['member_postings[' ~ loop.index0 ~ '].when', posting.when]) -%}
    {%- endfor -%}
    {%- for where, expression in fields -%}
        {%- for reference in modules.re.findall('\\b(?:source|target)\\.([A-Za-z_][A-Za-z0-9_]*)', expression) if reference not in columns -%}
            {{ _rule_error(rule.file, rule.name, where, "unknown column '" ~ reference ~ "' in: " ~ expression ~ ". Entries have: " ~ columns | join(', ')) }}
        {%- endfor -%}
    {%- endfor -%}
    {%- if rule.group_amount not in columns -%}
        {{ _rule_error(rule.file, rule.name, 'group_amount', "unknown column '" ~ rule.group_amount ~ "'; use an amount column such as amount_minor or net_minor") }}
    {%- endif -%}
{% endmacro %}

{#- Every account a rule names must be in the chart of accounts (the default chart and the
    profiles' own accounts, seeds/account_defaults.csv and seeds/accounts.csv), once it has been
    loaded: a run loads it first, and `recon rules check` loads it in its scratch home. -#}
{% macro recon_validate_accounts(rules) %}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set schema = generate_schema_name('config', none) -%}
    {%- set relations = [] -%}
    {%- for seed in ['account_defaults', 'accounts'] -%}
        {%- set relation = adapter.get_relation(database=target.database, schema=schema, identifier=seed) -%}
        {%- if relation is not none -%}{%- do relations.append('select account_name from ' ~ relation) -%}{%- endif -%}
    {%- endfor -%}
    {%- if relations | length < 2 -%}{{ return(none) }}{%- endif -%}
    {%- set known = run_query('select distinct account_name from (' ~ relations | join(' union all ') ~ ')').columns[0].values() -%}
    {%- for rule in rules -%}
        {%- set named = [['source_account', rule.source_account], ['target_account', rule.target_account]] -%}
        {%- for posting in rule.member_postings -%}
            {%- do named.append(['member_postings[' ~ loop.index0 ~ '].account', posting.account]) -%}
        {%- endfor -%}
        {%- for field, account in named if account not in known -%}
            {{ _rule_error(rule.file, rule.name, field, "unknown account '" ~ account ~ "'; the chart of accounts (seeds/account_defaults.csv, seeds/accounts.csv) has: " ~ known | sort | join(', ')) }}
        {%- endfor -%}
    {%- endfor -%}
{% endmacro %}

{#- The largest number of identifiers any rule has: expectations carry that many columns. -#}
{% macro recon_identifier_count() %}
    {%- set counts = [1] -%}
    {%- for rule in recon_rules() -%}{%- do counts.append(rule.identifiers | length) -%}{%- endfor -%}
    {{ return(counts | max) }}
{% endmacro %}

{% macro _profile_scope(rule, alias) -%}
    {%- if '*' in rule.profiles -%}true{%- else -%}{{ alias }}.profile_id in ('{{ rule.profiles | join("', '") }}'){%- endif -%}
    {%- if rule.excluded_profiles %} and {{ alias }}.profile_id not in ('{{ rule.excluded_profiles | join("', '") }}'){%- endif -%}
{%- endmacro %}

{#- Does the rule apply to the source-side entry `source`? -#}
{% macro recon_rule_applies_to_source(rule) -%}
    (
        source.account_name = '{{ rule.source_account }}'
        and {{ _profile_scope(rule, 'source') }}
        {%- for filter in rule.filters %}
        and ({{ filter }})
        {%- endfor %}
    )
{%- endmacro %}

{#- Is the entry `target` one the rule looks for counterparts among? -#}
{% macro recon_rule_applies_to_target(rule) -%}
    (
        target.account_name = '{{ rule.target_account }}'
        and {{ _profile_scope(rule, 'target') }}
        {%- for filter in rule.target_filters %}
        and ({{ filter }})
        {%- endfor %}
    )
{%- endmacro %}

{#- One match rule as a struct: its name, type, whether it passed, the exception category a
    failure falls into, and the expected (source) and actual (target) values. -#}
{% macro recon_match_rule_result(match_rule, fx=none) -%}
    {%- set type = match_rule.type -%}
    {%- if type == 'equals' -%}
        {%- set passed = 'coalesce((' ~ match_rule.source ~ ') = (' ~ match_rule.target ~ '), false)' -%}
        {%- set expected = match_rule.source -%}
        {%- set actual = match_rule.target -%}
        {%- set category = "'" ~ match_rule.get('category', 'metadata_mismatch') ~ "'" -%}
    {%- elif type == 'amount_tolerance' -%}
        {%- set base = 'target.amount_minor' if match_rule.get('base') == 'target' else 'source.amount_minor' -%}
        {%- set tolerance = 'greatest(' ~ match_rule.get('absolute_minor', 0) ~ ', floor(' ~ base ~ ' * ' ~ match_rule.get('percent', 0) ~ ' / 100.0))' -%}
        {%- if fx and fx.tolerance_percent -%}
            {#- a converted amount may also differ by the conversion's own tolerance -#}
            {%- set tolerance = 'case when source.fx_rate is null then ' ~ tolerance ~ ' else greatest(' ~ tolerance ~ ', floor(' ~ base ~ ' * ' ~ fx.tolerance_percent ~ ' / 100.0)) end' -%}
        {%- endif -%}
        {%- set passed = 'coalesce(abs(target.amount_minor - source.amount_minor) <= ' ~ tolerance ~ ', false)' -%}
        {%- set expected = 'source.amount_minor' -%}
        {%- set actual = 'target.amount_minor' -%}
        {%- if 'category' in match_rule -%}
            {%- set category = "'" ~ match_rule.category ~ "'" -%}
        {%- else -%}
            {%- set category = "case when target.amount_minor > source.amount_minor then 'amount_over' else 'amount_under' end" -%}
        {%- endif -%}
    {%- elif type == 'date_window' -%}
        {%- if 'min_lag_hours' in match_rule or 'max_lag_hours' in match_rule -%}
            {%- set lag = "(epoch(target.effective_at) - epoch(source.effective_at)) / 3600.0" -%}
            {%- set low = match_rule.get('min_lag_hours', 0) -%}
            {%- set high = match_rule.get('max_lag_hours', 24) -%}
        {%- else -%}
            {%- set lag = "date_diff('day', source.business_date, target.business_date)" -%}
            {%- set low = match_rule.get('min_lag_days', 0) -%}
            {%- set high = match_rule.get('max_lag_days', 0) -%}
        {%- endif -%}
        {%- set passed = 'coalesce(' ~ lag ~ ' between ' ~ low ~ ' and ' ~ high ~ ', false)' -%}
        {%- set expected = "'lag ' || '" ~ low ~ ".." ~ high ~ "'" -%}
        {%- set actual = "'lag ' || " ~ lag -%}
        {%- set category = "'" ~ match_rule.get('category', 'date_out_of_window') ~ "'" -%}
    {%- elif type == 'contains' -%}
        {%- set passed = 'coalesce(contains(upper(' ~ match_rule.target ~ '), upper(' ~ match_rule.source ~ ')), false)' -%}
        {%- set expected = match_rule.source -%}
        {%- set actual = match_rule.target -%}
        {%- set category = "'" ~ match_rule.get('category', 'metadata_mismatch') ~ "'" -%}
    {%- elif type == 'regex' -%}
        {%- set passed = "coalesce(regexp_matches(" ~ match_rule.target ~ ", '" ~ match_rule.pattern | replace("'", "''") ~ "'), false)" -%}
        {%- set expected = "'" ~ match_rule.pattern | replace("'", "''") ~ "'" -%}
        {%- set actual = match_rule.target -%}
        {%- set category = "'" ~ match_rule.get('category', 'metadata_mismatch') ~ "'" -%}
    {%- elif type == 'fuzzy' -%}
        {%- set scorer = 'similarity_' ~ match_rule.get('scorer', 'token_set') -%}
        {%- set passed = 'coalesce(' ~ scorer ~ '(' ~ match_rule.source ~ ', ' ~ match_rule.target ~ ') >= ' ~ match_rule.threshold ~ ', false)' -%}
        {%- set expected = match_rule.source -%}
        {%- set actual = match_rule.target -%}
        {%- set category = "'" ~ match_rule.get('category', 'metadata_mismatch') ~ "'" -%}
    {%- else -%}
        {%- set passed = 'coalesce((' ~ match_rule.expression ~ '), false)' -%}
        {%- set expected = match_rule.get('expected', "'" ~ match_rule.expression | replace("'", "''") ~ "'") -%}
        {%- set actual = match_rule.get('actual', 'null') -%}
        {%- set category = "'" ~ match_rule.get('category', 'metadata_mismatch') ~ "'" -%}
    {%- endif -%}
    {%- set default_field = {
        'amount_tolerance': 'amount_minor',
        'date_window': 'effective_at' if 'min_lag_hours' in match_rule or 'max_lag_hours' in match_rule else 'business_date',
        'sql': '',
    }.get(type, match_rule.get('target', '')) -%}
    {%- set field = match_rule.get('field', default_field) %}
    struct_pack(
        name := '{{ match_rule.name }}',
        type := '{{ type }}',
        field := '{{ field | replace("'", "''") }}',
        passed := {{ passed }},
        category := {{ category }},
        expected := cast({{ expected }} as varchar),
        actual := cast({{ actual }} as varchar)
    )
{%- endmacro %}

{#- All of a rule's match rules as a list of structs, in the order the rule declares them. -#}
{% macro recon_match_results(rule) -%}
    [
        {%- for match_rule in rule.match_rules %}
        {{ recon_match_rule_result(match_rule, rule.fx) }}{{ ',' if not loop.last }}
        {%- endfor %}
    ]
{%- endmacro %}
