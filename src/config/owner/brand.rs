//! The list's look as readers see it ([`Brand`]): the colours drawn from the owner's
//! accent and the logo, for the public pages, the default email layout and the system
//! messages' layout (each template reads them as `brand.accent`, `brand.logo.url`, …).

use crate::domain::{Colour, Palette};

use super::{Current, DEFAULT_ACCENT_COLOR};

/// The tallest and widest the logo is shown, in CSS pixels.
pub const LOGO_MAX_HEIGHT: u32 = 64;
pub const LOGO_MAX_WIDTH: u32 = 200;

/// The uploaded image the owner chose as the logo, as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Logo {
    /// Where it is served, from the site's root: `/media/{hash}.{ext}`.
    pub path: String,
    pub width: u32,
    pub height: u32,
}

impl Logo {
    /// Its size shown: the image's own, made smaller (aspect kept) to fit
    /// [`LOGO_MAX_WIDTH`] × [`LOGO_MAX_HEIGHT`]; never larger.
    pub fn shown_size(&self) -> (u32, u32) {
        let (width, height) = (self.width.max(1), self.height.max(1));
        let scale = (f64::from(LOGO_MAX_WIDTH) / f64::from(width))
            .min(f64::from(LOGO_MAX_HEIGHT) / f64::from(height))
            .min(1.0);
        let side = |pixels: u32| ((f64::from(pixels) * scale).round() as u32).max(1);
        (side(width), side(height))
    }
}

/// The logo as a template shows it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ShownLogo {
    /// Absolute in mail; from the site's root on the site's own pages.
    pub url: String,
    pub width: u32,
    pub height: u32,
}

/// What the templates read of the list's look, as `brand`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Brand {
    #[serde(flatten)]
    pub palette: Palette,
    /// `None`: the list name is shown in text instead.
    pub logo: Option<ShownLogo>,
}

/// The accent as saved (checked when it was), else the shipped one.
fn accent(text: &str) -> Colour {
    Colour::parse(text)
        .or_else(|| Colour::parse(DEFAULT_ACCENT_COLOR))
        .unwrap_or(Colour::BLACK)
}

impl Default for Brand {
    /// The shipped accent, no logo.
    fn default() -> Self {
        Self {
            palette: Palette::of(accent(DEFAULT_ACCENT_COLOR)),
            logo: None,
        }
    }
}

impl Current {
    /// The look in effect; the logo's URL starts with `base` (the public URL for mail,
    /// empty for the site's own pages).
    pub fn brand(&self, base: &str) -> Brand {
        Brand {
            palette: Palette::of(accent(&self.settings.accent_color)),
            logo: self.logo_image.as_ref().map(|logo| {
                let (width, height) = logo.shown_size();
                ShownLogo {
                    url: format!("{base}{}", logo.path),
                    width,
                    height,
                }
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logo(width: u32, height: u32) -> Logo {
        Logo {
            path: "/media/abc.png".into(),
            width,
            height,
        }
    }

    #[test]
    fn the_logo_fits_200_by_64_keeping_its_aspect() {
        assert_eq!(logo(400, 100).shown_size(), (200, 50), "wide");
        assert_eq!(logo(300, 300).shown_size(), (64, 64), "square");
        assert_eq!(
            logo(1600, 10).shown_size(),
            (200, 1),
            "a thin line stays visible"
        );
        assert_eq!(logo(120, 40).shown_size(), (120, 40), "small: as it is");
    }
}
