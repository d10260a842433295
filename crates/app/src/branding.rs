//! How hosted pages and emails look: product name, logo and colours, from configuration.

/// Validated branding. Colours are `#rrggbb`; the text colour on the primary colour is chosen for
/// contrast (WCAG relative luminance), so any brand colour gives readable buttons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branding {
    pub product_name: String,
    /// An `https://` (or, in dev, `http://`) image URL, or none for a text logo.
    pub logo_url: Option<String>,
    pub primary_color: String,
    pub background_color: String,
}

impl Default for Branding {
    fn default() -> Self {
        Branding {
            product_name: "Portico".into(),
            logo_url: None,
            primary_color: "#4338ca".into(),
            background_color: "#f5f5f7".into(),
        }
    }
}

/// Parses `#rrggbb` (or `#rgb`) into its channels.
pub fn parse_color(text: &str) -> Option<[u8; 3]> {
    let hex = text.strip_prefix('#')?;
    let expanded: String = match hex.len() {
        3 => hex.chars().flat_map(|c| [c, c]).collect(),
        6 => hex.to_owned(),
        _ => return None,
    };
    let channel = |i: usize| u8::from_str_radix(expanded.get(i..i + 2)?, 16).ok();
    Some([channel(0)?, channel(2)?, channel(4)?])
}

fn luminance([r, g, b]: [u8; 3]) -> f64 {
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.039_28 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    };
    0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
}

impl Branding {
    /// White or near-black, whichever contrasts more with the primary colour.
    pub fn on_primary_color(&self) -> &'static str {
        let lum = parse_color(&self.primary_color).map_or(0.0, luminance);
        // Contrast against white (L=1) vs against #111 (L≈0.0056).
        if (1.05) / (lum + 0.05) >= (lum + 0.05) / 0.0556 { "#ffffff" } else { "#111111" }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_parse_and_text_contrasts() {
        assert_eq!(parse_color("#fff"), Some([255, 255, 255]));
        assert_eq!(parse_color("#4338ca"), Some([0x43, 0x38, 0xca]));
        assert_eq!(parse_color("4338ca"), None);
        assert_eq!(parse_color("#12345g"), None);
        let dark = Branding { primary_color: "#1e3a8a".into(), ..Branding::default() };
        assert_eq!(dark.on_primary_color(), "#ffffff");
        let light = Branding { primary_color: "#fde047".into(), ..Branding::default() };
        assert_eq!(light.on_primary_color(), "#111111");
    }
}
