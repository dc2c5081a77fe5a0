//! Colours and what stays readable on them: the owner's accent colour, and the colours
//! derived from it for readers ([`Palette`]): the text on an accent button, the accent as
//! link text on white, and the accent for dark mode.
//!
//! Readable means the contrast WCAG 2.1 AA asks of text: at least 4.5:1 (relative
//! luminance of sRGB, contrast ratio `(L1 + 0.05) / (L2 + 0.05)`). An accent that is
//! already readable where it is used is kept as the owner chose it; one that is not is
//! darkened (on white) or lightened (on dark paper) just enough.

use std::fmt;

/// The contrast WCAG 2.1 AA asks of normal text.
pub const AA_TEXT: f64 = 4.5;

/// A colour of sRGB, as `#rrggbb` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colour {
    r: u8,
    g: u8,
    b: u8,
}

impl Colour {
    pub const WHITE: Colour = Colour::rgb(0xff, 0xff, 0xff);
    pub const BLACK: Colour = Colour::rgb(0, 0, 0);
    /// The near-black text on a light accent.
    pub const INK: Colour = Colour::rgb(0x11, 0x11, 0x13);
    /// The paper of the pages and of the mail's card in light mode.
    pub const PAPER: Colour = Colour::WHITE;
    /// The lightest dark paper readers see in dark mode (the mail's card; the pages' paper
    /// is darker still): a colour readable on it is readable on both.
    pub const DARK_PAPER: Colour = Colour::rgb(0x1c, 0x1c, 0x1f);

    pub const fn rgb(r: u8, g: u8, b: u8) -> Self {
        Self { r, g, b }
    }

    /// `#rrggbb` (either case); `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let hex = text.strip_prefix('#')?;
        if hex.len() != 6 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let channel = |at: usize| u8::from_str_radix(&hex[at..at + 2], 16).ok();
        Some(Self::rgb(channel(0)?, channel(2)?, channel(4)?))
    }

    /// Relative luminance (WCAG 2.1): 0 for black, 1 for white.
    pub fn luminance(self) -> f64 {
        let linear = |channel: u8| {
            let c = f64::from(channel) / 255.0;
            if c <= 0.040_45 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * linear(self.r) + 0.7152 * linear(self.g) + 0.0722 * linear(self.b)
    }

    /// The contrast ratio with `other`, from 1 (the same) to 21 (black on white).
    pub fn contrast(self, other: Colour) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }

    /// This colour moved `share` (0 to 1) of the way to `target`.
    pub fn mix(self, target: Colour, share: f64) -> Colour {
        let share = share.clamp(0.0, 1.0);
        let channel = |from: u8, to: u8| {
            let value = f64::from(from) + (f64::from(to) - f64::from(from)) * share;
            value.round().clamp(0.0, 255.0) as u8
        };
        Colour::rgb(
            channel(self.r, target.r),
            channel(self.g, target.g),
            channel(self.b, target.b),
        )
    }

    /// This colour, or the least mix of it with `target` that reads on `paper` (at
    /// least 4.5:1). `target` must read on `paper` itself (black on white, white on
    /// dark paper).
    pub fn readable_on(self, paper: Colour, target: Colour) -> Colour {
        if self.contrast(paper) >= AA_TEXT {
            return self;
        }
        // Each channel moves one way, so the contrast grows with the share: halve the
        // interval, keeping its upper end readable.
        let (mut low, mut high) = (0.0, 1.0);
        for _ in 0..24 {
            let middle = (low + high) / 2.0;
            if self.mix(target, middle).contrast(paper) >= AA_TEXT {
                high = middle;
            } else {
                low = middle;
            }
        }
        self.mix(target, high)
    }

    /// The text colour for a button of this colour: white, or near-black where white does
    /// not read (a light accent), or black for the few mid-tones where neither does.
    pub fn text_on(self) -> Colour {
        [Colour::WHITE, Colour::INK]
            .into_iter()
            .find(|text| text.contrast(self) >= AA_TEXT)
            .unwrap_or(Colour::BLACK)
    }
}

impl fmt::Display for Colour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
    }
}

/// The colours the pages and mail draw from the owner's accent, each as `#rrggbb`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Palette {
    /// The accent as the owner chose it: buttons and the header's band.
    pub accent: String,
    /// Text on the accent (a button's label).
    pub accent_text: String,
    /// The accent as text on white (links): darkened if the accent is too light.
    pub accent_link: String,
    /// The accent in dark mode (links and buttons on dark paper): lightened if the accent
    /// is too dark.
    pub accent_dark: String,
    /// Text on the dark-mode accent.
    pub accent_dark_text: String,
}

