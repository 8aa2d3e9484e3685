//! Mail templates: one per kind and language, in the repository under `templates/<lang>/
//! <kind>.txt` and built into the binary, rendered with minijinja. The first line of a
//! template is `Subject: …`, then an empty line, then the text body.
//!
//! A mail in language `de-CH` uses the `de` template, and English when there is none. A
//! tenant may override any template: with `--mail-templates-dir DIR`, the file
//! `DIR/<tenant>/<kind>.<lang>.txt` (or `DIR/<tenant>/<kind>.txt` for every language) wins,
//! read when the mail is sent. Every template gets `tenant` (the tenant's name) and the
//! mail's own values (`link`, `expiresAt`, …).

use std::path::{Path, PathBuf};

use clientele_graphql::Mail;

/// The languages every built-in kind has a template in; the first is the fallback.
pub const LANGUAGES: &[&str] = &["en", "de", "fr", "es"];

/// The built-in templates: (kind, language, source).
const BUILT_IN: &[(&str, &str, &str)] = &[
    (
        "activation",
        "en",
        include_str!("templates/en/activation.txt"),
    ),
    (
        "activation",
        "de",
        include_str!("templates/de/activation.txt"),
    ),
    (
        "activation",
        "fr",
        include_str!("templates/fr/activation.txt"),
    ),
    (
        "activation",
        "es",
        include_str!("templates/es/activation.txt"),
    ),
    (
        "password_reset",
        "en",
        include_str!("templates/en/password_reset.txt"),
    ),
    (
        "password_reset",
        "de",
        include_str!("templates/de/password_reset.txt"),
    ),
    (
        "password_reset",
        "fr",
        include_str!("templates/fr/password_reset.txt"),
    ),
    (
        "password_reset",
        "es",
        include_str!("templates/es/password_reset.txt"),
    ),
    // Deletion notices to the tenant's named addresses (deletion_notices.rs).
    (
        "deletion_requested",
        "en",
        include_str!("templates/en/deletion_requested.txt"),
    ),
    (
        "deletion_requested",
        "de",
        include_str!("templates/de/deletion_requested.txt"),
    ),
    (
        "deletion_requested",
        "fr",
        include_str!("templates/fr/deletion_requested.txt"),
    ),
    (
        "deletion_requested",
        "es",
        include_str!("templates/es/deletion_requested.txt"),
    ),
    (
        "deletion_cancelled",
        "en",
        include_str!("templates/en/deletion_cancelled.txt"),
    ),
    (
        "deletion_cancelled",
        "de",
        include_str!("templates/de/deletion_cancelled.txt"),
    ),
    (
        "deletion_cancelled",
        "fr",
        include_str!("templates/fr/deletion_cancelled.txt"),
    ),
    (
        "deletion_cancelled",
        "es",
        include_str!("templates/es/deletion_cancelled.txt"),
    ),
    (
        "deletion_carried_out",
        "en",
        include_str!("templates/en/deletion_carried_out.txt"),
    ),
    (
        "deletion_carried_out",
        "de",
        include_str!("templates/de/deletion_carried_out.txt"),
    ),
    (
        "deletion_carried_out",
        "fr",
        include_str!("templates/fr/deletion_carried_out.txt"),
    ),
    (
        "deletion_carried_out",
        "es",
        include_str!("templates/es/deletion_carried_out.txt"),
    ),
    (
        "deletion_due_soon",
        "en",
        include_str!("templates/en/deletion_due_soon.txt"),
    ),
    (
        "deletion_due_soon",
        "de",
        include_str!("templates/de/deletion_due_soon.txt"),
    ),
    (
        "deletion_due_soon",
        "fr",
        include_str!("templates/fr/deletion_due_soon.txt"),
    ),
    (
        "deletion_due_soon",
        "es",
        include_str!("templates/es/deletion_due_soon.txt"),
    ),
    // A webhook endpoint disabled for failing (webhooks/mod.rs).
    (
        "webhook_disabled",
        "en",
        include_str!("templates/en/webhook_disabled.txt"),
    ),
    (
        "webhook_disabled",
        "de",
        include_str!("templates/de/webhook_disabled.txt"),
    ),
    (
        "webhook_disabled",
        "fr",
        include_str!("templates/fr/webhook_disabled.txt"),
    ),
    (
        "webhook_disabled",
        "es",
        include_str!("templates/es/webhook_disabled.txt"),
    ),
];

/// A rendered mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
}

/// The templates: built in, and the tenants' overrides if a folder is configured.
#[derive(Debug, Clone, Default)]
pub struct Templates {
    overrides: Option<PathBuf>,
}

impl Templates {
    /// The built-in templates, overridden by the files under `overrides` if given.
    pub fn new(overrides: Option<PathBuf>) -> Self {
        Templates { overrides }
    }

    /// Renders `mail`: the tenant's override of its template if there is one, else the
    /// built-in template of its language (or English).
    pub fn render(&self, mail: &Mail) -> Result<Rendered, String> {
        let language = base_language(&mail.language);
        let source = match self.tenant_override(&mail.tenant, mail.kind, &language) {
            Some(source) => source,
            None => built_in(mail.kind, &language)
                .ok_or_else(|| format!("no template for mail kind {}", mail.kind))?
                .to_string(),
        };
        let mut context: std::collections::BTreeMap<&str, &str> =
            mail.values.iter().map(|(k, v)| (*k, v.as_str())).collect();
        context.insert("tenant", &mail.tenant);
        context.insert("language", &language);
        render(&source, &context)
    }

