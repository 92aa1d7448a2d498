//! The audiences of the data set and the fake people who qualify for them.

use crate::config::GenConfig;
use crate::rng::Rng;
use crate::timefmt::{MICROS_PER_SEC, Micros};

/// Segmentation Service audiences, most recognisable first. The opaque-id audience comes early so
/// that even tiny data sets carry a non-UUID id.
const SEGMENT_NAMES: &[&str] = &[
    "Trial users, day 7",
    "Feature X early adopters",
    "Power users (weekly active > 5 days)",
    "At-risk accounts",
    "Admins without SSO",
    "Onboarding incomplete",
    "Churned last 30 days",
    "EMEA enterprise seats",
    "Mobile-first users",
    "NPS detractors",
    "Billing page visitors",
    "Beta programme — wave 2",
    "Renewal in 60 days",
    "Seats over plan limit",
    "Integrations page visitors",
    "NPS promoters",
    "Dormant 14 days",
    "New admins this week",
    "API token creators",
    "Expansion candidates",
    "Webinar attendees — Q4",
    "Help-centre heavy readers",
    "APAC self-serve trials",
    "Dark-mode enthusiasts",
];

/// The audience whose id is not a UUID, as AEP allows.
const OPAQUE_NAME: &str = "Feature X early adopters";
const OPAQUE_ID: &str = "segmentid-feature-x";

const CUSTOM_UPLOAD_NAME: &str = "CRM upload — VIP list";

const DATA_USAGE_LABELS: &[&str] = &["C2", "C4", "C5", "I1"];

/// Where an audience was built; custom uploads travel in their own `segmentMembership` namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    SegmentationService,
    CustomerAudienceUpload,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::SegmentationService => "SegmentationService",
            Origin::CustomerAudienceUpload => "CustomerAudienceUpload",
        }
    }

    /// The `segmentMembership` namespace entries of this origin are exported under.
    pub fn namespace(self) -> &'static str {
        match self {
            Origin::SegmentationService => "ups",
            Origin::CustomerAudienceUpload => "CustomerAudienceUpload",
        }
    }
}

/// One audience of the generated world.
#[derive(Debug, Clone)]
pub struct Audience {
    pub id: String,
    pub name: String,
    pub description: String,
    pub origin: Origin,
    pub labels: Vec<String>,
    /// Mapped to the PX destination; only these reach the expected state.
    pub activated: bool,
    /// Multiplies the configured qualification rate, so audience sizes differ like real ones.
    pub popularity: f64,
    pub created_at: Micros,
    pub updated_at: Micros,
}

/// Builds `cfg.audiences` audiences: Segmentation Service ones (about `activated_share` of them
/// activated, always at least one activated and one unmapped) and exactly one custom upload, last.
pub fn audiences(cfg: &GenConfig, rng: &mut Rng) -> Vec<Audience> {
    let n_segments = cfg.audiences - 1;
    let mut list: Vec<Audience> = (0..n_segments)
        .map(|i| {
            let name = SEGMENT_NAMES
                .get(i)
                .map_or_else(|| format!("Audience {:02}", i + 1), |n| (*n).to_string());
            let id = if name == OPAQUE_NAME {
                OPAQUE_ID.to_string()
            } else {
                rng.uuid()
            };
            let description = format!("Audience '{name}' built in AEP Segmentation Service");
            audience(rng, cfg, id, name, description, Origin::SegmentationService)
        })
        .collect();

    let wanted = (cfg.activated_share * n_segments as f64).round() as usize;
    let n_activated = wanted.clamp(1, n_segments - 1);
    let mut order: Vec<usize> = (0..n_segments).collect();
    rng.shuffle(&mut order);
    // The opaque-id audience is always activated: it is the one that breaks UUID assumptions.
    if let Some(pos) = list.iter().position(|a| a.id == OPAQUE_ID) {
        let at = order.iter().position(|&i| i == pos).unwrap_or(0);
        order.swap(0, at);
    }
    for &i in order.iter().take(n_activated) {
        list[i].activated = true;
    }

    let upload_id = rng.uuid();
    let mut upload = audience(
        rng,
        cfg,
        upload_id,
        CUSTOM_UPLOAD_NAME.to_string(),
        "CSV import".to_string(),
        Origin::CustomerAudienceUpload,
    );
    upload.labels.clear();
    list.push(upload);
    list
}

