//! Message catalogues for everything a person reads: hosted pages and emails. One TOML file per
//! language in `crates/app/locales/`; every language has exactly the keys English has (a test
//! checks it), and `{name}` placeholders are filled by `Catalog::format`.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The languages Portico speaks, English first (the fallback).
pub const LANGUAGES: &[(&str, &str, &str)] =
    &[("en", "English", include_str!("../locales/en.toml")), ("fr", "Français", include_str!("../locales/fr.toml"))];

#[derive(Debug)]
pub struct Catalog {
    pub lang: &'static str,
    messages: HashMap<String, String>,
}

impl Catalog {
    /// The message for `key`; a missing key shows itself, so it cannot go unnoticed.
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.messages.get(key).map_or(key, String::as_str)
    }

    /// The message for `key` with each `{name}` replaced by its value.
    pub fn format(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut text = self.get(key).to_owned();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.messages.keys()
    }
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut HashMap<String, String>) {
    for (key, value) in table {
        let full = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        match value {
            toml::Value::Table(inner) => flatten(&full, inner, out),
            toml::Value::String(text) => {
                out.insert(full, text.clone());
            }
            other => {
                out.insert(full, other.to_string());
            }
        }
    }
}

fn catalogs() -> &'static Vec<Catalog> {
    static CATALOGS: OnceLock<Vec<Catalog>> = OnceLock::new();
    CATALOGS.get_or_init(|| {
        LANGUAGES
            .iter()
            .map(|(lang, _, source)| {
                let mut messages = HashMap::new();
                // The catalogues are compiled in and checked by tests; a broken one shows keys.
                if let Ok(table) = source.parse::<toml::Table>() {
                    flatten("", &table, &mut messages);
                }
                Catalog { lang, messages }
            })
            .collect()
    })
}

/// The catalogue for a language tag (`fr`, `fr-CA`, `en-US`…), English when Portico does not
/// speak it.
pub fn catalog(tag: &str) -> &'static Catalog {
    let primary = tag.split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
    let all = catalogs();
    all.iter().find(|c| c.lang == primary).unwrap_or(&all[0])
}

/// Whether Portico has a catalogue for this tag's language.
pub fn speaks(tag: &str) -> bool {
    let primary = tag.split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
    LANGUAGES.iter().any(|(lang, _, _)| *lang == primary)
}

/// Picks the best language from an `Accept-Language` header.
pub fn negotiate(accept_language: &str) -> &'static str {
    let mut best: Option<(f32, &'static str)> = None;
    for part in accept_language.split(',') {
        let mut pieces = part.trim().split(';');
        let tag = pieces.next().unwrap_or("").trim();
        let quality =
            pieces.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
        if tag.is_empty() || !speaks(tag) {
            continue;
        }
        let lang = catalog(tag).lang;
        if best.is_none_or(|(q, _)| quality > q) {
            best = Some((quality, lang));
        }
    }
    best.map_or("en", |(_, lang)| lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_exactly_the_english_keys() {
        for (lang, _, source) in LANGUAGES {
            assert!(source.parse::<toml::Table>().is_ok(), "{lang}.toml does not parse");
        }
        let english: std::collections::BTreeSet<_> = catalog("en").keys().collect();
        assert!(english.len() > 50);
        for (lang, _, _) in LANGUAGES {
            let keys: std::collections::BTreeSet<_> = catalog(lang).keys().collect();
            let missing: Vec<_> = english.difference(&keys).collect();
            let extra: Vec<_> = keys.difference(&english).collect();
            assert!(missing.is_empty() && extra.is_empty(), "{lang}: missing {missing:?}, extra {extra:?}");
        }
    }

    #[test]
    fn negotiation_prefers_quality_and_falls_back_to_english() {
        assert_eq!(negotiate("fr-CA,fr;q=0.9,en;q=0.8"), "fr");
        assert_eq!(negotiate("de-DE,de;q=0.9,en;q=0.5"), "en");
        assert_eq!(negotiate("de, fr;q=0.4"), "fr");
        assert_eq!(negotiate(""), "en");
        assert_eq!(catalog("pt-BR").lang, "en");
    }

    #[test]
    fn placeholders_are_filled() {
        let en = catalog("en");
        assert_eq!(en.get("no.such.key"), "no.such.key");
        assert!(en.format("email.magic.intro", &[("product", "Acme")]).contains("Acme"));
    }
}
