-- An indicator computed by the platform from the collectivités' inventories
-- (crates/core/src/indicator/computed.rs): the formula's code, NULL for an indicator whose
-- values are entered, imported or sent. Its values carry the provenance `calcul`.
ALTER TABLE ind_indicator ADD COLUMN formula TEXT;
