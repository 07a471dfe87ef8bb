-- The roll-up of school values by (indicator, period, académie, validated): count, sums,
-- min and max, so that a figure at académie, région académique or national level reads at
-- most a few dozen rows instead of every school value (docs/BENCHMARKS.md). Rewritten in the
-- transaction of every write to school values (indicator/repo.rs, refresh_rollup); never
-- edited by hand. code_academie is '' for a school outside every académie; validated is 1
-- for validated and locked values.
CREATE TABLE ind_rollup (
    indicator_id    TEXT NOT NULL REFERENCES ind_indicator (id),
    period          TEXT NOT NULL,
    code_academie   TEXT NOT NULL,
    validated       INTEGER NOT NULL,
    n               BIGINT NOT NULL,
    s_value         BIGINT,
    s_num           BIGINT,
    s_den           BIGINT,
    min_value       BIGINT,
    max_value       BIGINT,
    s_weighted      BIGINT,
    PRIMARY KEY (indicator_id, period, code_academie, validated)
);

INSERT INTO ind_rollup (indicator_id, period, code_academie, validated, n, s_value, s_num, s_den, min_value,
    max_value, s_weighted)
SELECT indicator_id, period, COALESCE(code_academie, ''),
    CASE WHEN status IN ('validee', 'verrouillee') THEN 1 ELSE 0 END,
    COUNT(*), SUM(value_e4), SUM(numerator_e4), SUM(denominator_e4), MIN(value_e4), MAX(value_e4),
    SUM(value_e4 * denominator_e4)
FROM ind_value WHERE perimeter_kind = 'etablissement'
GROUP BY indicator_id, period, COALESCE(code_academie, ''),
    CASE WHEN status IN ('validee', 'verrouillee') THEN 1 ELSE 0 END;
