//! Which recipe each source has proven (`source_recipes`): the onboarding
//! state of a source whose provider's signature recipe is not documented
//! precisely enough to be a fact before a first delivery verifies.

use crate::{Store, StoreError};
use chrono::{DateTime, Utc};

/// A recipe a source's deliveries verified with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenRecipe {
    /// Tenant.
    pub tenant: String,
    /// Source.
    pub source: String,
    /// The recipe as stored with notifications (`signature_recipe`).
    pub recipe: String,
    /// When a delivery first verified with it.
    pub first_verified_at: DateTime<Utc>,
    /// That delivery's notification.
    pub notification_id: i64,
}

impl Store {
    /// Records that a delivery of `tenant`/`source` verified with `recipe`
    /// (the first such record stays).
    pub async fn record_proven_recipe(
        &self,
        tenant: &str,
        source: &str,
        recipe: &str,
        notification_id: i64,
    ) -> Result<(), StoreError> {
        let recipe = crate::pg_text(recipe);
        sqlx::query!(
            r#"INSERT INTO source_recipes (tenant, source, recipe, notification_id) VALUES ($1, $2, $3, $4)
               ON CONFLICT (tenant, source, recipe) DO NOTHING"#,
            tenant,
            source,
            recipe.as_ref(),
            notification_id
        )
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The recipes proven by `tenant`'s sources (every tenant's when
    /// `None`), oldest first.
    pub async fn proven_recipes(&self, tenant: Option<&str>) -> Result<Vec<ProvenRecipe>, StoreError> {
        let rows = sqlx::query_as!(
            ProvenRecipe,
            r#"SELECT tenant, source, recipe, first_verified_at, notification_id FROM source_recipes
               WHERE $1::text IS NULL OR tenant = $1 ORDER BY first_verified_at, recipe"#,
            tenant
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows)
    }

    /// True when a delivery of `tenant`/`source` has ever verified.
    pub async fn source_proven(&self, tenant: &str, source: &str) -> Result<bool, StoreError> {
        let row = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM source_recipes WHERE tenant = $1 AND source = $2) AS "proven!""#,
            tenant,
            source
        )
        .fetch_one(self.pool())
        .await?;
        Ok(row)
    }
}
