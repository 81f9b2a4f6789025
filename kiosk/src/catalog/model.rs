//! The matter catalog as admins edit, sign and push it (the JSON in a catalog envelope's
//! payload) and as the kiosk serves it. Field names are part of the catalog format: add
//! optional fields freely, never rename.

use serde::{Deserialize, Serialize};

use super::form::FormSchema;

/// Catalog format understood by this build.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    pub format: u32,
    /// Strictly increasing across published catalogs.
    pub version: u64,
    /// RFC 3339 UTC.
    pub issued_at: String,
    /// RFC 3339 UTC; past it (plus a grace period) the kiosk warns staff the catalog is stale.
    pub expires_at: String,
    /// Free text, e.g. "SAMPLE DATA" for the bundled catalog.
    #[serde(default)]
    pub notice: String,
    pub departments: Vec<Department>,
    pub themes: Vec<Theme>,
    pub matters: Vec<Matter>,
    #[serde(default)]
    pub bundles: Vec<Bundle>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
}

/// A theme (for persons: a life event; for businesses: a stage of a business's life).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Theme {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub audience: Audience,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    Person,
    Business,
}

/// What the kiosk does for the citizen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatterKind {
    /// Prints a certificate or record on the spot.
    Print,
    /// Looks something up and shows it.
    Query,
    /// An application that a department reviews.
    Apply,
    /// Books a time at a counter.
    Appointment,
}

/// How sure the kiosk must be of who the citizen is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityLevel {
    None,
    Card,
    CardFace,
}

/// What a citizen who cannot pass the face check may do instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum NonFaceAlternative {
    /// Staff in the hall (or on the help line) verify the citizen.
    #[default]
    StaffHelp,
    /// The citizen books a counter appointment instead.
    CounterAppointment,
}

/// A situation (情形): a variant of a matter with its own extra materials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Situation {
    /// `01`, `02`, ...
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    #[serde(default)]
    pub extra_materials: Vec<Material>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Material {
    pub name_zh: String,
    pub name_en: String,
    /// An e-licence type (电子证照) that replaces the paper when the platform holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e_licence: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Matter {
    /// `310104` + six digits.
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// A department code.
    pub department: String,
    pub audience: Audience,
    /// A theme code.
    pub theme: String,
    pub kind: MatterKind,
    pub identity: IdentityLevel,
    #[serde(default)]
    pub non_face_alternative: NonFaceAlternative,
    pub situations: Vec<Situation>,
    pub materials: Vec<Material>,
    pub form: FormSchema,
    /// Time limits in working days.
    pub legal_days: u32,
    pub promised_days: u32,
    /// Fee in fen (0.01 yuan); 0 is free.
    pub fee_fen: u64,
    pub guide_zh: String,
    pub guide_en: String,
    /// Extra search words (zh or en).
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Shown among the popular matters on Home.
    #[serde(default)]
    pub popular: bool,
}

/// "One thing" (一件事): several matters a citizen does together, with one shared form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bundle {
    /// `YJS` + four digits.
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub audience: Audience,
    pub theme: String,
    /// Codes of the member matters, in the order they are processed.
    pub matters: Vec<String>,
    /// The shared form: every member matter's fields, each asked once.
    pub form: FormSchema,
    pub guide_zh: String,
    pub guide_en: String,
    #[serde(default)]
    pub keywords: Vec<String>,
}

impl Catalog {
    pub fn matter(&self, code: &str) -> Option<&Matter> {
        self.matters.iter().find(|m| m.code == code)
    }

    pub fn bundle(&self, code: &str) -> Option<&Bundle> {
        self.bundles.iter().find(|b| b.code == code)
    }

    pub fn department(&self, code: &str) -> Option<&Department> {
        self.departments.iter().find(|d| d.code == code)
    }

    /// Counts for `kiosk catalog stats`.
    pub fn stats(&self) -> CatalogStats {
        CatalogStats {
            version: self.version,
            matters: self.matters.len(),
            person: self
                .matters
                .iter()
                .filter(|m| m.audience == Audience::Person)
                .count(),
            business: self
                .matters
                .iter()
                .filter(|m| m.audience == Audience::Business)
                .count(),
            departments: self.departments.len(),
            bundles: self.bundles.len(),
            themes: self.themes.len(),
            issued_at: self.issued_at.clone(),
            expires_at: self.expires_at.clone(),
            notice: self.notice.clone(),
        }
    }

    /// The identity level a bundle needs: the strictest of its members.
    pub fn bundle_identity(&self, bundle: &Bundle) -> IdentityLevel {
        bundle
            .matters
            .iter()
            .filter_map(|c| self.matter(c))
            .map(|m| m.identity)
            .max()
            .unwrap_or(IdentityLevel::None)
    }
}

/// The shape of `kiosk catalog stats --json` (other tools read it: add fields, never rename).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogStats {
    pub version: u64,
    pub matters: usize,
    pub person: usize,
    pub business: usize,
    pub departments: usize,
    pub bundles: usize,
    pub themes: usize,
    pub issued_at: String,
    pub expires_at: String,
    pub notice: String,
}