    /// The tenant's own template for `kind` in `language` (or for every language).
    fn tenant_override(&self, tenant: &str, kind: &str, language: &str) -> Option<String> {
        let dir = self.overrides.as_deref()?;
        if !safe_name(tenant) {
            return None;
        }
        let folder = dir.join(tenant);
        [format!("{kind}.{language}.txt"), format!("{kind}.txt")]
            .iter()
            .find_map(|name| read(&folder.join(name)))
    }
}

/// The built-in template of `kind` in `language`, falling back to English.
pub fn built_in(kind: &str, language: &str) -> Option<&'static str> {
    let find = |lang: &str| {
        BUILT_IN
            .iter()
            .find(|(k, l, _)| *k == kind && *l == lang)
            .map(|(_, _, source)| *source)
    };
    find(language).or_else(|| find(LANGUAGES[0]))
}

/// Renders a template's source with `context` into subject and text.
pub fn render(
    source: &str,
    context: &std::collections::BTreeMap<&str, &str>,
) -> Result<Rendered, String> {
    let env = minijinja::Environment::new();
    let text = env
        .render_str(
            source,
            minijinja::Value::from_pairs(
                context
                    .iter()
                    .map(|(k, v)| (*k, minijinja::Value::from(*v)))
                    .collect::<Vec<_>>(),
            ),
        )
        .map_err(|e| format!("the mail template does not render: {e}"))?;
    let (first, body) = text.split_once('\n').unwrap_or((&text, ""));
    let subject = first
        .strip_prefix("Subject:")
        .ok_or("a mail template must begin with a `Subject: …` line")?
        .trim()
        .to_string();
    Ok(Rendered {
        subject,
        text: format!("{}\n", body.trim_matches(['\r', '\n'])),
    })
}

/// `de-CH` → `de`; lower case, letters only.
fn base_language(tag: &str) -> String {
    tag.split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// A tenant id that is safe as one folder name (no separators, no `..`).
fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn read(path: &Path) -> Option<String> {
    match std::fs::read_to_string(path) {
        Ok(source) => Some(source),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "a mail template override is unreadable; the built-in one is used");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(kind: &'static str, language: &str) -> Mail {
        Mail {
            kind,
            tenant: "acme".into(),
            to: "ann@acme.example".into(),
            language: language.into(),
            values: vec![("link", "https://x.example/activate?token=t".into())],
        }
    }

    #[test]
    fn every_kind_has_a_template_in_every_language_that_renders_with_the_link_and_tenant() {
        let kinds: std::collections::BTreeSet<_> = BUILT_IN.iter().map(|(k, _, _)| *k).collect();
        for kind in kinds {
            for lang in LANGUAGES {
                assert!(
                    BUILT_IN.iter().any(|(k, l, _)| *k == kind && l == lang),
                    "{kind} has no {lang} template"
                );
                let rendered = Templates::default().render(&mail(kind, lang)).unwrap();
                assert!(!rendered.subject.is_empty(), "{kind}/{lang}");
                // Deletion notices carry no link (deletion_notices.rs tests their values).
                if !kind.starts_with("deletion_") && !kind.starts_with("webhook_") {
                    assert!(
                        rendered.text.contains("https://x.example/activate?token=t"),
                        "{kind}/{lang}"
                    );
                }
                assert!(rendered.text.contains("acme"), "{kind}/{lang}");
            }
        }
    }

    #[test]
    fn a_language_without_templates_falls_back_to_english_and_a_region_to_its_language() {
        let en = Templates::default()
            .render(&mail("activation", "en"))
            .unwrap();
        let ja = Templates::default()
            .render(&mail("activation", "ja"))
            .unwrap();
        assert_eq!(en, ja);
        let de = Templates::default()
            .render(&mail("activation", "de"))
            .unwrap();
        let de_ch = Templates::default()
            .render(&mail("activation", "de-CH"))
            .unwrap();
        assert_eq!(de, de_ch);
        assert_ne!(de, en);
    }

    #[test]
    fn a_tenant_override_wins_for_its_tenant_only() {
        let dir = std::env::temp_dir().join(format!("clientele-mail-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("acme")).unwrap();
        std::fs::write(
            dir.join("acme/activation.de.txt"),
            "Subject: Willkommen bei {{ tenant }}\n\nHier: {{ link }}\n",
        )
        .unwrap();
        let templates = Templates::new(Some(dir.clone()));
        let de = templates.render(&mail("activation", "de")).unwrap();
        assert_eq!(de.subject, "Willkommen bei acme");
        assert_eq!(de.text, "Hier: https://x.example/activate?token=t\n");
        let other = Mail {
            tenant: "globex".into(),
            ..mail("activation", "de")
        };
        assert_ne!(templates.render(&other).unwrap().subject, de.subject);
        let traversal = Mail {
            tenant: "../acme".into(),
            ..mail("activation", "de")
        };
        assert_ne!(templates.render(&traversal).unwrap().subject, de.subject);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
