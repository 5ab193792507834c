-- Which signature recipe each source has proven: a row the first time a
-- delivery of the source verified with a recipe (or was authenticated by
-- another means, e.g. its token). A source with no row has never verified
-- a delivery: while it is onboarding, its refusals are kept whole within
-- their own byte budget and carry the reason `no_recipe_matched_yet`
-- (docs/guarantees.md, "Onboarding a source"). Written once per ingress
-- process, source and recipe, never on the hot path of later deliveries.
CREATE TABLE source_recipes (
    tenant           text        NOT NULL,
    source           text        NOT NULL,
    recipe           text        NOT NULL,
    first_verified_at timestamptz NOT NULL DEFAULT now(),
    notification_id  bigint      NOT NULL,
    PRIMARY KEY (tenant, source, recipe)
);
