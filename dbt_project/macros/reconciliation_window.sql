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

{#- The business date of a UTC timestamp: its calendar date in the profile's time zone. -#}
{% macro business_date(utc_timestamp, time_zone) -%}
    cast(timezone({{ time_zone }}, {{ utc_timestamp }} at time zone 'UTC') as date)
{%- endmacro %}
