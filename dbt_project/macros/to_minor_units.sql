{#- An amount in its currency's units as an integer of minor units (cents for USD, yen for JPY,
    mills for KWD), rounded half away from zero. Exact: a decimal times an integer power of ten
    stays a decimal. -#}
{% macro to_minor_units(amount, minor_units) -%}
    cast(round(({{ amount }}) * cast(pow(10, {{ minor_units }}) as integer)) as bigint)
{%- endmacro %}
