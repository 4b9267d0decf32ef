//! The supervisor's catalogue screens: checklist templates and the parts catalogue.
//!
//! A template version is never edited: saving a template makes its next version (a new id,
//! the code's highest version plus one), so every visit already running keeps the version it
//! started on, and new work takes the new one. Both are saved on the server (the one place
//! that keeps the catalogue whole, and refuses a version number taken meanwhile) and kept on
//! this device at once; they need the network, as the server's own catalogue does.

use fieldbook_domain::text::{optional_text, required_text};
use fieldbook_domain::{Bilingual, ChecklistItem, ChecklistTemplate, TemplateId};
use fieldbook_protocol::PartCatalogEntry;
use fieldbook_store::ImportBatch;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::dto::PartOption;
use crate::{App, AppError, ErrorCode, parse_id};

/// One template version as the catalogue lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TemplateSummary {
    pub id: String,
    pub code: String,
    #[ts(type = "number")]
    pub version: u32,
    pub name: Bilingual,
    #[ts(type = "number")]
    pub items: u32,
    /// Open work orders on this device whose visits run on this version.
    #[ts(type = "number")]
    pub in_use: u32,
    /// The highest version of its code: the one new work takes.
    pub latest: bool,
}

/// A template as the editor saves it; it becomes the code's next version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TemplateDraft {
    pub code: String,
    pub name: Bilingual,
    pub items: Vec<ChecklistItem>,
}

/// A key for an item that has none: its method and the first free number.
fn fresh_key(item: &ChecklistItem, taken: &std::collections::HashSet<String>) -> String {
    (1..).map(|n| format!("{}.item{n}", item.method.as_str())).find(|k| !taken.contains(k)).expect("a free number")
}

impl App {
    fn catalog_client(&self) -> Result<fieldbook_sync::SyncClient, AppError> {
        self.supervising()?;
        self.client()?.ok_or_else(|| AppError::new(ErrorCode::NotSignedIn, "sign in first"))
    }

    /// Every template version on this device, by code, newest version first.
    pub fn template_catalog(&self) -> Result<Vec<TemplateSummary>, AppError> {
        self.supervising()?;
        let store = self.store();
        let templates = store.templates()?;
        let in_use = store.templates_in_use()?;
        let mut latest: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
        for t in &templates {
            let v = latest.entry(t.code.as_str()).or_default();
            *v = (*v).max(t.version);
        }
        let mut list: Vec<TemplateSummary> = templates
            .iter()
            .map(|t| TemplateSummary {
                id: t.id.to_string(),
                code: t.code.clone(),
                version: t.version,
                name: t.name.clone(),
                items: t.items.len() as u32,
                in_use: in_use.get(&t.id).copied().unwrap_or(0),
                latest: latest.get(t.code.as_str()) == Some(&t.version),
            })
            .collect();
        list.sort_by(|a, b| a.code.cmp(&b.code).then(b.version.cmp(&a.version)));
        Ok(list)
    }

    /// One template version, whole, for the editor.
    pub fn template_detail(&self, id: &str) -> Result<ChecklistTemplate, AppError> {
        self.supervising()?;
        let id: TemplateId = parse_id(id)?;
        self.store()
            .template(id)?
            .ok_or_else(|| AppError::new(ErrorCode::NotFound, "this device holds no such checklist template"))
    }

    /// Saves a template as its code's next version (version 1 of a new code), on the server
    /// and then on this device; returns the new version.
    pub async fn save_template(&self, draft: TemplateDraft) -> Result<TemplateSummary, AppError> {
        let client = self.catalog_client()?;
        let code = required_text("template code", &draft.code, 100)?;
        let name = Bilingual::new(
            required_text("Chinese name", &draft.name.zh, 200)?,
            required_text("English name", &draft.name.en, 200)?,
        );
        if draft.items.is_empty() {
            return Err(AppError::new(ErrorCode::InvalidInput, "a checklist needs at least one item"));
        }
        let mut taken: std::collections::HashSet<String> =
            draft.items.iter().map(|i| i.key.trim().to_owned()).filter(|k| !k.is_empty()).collect();
        let mut items = Vec::with_capacity(draft.items.len());
        for item in draft.items {
            let mut item = item;
            item.key = optional_text("item key", &item.key, 100)?;
            if item.key.is_empty() {
                item.key = fresh_key(&item, &taken);
                taken.insert(item.key.clone());
            }
            item.label = Bilingual::new(
                required_text("item name (Chinese)", &item.label.zh, 300)?,
                required_text("item name (English)", &item.label.en, 300)?,
            );
            items.push(item);
        }
        let version =
            self.store().templates()?.iter().filter(|t| t.code == code).map(|t| t.version).max().unwrap_or(0) + 1;
        let template = ChecklistTemplate { id: TemplateId::new(), code, version, name, items };
        template.validate().map_err(|message| AppError::new(ErrorCode::InvalidInput, message))?;
        client.create_template(&template).await.map_err(crate::sync::server_refusal)?;
        self.store().import(&ImportBatch { templates: vec![template.clone()], ..ImportBatch::default() })?;
        self.template_catalog()?
            .into_iter()
            .find(|t| t.id == template.id.to_string())
            .ok_or_else(|| AppError::new(ErrorCode::Storage, "the saved template was not kept on this device"))
    }

    /// The parts catalogue on this device whose number or name contains `search`, by number
    /// (at most 500).
    pub fn part_catalog(&self, search: &str) -> Result<Vec<PartOption>, AppError> {
        self.supervising()?;
        let search = optional_text("search", search, 200)?;
        self.search_parts_up_to(&search, 500)
    }

    /// Adds a part to the catalogue or changes it (by part number), on the server and then on
    /// this device. Parts already recorded on visits keep the price they were recorded with.
    pub async fn save_part(&self, part: PartOption) -> Result<PartOption, AppError> {
        let client = self.catalog_client()?;
        let entry = PartCatalogEntry {
            part_number: required_text("part number", &part.part_number, 64)?,
            name: required_text("part name", &part.name, 200)?,
            needs_customer_approval: part.needs_customer_approval,
            unit_price_cents: part.unit_price_cents,
        };
        if entry.unit_price_cents < 0 {
            return Err(fieldbook_domain::InvalidInput::NegativePrice(entry.unit_price_cents).into());
        }
        let saved = client.put_part(&entry).await.map_err(crate::sync::server_refusal)?;
        let row =
            (saved.part_number.clone(), saved.name.clone(), saved.needs_customer_approval, saved.unit_price_cents);
        self.store().import(&ImportBatch { parts_catalog: vec![row], ..ImportBatch::default() })?;
        Ok(PartOption {
            part_number: saved.part_number,
            name: saved.name,
            needs_customer_approval: saved.needs_customer_approval,
            unit_price_cents: saved.unit_price_cents,
        })
    }
}
