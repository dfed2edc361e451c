{#- DuckDB builds each hash join on the side it estimates smaller. Where the estimate is far off
    (a wide side estimated at a fraction of its rows), it builds on the wide side and the query
    takes twice as long. A model that calls this keeps every join's build side as written: the
    joined (right) side. -#}
{% macro keep_join_build_sides() -%}
    {%- if target.type == 'duckdb' -%}
        {{ config(
            pre_hook="set disabled_optimizers = 'build_side_probe_side'",
            post_hook="reset disabled_optimizers",
        ) }}
    {%- endif -%}
{%- endmacro %}
