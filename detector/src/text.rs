//! Text on images in any script: each character is drawn with the first font that has it,
//! so a name in Latin, Cyrillic, Arabic, Chinese, Japanese or Devanagari renders, never as
//! boxes. Fonts come from Debian's packages (`make setup` installs them).

use std::path::PathBuf;
use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont, point};
use image::{Rgb, RgbImage};

use crate::error::{Error, Result};

/// Fonts tried for each character, in order; `CAMEO_FONT` goes first. DejaVu Sans covers
/// Latin, Greek, Cyrillic, Arabic and Hebrew; WenQuanYi Zen Hei Chinese, Japanese and
/// Korean; GNU Unifont every other character of Unicode's basic plane.
const FONTS: [&str; 5] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/unifont/unifont.otf",
];

/// The fonts found, in order, loaded once per process.
pub struct Fonts {
    /// The first font's file, for drawing libraries that take one font.
    pub first: &'static [u8],
    fonts: Vec<FontRef<'static>>,
}

/// The fonts found; an error when there is none.
pub fn fonts() -> Result<&'static Fonts> {
    static LOADED: OnceLock<std::result::Result<Fonts, String>> = OnceLock::new();
    LOADED
        .get_or_init(|| {
            let paths = std::env::var_os("CAMEO_FONT").map(PathBuf::from).into_iter().chain(FONTS.map(PathBuf::from));
            // Fonts live as long as the process, as the drawing library keeps them.
            let files: Vec<&'static [u8]> = paths
                .filter_map(|path| std::fs::read(path).ok())
                .map(|bytes| &*Box::leak(bytes.into_boxed_slice()))
                .collect();
            let loaded: Vec<(&'static [u8], FontRef<'static>)> = files
                .into_iter()
                .filter_map(|bytes| FontRef::try_from_slice_and_index(bytes, 0).ok().map(|font| (bytes, font)))
                .collect();
            match loaded.first() {
                Some(&(first, _)) => Ok(Fonts { first, fonts: loaded.into_iter().map(|(_, font)| font).collect() }),
                None => {
                    Err("no TrueType font for --timeline labels: install fonts-dejavu-core or set CAMEO_FONT".into())
                }
            }
        })
        .as_ref()
        .map_err(|e| Error::Config(e.clone()))
}

/// The font that draws `c`: the first that has a glyph for it (the first font otherwise).
fn font_for(fonts: &Fonts, c: char) -> (&FontRef<'static>, GlyphId) {
    fonts
        .fonts
        .iter()
        .map(|font| (font, font.glyph_id(c)))
        .find(|(_, glyph)| glyph.0 != 0)
        .unwrap_or_else(|| (&fonts.fonts[0], fonts.fonts[0].glyph_id(c)))
}

/// How wide `text` is at `size` pixels.
pub fn width(fonts: &Fonts, text: &str, size: f32) -> f32 {
    text.chars()
        .map(|c| {
            let (font, glyph) = font_for(fonts, c);
            font.as_scaled(PxScale::from(size)).h_advance(glyph)
        })
        .sum()
}

/// Draws `text` with its top left at (`x`, `y`), `size` pixels tall, clipped to the image.
pub fn draw(image: &mut RgbImage, fonts: &Fonts, text: &str, (x, y): (f32, f32), size: f32, colour: Rgb<u8>) {
    let scale = PxScale::from(size);
    let baseline = y + fonts.fonts[0].as_scaled(scale).ascent();
    let mut pen = x;
    for c in text.chars() {
        let (font, id) = font_for(fonts, c);
        let scaled = font.as_scaled(scale);
        if let Some(outline) = font.outline_glyph(id.with_scale_and_position(scale, point(pen, baseline))) {
            let bounds = outline.px_bounds();
            outline.draw(|gx, gy, coverage| {
                let (px, py) = (bounds.min.x as i64 + i64::from(gx), bounds.min.y as i64 + i64::from(gy));
                if px >= 0 && py >= 0 && px < i64::from(image.width()) && py < i64::from(image.height()) {
                    let pixel = image.get_pixel_mut(px as u32, py as u32);
                    for (channel, ink) in pixel.0.iter_mut().zip(colour.0) {
                        let blended = f32::from(*channel) * (1.0 - coverage) + f32::from(ink) * coverage;
                        *channel = blended.round().clamp(0.0, 255.0) as u8;
                    }
                }
            });
        }
        pen += scaled.h_advance(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pixels darker than the white background.
    fn inked(image: &RgbImage) -> usize {
        image.pixels().filter(|p| p.0[0] < 200).count()
    }

    #[test]
    fn names_in_any_script_are_drawn_with_glyphs_not_boxes() {
        let fonts = fonts().expect("make setup installs the fonts");
        for name in ["Ingrid Bergman", "Сергей Бондарчук", "張曼玉", "三船敏郎", "अमिताभ बच्चन", "عمر الشريف"]
        {
            for c in name.chars().filter(|c| !c.is_whitespace()) {
                let (font, glyph) = font_for(fonts, c);
                assert_ne!(glyph.0, 0, "no font has {c:?} (of {name})");
                assert!(font.outline_glyph(glyph.with_scale(PxScale::from(16.0))).is_some(), "{c:?} has no outline");
            }
            let mut image = RgbImage::from_pixel(400, 40, Rgb([255, 255, 255]));
            draw(&mut image, fonts, name, (4.0, 4.0), 20.0, Rgb([0, 0, 0]));
            assert!(inked(&image) > 40, "{name} drew {} pixels", inked(&image));
            assert!(width(fonts, name, 20.0) > 20.0);
        }
    }
}
