{#- The run's half-open window of business dates and the date the run sees the world from. -#}
{% macro window_start() -%}
    cast('{{ var("min_date") }}' as date)
{%- endmacro %}

{% macro window_end() -%}
    cast('{{ var("max_date") }}' as date)
{%- endmacro %}

{#- The last business date inside the window, or today when the window is open-ended. -#}
{% macro as_of_date() -%}
    least(cast('{{ var("max_date") }}' as date) - interval 1 day, current_date)::date
{%- endmacro %}