impl Palette {
    pub fn of(accent: Colour) -> Self {
        let dark = accent.readable_on(Colour::DARK_PAPER, Colour::WHITE);
        Self {
            accent: accent.to_string(),
            accent_text: accent.text_on().to_string(),
            accent_link: accent.readable_on(Colour::PAPER, Colour::BLACK).to_string(),
            accent_dark: dark.to_string(),
            accent_dark_text: dark.text_on().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn colour(text: &str) -> Colour {
        Colour::parse(text).unwrap()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 0.01
    }

    #[test]
    fn colours_are_read_and_written_as_hex() {
        assert_eq!(colour("#AA3300"), Colour::rgb(0xaa, 0x33, 0x00));
        assert_eq!(colour("#0b57d0").to_string(), "#0b57d0");
        for bad in ["blue", "#abc", "0b57d0", "#0b57d0ff", "#0b57dz", "#ééé"] {
            assert_eq!(Colour::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn luminance_and_contrast_follow_wcag() {
        assert!(close(Colour::WHITE.luminance(), 1.0));
        assert!(close(Colour::BLACK.luminance(), 0.0));
        assert!(close(Colour::BLACK.contrast(Colour::WHITE), 21.0));
        assert!(
            close(Colour::WHITE.contrast(Colour::BLACK), 21.0),
            "either way"
        );
        assert!(close(colour("#777777").contrast(Colour::WHITE), 4.48));
        assert!(close(colour("#767676").contrast(Colour::WHITE), 4.54));
        assert!(close(colour("#0b57d0").contrast(Colour::WHITE), 6.39));
        assert!(close(colour("#ff0000").luminance(), 0.2126));
    }

    #[test]
    fn button_text_is_white_on_dark_and_near_black_on_light_accents() {
        assert_eq!(colour("#0b57d0").text_on(), Colour::WHITE);
        assert_eq!(colour("#aa3300").text_on(), Colour::WHITE);
        assert_eq!(colour("#f5c518").text_on(), Colour::INK, "a yellow");
        assert_eq!(colour("#ffffff").text_on(), Colour::INK);
        // A mid grey on which neither white (4.35:1) nor near-black (4.33:1) reads.
        assert_eq!(colour("#797979").text_on(), Colour::BLACK);
    }

    #[test]
    fn a_readable_accent_is_kept_as_chosen() {
        let palette = Palette::of(colour("#0b57d0"));
        assert_eq!(palette.accent, "#0b57d0");
        assert_eq!(palette.accent_link, "#0b57d0", "6.4:1 on white");
        assert_eq!(palette.accent_text, "#ffffff");
        assert_ne!(palette.accent_dark, "#0b57d0", "too dark on dark paper");
        let light = Palette::of(colour("#8ab4f8"));
        assert_eq!(light.accent_dark, "#8ab4f8", "readable on dark paper");
        assert_ne!(light.accent_link, "#8ab4f8", "too light on white");
    }

    #[test]
    fn a_too_light_accent_is_darkened_just_enough_for_links() {
        let yellow = colour("#f5c518");
        let link = colour(&Palette::of(yellow).accent_link);
        assert!(link.contrast(Colour::WHITE) >= AA_TEXT);
        assert!(
            link.contrast(Colour::WHITE) < 4.7,
            "no darker than needed: {link}"
        );
        // Still a yellow's hue: red above green above blue.
        assert!(link.r > link.g && link.g > link.b, "{link}");
    }

    #[test]
    fn a_too_dark_accent_is_lightened_just_enough_for_dark_mode() {
        let navy = colour("#1a2b5c");
        let dark = colour(&Palette::of(navy).accent_dark);
        assert!(dark.contrast(Colour::DARK_PAPER) >= AA_TEXT);
        assert!(dark.contrast(Colour::DARK_PAPER) < 4.7, "{dark}");
        assert!(dark.b > dark.r, "still blue: {dark}");
    }

    #[test]
    fn every_accent_gives_readable_text_links_and_dark_mode() {
        for r in (0..=255).step_by(17) {
            for g in (0..=255).step_by(17) {
                for b in (0..=255).step_by(17) {
                    let accent = Colour::rgb(r, g, b);
                    let palette = Palette::of(accent);
                    let [text, link, dark, dark_text] = [
                        &palette.accent_text,
                        &palette.accent_link,
                        &palette.accent_dark,
                        &palette.accent_dark_text,
                    ]
                    .map(|hex| colour(hex));
                    assert!(text.contrast(accent) >= AA_TEXT, "{accent}");
                    assert!(link.contrast(Colour::PAPER) >= AA_TEXT, "{accent}");
                    assert!(dark.contrast(Colour::DARK_PAPER) >= AA_TEXT, "{accent}");
                    assert!(dark_text.contrast(dark) >= AA_TEXT, "{accent}");
                }
            }
        }
    }
}
