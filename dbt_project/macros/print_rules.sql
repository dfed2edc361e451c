{#- `dbt run-operation print_rules` prints every rule, validated, as one JSON line; the
    `recon rules check` command reads it. -#}
{% macro print_rules() %}
    {{ print('RECON_RULES ' ~ tojson(recon_rules())) }}
{% endmacro %}