fn audience(
    rng: &mut Rng,
    cfg: &GenConfig,
    id: String,
    name: String,
    description: String,
    origin: Origin,
) -> Audience {
    let labels = if rng.chance(0.15) {
        vec![(*rng.pick(DATA_USAGE_LABELS)).to_string()]
    } else {
        Vec::new()
    };
    let day = 86_400 * MICROS_PER_SEC;
    let created_at = cfg.start - rng.range(30, 400) * day - rng.range(0, day);
    let updated_at = created_at + rng.range(0, 25) * day + rng.range(0, day);
    Audience {
        id,
        name,
        description,
        origin,
        labels,
        activated: false,
        popularity: 0.4 + 1.2 * rng.unit(),
        created_at,
        updated_at,
    }
}

const FIRST_NAMES: &[&str] = &[
    "Dana", "Lukas", "Ines", "Tariq", "Sam", "Åsa", "Jonas", "Lea", "Ravi", "Chen", "Mika",
    "Priya", "Olu", "Ngozi", "Yuki", "Ari", "Zoë", "Mateo", "Sofía", "Kwame", "Hana", "Élodie",
    "Omar", "Freya", "Diego", "Aiko", "Bjørn", "Maya", "Noah", "Leila", "Tomás", "Nia",
];

const LAST_NAMES: &[&str] = &[
    "Kim",
    "Larsen",
    "Novak",
    "Ivanova",
    "Rossi",
    "Berg",
    "Costa",
    "Dubois",
    "Silva",
    "O'Neil",
    "Müller",
    "Haddad",
    "Okafor",
    "Sato",
    "Nguyen",
    "Fischer",
    "García",
    "Kowalski",
    "Andersson",
    "Mensah",
    "Tanaka",
    "Moreau",
    "Patel",
    "Jensen",
    "Horváth",
    "Brennan",
    "Yilmaz",
    "Schmidt",
];

/// A fake person: display names may carry diacritics, e-mails are plain ASCII on example.org.
#[derive(Debug, Clone)]
pub struct Person {
    pub first_name: &'static str,
    pub last_name: &'static str,
    pub email: String,
}

/// A person for profile number `n`; the number keeps e-mails unique across the data set.
pub fn person(rng: &mut Rng, n: usize) -> Person {
    let first_name = *rng.pick(FIRST_NAMES);
    let last_name = *rng.pick(LAST_NAMES);
    let email = format!(
        "{}.{}{n}@example.org",
        email_part(first_name),
        email_part(last_name)
    );
    Person {
        first_name,
        last_name,
        email,
    }
}

/// Folds a display name into the local-part of an address the way most sign-up forms would.
fn email_part(name: &str) -> String {
    name.chars()
        .filter_map(|c| {
            let folded = match c {
                'Å' | 'å' | 'á' | 'à' | 'ä' => 'a',
                'É' | 'é' | 'è' | 'ë' => 'e',
                'í' | 'ï' => 'i',
                'ó' | 'ö' | 'ø' | 'Ø' => 'o',
                'ú' | 'ü' => 'u',
                other => other,
            };
            folded
                .is_ascii_alphanumeric()
                .then(|| folded.to_ascii_lowercase())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_upload_last_and_both_activated_and_unmapped_segments() {
        let cfg = GenConfig::default();
        let list = audiences(&cfg, &mut Rng::new(1));
        assert_eq!(list.len(), cfg.audiences);
        let last = list.last().map(|a| a.origin);
        assert_eq!(last, Some(Origin::CustomerAudienceUpload));
        let uploads = list
            .iter()
            .filter(|a| a.origin == Origin::CustomerAudienceUpload)
            .count();
        assert_eq!(uploads, 1);
        assert!(list.iter().any(|a| a.activated));
        assert!(
            list.iter()
                .any(|a| !a.activated && a.origin == Origin::SegmentationService)
        );
        assert!(list.iter().any(|a| a.id == OPAQUE_ID && a.activated));
    }

    #[test]
    fn the_smallest_catalog_still_has_every_kind() {
        let cfg = GenConfig {
            audiences: 3,
            ..GenConfig::default()
        };
        let list = audiences(&cfg, &mut Rng::new(9));
        assert_eq!(list.iter().filter(|a| a.activated).count(), 1);
        assert!(list.iter().any(|a| a.id == OPAQUE_ID));
    }

    #[test]
    fn emails_are_ascii_and_unique_per_profile_number() {
        let mut rng = Rng::new(5);
        let a = person(&mut rng, 1);
        let b = person(&mut rng, 2);
        assert!(a.email.is_ascii() && a.email.ends_with("1@example.org"));
        assert_ne!(a.email, b.email);
        assert_eq!(email_part("O'Neil"), "oneil");
        assert_eq!(email_part("Åsa"), "asa");
    }
}
