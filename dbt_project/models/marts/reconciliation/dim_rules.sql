{#- The rule catalog, as compiled from `macros/rules/`: one row per rule and profile scope. -#}
{%- set rules = recon_rules() -%}
{%- for rule in rules %}
select
    '{{ rule.name }}' as rule_name,
    '{{ rule.description | replace("'", "''") }}' as description,
    '{{ rule.file }}' as rule_file,
    {{ rule.priority }} as priority,
    '{{ rule.profiles | join(",") }}' as profiles,
    '{{ rule.excluded_profiles | join(",") }}' as overridden_for_profiles,
    '{{ rule.overrides | join(",") }}' as overrides,
    '{{ rule.source_account }}' as source_account_name,
    '{{ rule.target_account }}' as target_account_name,
    '{{ rule.cardinality }}' as cardinality,
    {% if rule.source_group_by %}'{{ rule.source_group_by | replace("'", "''") }}'{% else %}null{% endif %} as source_group_by,
    {% if rule.target_group_by %}'{{ rule.target_group_by | replace("'", "''") }}'{% else %}null{% endif %} as target_group_by,
    {{ rule.window_days }} as window_days,
    {{ rule.identifiers | length }} as identifier_count,
    '{{ rule.identifiers | map(attribute="name") | join(" > ") }}' as identifier_order,
    '{{ rule.match_rules | map(attribute="name") | join(", ") }}' as match_rule_names,
    '{{ tojson(rule) | replace("'", "''") }}' as definition
{{ 'union all' if not loop.last }}
{%- endfor %}
