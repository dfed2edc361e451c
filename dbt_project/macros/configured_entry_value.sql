{#- The SQL of one entry field of a configured source (stg_configured__entries), from its
    `entry:` block: its column as text, or its constant as a quoted literal. -#}
{% macro configured_entry_value(spec) -%}
    {%- if spec.column -%}
        cast(source."{{ spec.column }}" as varchar)
    {%- else -%}
        '{{ spec.value | replace("'", "''") }}'
    {%- endif -%}
{%- endmacro %}

{#- A configured source's own id for a row: its `entry.id` columns joined with ':', else where
    the row is in its file (the file's hash and the row). -#}
{% macro configured_entry_id(configured_source) -%}
    {%- if configured_source.id -%}
        concat_ws(
            ':'
            {%- for column in configured_source.id %},
            cast(source."{{ column }}" as varchar)
            {%- endfor %}
        )
    {%- else -%}
        split_part(source._file_id, ':', 3) || ':' || source._source_row
    {%- endif -%}
{%- endmacro %}
