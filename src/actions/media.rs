//! Images the owner adds (the API, the media page, the composer): what is taken, how it is
//! prepared, and why one is refused (`MediaRefusal`, the sentence every face shows).
//!
//! An upload is judged by its bytes, never by its name or declared type: PNG, JPEG, GIF and
//! WebP are taken (their magic numbers, then a full decode), anything else is refused. At
//! most 5 MB and 40 million pixels. An image wider than 1,600 px is scaled down to 1,600
//! (aspect kept); a photo carrying camera metadata (EXIF or XMP: the place it was taken,
//! the camera) is written anew without it, turned upright as the metadata said. Otherwise
//! the bytes are kept exactly as sent, so an animated GIF stays animated. The stored bytes'
//! SHA-256 names the file, so the same image added twice is one image.

use std::io::Cursor;
use std::sync::LazyLock;

use image::codecs::gif::GifDecoder;
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{AnimationDecoder, DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use uuid::Uuid;

use super::Services;
use crate::store::{MediaDeletion, MediaRecord, MediaUse, NewMedia};

/// The largest image taken, in bytes.
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;
/// Wider images are scaled down to this width.
pub const MAX_WIDTH: u32 = 1600;
/// The most pixels an upload may have (a 5 MB file can hold a huge, mostly empty image).
pub const MAX_PIXELS: u64 = 40_000_000;
/// What decoding one image may allocate.
const MAX_DECODE_ALLOC: u64 = 512 * 1024 * 1024;
/// The frames an animated GIF's check decodes at most (each a full canvas).
const MAX_GIF_CHECK_PIXELS: u64 = 400_000_000;
/// JPEG quality when a photo is written anew.
const JPEG_QUALITY: u8 = 88;
/// Uploads prepared at once: decoding takes a core and up to `MAX_DECODE_ALLOC`.
static PREPARING: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(2));

/// Why an image was not taken or not deleted, in the words every face shows.
#[derive(Debug, thiserror::Error)]
pub enum MediaRefusal {
    #[error("The file is empty: nothing arrived. Choose the image again.")]
    Empty,
    #[error(
        "The image is over 5 MB. Make it smaller (a width of 1,600 pixels is plenty for mail) and add it again."
    )]
    TooLarge,
    #[error(
        "Only PNG, JPEG, GIF and WebP images can be added, and this file is none of them (what counts is what is in the file, not its name or type)."
    )]
    NotAnImage,
    #[error(
        "This file starts as a {0} image but cannot be read as one: it may be cut short or damaged. Save it again and add it once more."
    )]
    Broken(&'static str),
    #[error(
        "The image is {width}×{height} pixels, more than the 40 million an image here may have. Make it smaller and add it again."
    )]
    TooManyPixels { width: u32, height: u32 },
    #[error("There is no such image.")]
    NotFound,
    #[error(
        "This image is in {} that went out ({}): the copies in people's mailboxes still show it, so it stays.",
        if .0.len() == 1 { "a campaign" } else { "campaigns" },
        quoted(.0)
    )]
    InUse(Vec<String>),
    #[error(
        "This image is the list's logo, shown at the top of the public pages and of the mail. Choose another logo (or “No logo”) on the Settings page first, then delete it."
    )]
    Logo,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// “A”, “B” and “C”.
fn quoted(subjects: &[String]) -> String {
    let quoted: Vec<String> = subjects.iter().map(|s| format!("“{s}”")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

/// An image as the faces show it: the stored record and its absolute URL.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Media {
    pub id: Uuid,
    pub url: String,
    pub content_type: String,
    pub width: i32,
    pub height: i32,
    pub bytes: i32,
    pub original_name: Option<String>,
    pub created_at: crate::store::Timestamp,
    /// From the site's root, for pages of this site.
    pub path: String,
    /// The campaigns that show it, newest first (filled in by `list`).
    pub used_in: Vec<MediaUse>,
}

impl Media {
    pub fn new(services: &Services, record: MediaRecord) -> Self {
        let path = record.path();
        Self {
            id: record.id,
            url: format!("{}{path}", services.config.public_base()),
            content_type: record.content_type,
            width: record.width,
            height: record.height,
            bytes: record.bytes,
            original_name: record.original_name,
            created_at: record.created_at,
            path,
            used_in: Vec::new(),
        }
    }

    /// What the API answers for it.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "url": self.url,
            "content_type": self.content_type,
            "width": self.width,
            "height": self.height,
            "bytes": self.bytes,
            "original_name": self.original_name,
        })
    }
}

/// Takes an uploaded image (`name`: the file name it came with, if any): checks it,
/// prepares it and stores it, or finds the same image already stored.
pub async fn add(
    services: &Services,
    data: Vec<u8>,
    name: Option<&str>,
) -> Result<Media, MediaRefusal> {
    if data.is_empty() {
        return Err(MediaRefusal::Empty);
    }
    if data.len() > MAX_IMAGE_BYTES {
        return Err(MediaRefusal::TooLarge);
    }
    let (kind, format) = Kind::sniff(&data).ok_or(MediaRefusal::NotAnImage)?;
    let _turn = PREPARING
        .acquire()
        .await
        .map_err(|err| anyhow::anyhow!("the image queue closed: {err}"))?;
    let prepared = tokio::task::spawn_blocking(move || prepare(data, kind, format)).await;
    let prepared = match prepared {
        Ok(result) => result?,
        // A decoder that panics on a hostile file: the file is broken, the server is not.
        Err(err) => {
            tracing::warn!(error = %err, "decoding an uploaded image failed");
            return Err(MediaRefusal::Broken(kind.name));
        }
    };
    let media = NewMedia {
        hash: hex::encode(Sha256::digest(&prepared.data)),
        content_type: prepared.format.content_type,
        ext: prepared.format.ext,
        width: prepared.width,
        height: prepared.height,
        data: prepared.data,
        original_name: name.and_then(clean_name),
    };
    let record = services.store.add_media(&media).await?;
    Ok(Media::new(services, record))
}

/// Stored images, newest first, each with the campaigns that show it.
pub async fn list(services: &Services, limit: i64, offset: i64) -> anyhow::Result<Vec<Media>> {
    let records = services.store.media_list(limit, offset).await?;
    let uses = services.store.media_uses().await?;
    Ok(records
        .into_iter()
        .map(|record| {
            let mut media = Media::new(services, record);
            media.used_in = uses
                .iter()
                .filter(|used| used.media_id == media.id)
                .cloned()
                .collect();
            media
        })
        .collect())
}

/// Deletes an image, unless a campaign that went out shows it or it is the logo.
pub async fn delete(services: &Services, id: Uuid) -> Result<(), MediaRefusal> {
    match services.store.delete_media(id).await? {
        MediaDeletion::Deleted => Ok(()),
        MediaDeletion::NotFound => Err(MediaRefusal::NotFound),
        MediaDeletion::InUse(subjects) => Err(MediaRefusal::InUse(subjects)),
        MediaDeletion::Logo => Err(MediaRefusal::Logo),
    }
}

/// A file name fit to show: its last path part, no control characters, at most 200
/// characters; `None` when nothing is left.
fn clean_name(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    let clean = clean.trim().to_string();
    (!clean.is_empty()).then_some(clean)
}

/// One of the formats taken, as stored and served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub content_type: &'static str,
    pub ext: &'static str,
    name: &'static str,
}

const PNG: Kind = Kind {
    content_type: "image/png",
    ext: "png",
    name: "PNG",
};
const JPEG: Kind = Kind {
    content_type: "image/jpeg",
    ext: "jpg",
    name: "JPEG",
};
const GIF: Kind = Kind {
    content_type: "image/gif",
    ext: "gif",
    name: "GIF",
};
const WEBP: Kind = Kind {
    content_type: "image/webp",
    ext: "webp",
    name: "WebP",
};

impl Kind {
    /// What the file's first bytes say it is, if it is one of the four taken.
    fn sniff(data: &[u8]) -> Option<(Self, ImageFormat)> {
        let format = image::guess_format(data).ok()?;
        let kind = match format {
            ImageFormat::Png => PNG,
            ImageFormat::Jpeg => JPEG,
            ImageFormat::Gif => GIF,
            ImageFormat::WebP => WEBP,
            _ => return None,
        };
        Some((kind, format))
    }

    /// The content type of a stored file's extension (`/media/{hash}.{ext}`).
    pub fn of_ext(ext: &str) -> Option<Self> {
        [PNG, JPEG, GIF, WEBP].into_iter().find(|k| k.ext == ext)
    }
}

/// An image ready to store.
#[derive(Debug)]
struct Prepared {
    format: Kind,
    width: u32,
    height: u32,
    data: Vec<u8>,
}

/// Checks an image of the kind its bytes say, and scales or cleans it where needed: the
/// blocking part of `add`.
fn prepare(data: Vec<u8>, kind: Kind, format: ImageFormat) -> Result<Prepared, MediaRefusal> {
    let broken = || MediaRefusal::Broken(kind.name);
    let mut reader = ImageReader::with_format(Cursor::new(&data[..]), format);
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|_| broken())?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(broken());
    }
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(MediaRefusal::TooManyPixels { width, height });
    }
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let metadata = decoder.exif_metadata().ok().flatten().is_some()
        || decoder.xmp_metadata().ok().flatten().is_some();
    let mut image = DynamicImage::from_decoder(decoder).map_err(|_| broken())?;
    if kind == GIF {
        check_every_frame(&data).map_err(|_| broken())?;
    }
    if width <= MAX_WIDTH && !metadata && orientation == Orientation::NoTransforms {
        return Ok(Prepared {
            format: kind,
            width,
            height,
            data,
        });
    }
    image.apply_orientation(orientation);
    if image.width() > MAX_WIDTH {
        let height = scaled_height(image.width(), image.height());
        image = image.resize_exact(MAX_WIDTH, height, FilterType::CatmullRom);
    }
    let (format, data) = encode(kind, &image).map_err(|err| anyhow::anyhow!(err))?;
    Ok(Prepared {
        format,
        width: image.width(),
        height: image.height(),
        data,
    })
}

/// The height that keeps the aspect at `MAX_WIDTH` wide (at least one pixel).
fn scaled_height(width: u32, height: u32) -> u32 {
    let scaled =
        (u64::from(height) * u64::from(MAX_WIDTH) + u64::from(width) / 2) / u64::from(width);
    u32::try_from(scaled.max(1)).unwrap_or(u32::MAX)
}

/// Decodes an animated GIF's frames (a broken later frame would show as a broken image in
/// mail), up to a bound on the work.
fn check_every_frame(data: &[u8]) -> image::ImageResult<()> {
    let decoder = GifDecoder::new(Cursor::new(data))?;
    let (width, height) = decoder.dimensions();
    let per_frame = u64::from(width) * u64::from(height);
    let mut decoded = 0u64;
    for frame in decoder.into_frames() {
        frame?;
        decoded += per_frame.max(1);
        if decoded > MAX_GIF_CHECK_PIXELS {
            break;
        }
    }
    Ok(())
}

/// Writes the image anew: a photo (JPEG, an opaque WebP) as JPEG, the rest (PNG, a GIF's
/// first frame, a WebP with transparency) as PNG.
fn encode(original: Kind, image: &DynamicImage) -> image::ImageResult<(Kind, Vec<u8>)> {
    let photo = original == JPEG || (original == WEBP && !image.color().has_alpha());
    let mut out = Vec::new();
    if photo {
        let encoder = JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY);
        DynamicImage::ImageRgb8(image.to_rgb8()).write_with_encoder(encoder)?;
        Ok((JPEG, out))
    } else {
        image.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)?;
        Ok((PNG, out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepare(data: Vec<u8>) -> Result<Prepared, MediaRefusal> {
        let (kind, format) = Kind::sniff(&data).ok_or(MediaRefusal::NotAnImage)?;
        super::prepare(data, kind, format)
    }

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        });
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(image)
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn a_small_image_is_kept_byte_for_byte() {
        let data = png(40, 30);
        let prepared = prepare(data.clone()).unwrap();
        assert_eq!((prepared.width, prepared.height), (40, 30));
        assert_eq!(prepared.format, PNG);
        assert_eq!(prepared.data, data);
    }

    #[test]
    fn a_wide_image_is_scaled_to_1600_keeping_its_aspect() {
        let prepared = prepare(png(2000, 1000)).unwrap();
        assert_eq!((prepared.width, prepared.height), (1600, 800));
        let again = image::load_from_memory(&prepared.data).unwrap();
        assert_eq!((again.width(), again.height()), (1600, 800));
        assert_eq!(scaled_height(3000, 1), 1);
    }

    #[test]
    fn what_is_not_one_of_the_four_formats_is_refused_by_its_bytes() {
        let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
        assert!(matches!(
            prepare(svg.to_vec()),
            Err(MediaRefusal::NotAnImage)
        ));
        let bmp = b"BM\x1e\0\0\0\0\0\0\0\x1a\0\0\0".to_vec();
        assert!(matches!(prepare(bmp), Err(MediaRefusal::NotAnImage)));
        let mut cut = png(64, 64);
        cut.truncate(cut.len() / 2);
        let refusal = prepare(cut).unwrap_err();
        assert!(matches!(refusal, MediaRefusal::Broken("PNG")));
        assert!(refusal.to_string().contains("cut short or damaged"));
    }

    #[test]
    fn a_photo_loses_its_camera_metadata_and_is_turned_upright() {
        use image::ImageEncoder as _;
        // EXIF (little-endian TIFF): one entry, Orientation (0x0112) = 6, "turn 90° right".
        let exif = vec![
            b'I', b'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0,
            0,
        ];
        let pixels = image::RgbImage::from_pixel(40, 20, image::Rgb([200, 100, 50]));
        let mut photo = Vec::new();
        let mut encoder = JpegEncoder::new_with_quality(&mut photo, 90);
        encoder.set_exif_metadata(exif).unwrap();
        encoder
            .write_image(pixels.as_raw(), 40, 20, image::ExtendedColorType::Rgb8)
            .unwrap();
        let prepared = prepare(photo.clone()).unwrap();
        assert_eq!(prepared.format, JPEG);
        assert_eq!((prepared.width, prepared.height), (20, 40), "upright");
        assert_ne!(prepared.data, photo);
        let mut decoder = ImageReader::new(Cursor::new(&prepared.data))
            .with_guessed_format()
            .unwrap()
            .into_decoder()
            .unwrap();
        assert_eq!(decoder.exif_metadata().unwrap(), None, "no EXIF left");
        assert_eq!(decoder.dimensions(), (20, 40));
    }

    #[test]
    fn names_are_shown_as_their_last_part_without_control_characters() {
        assert_eq!(
            clean_name("C:\\photos\\cake\n.png").as_deref(),
            Some("cake.png")
        );
        assert_eq!(clean_name("../../etc/x.gif").as_deref(), Some("x.gif"));
        assert_eq!(clean_name("  "), None);
    }

    #[test]
    fn in_use_names_the_campaigns() {
        let one = MediaRefusal::InUse(vec!["Spring".into()]).to_string();
        assert!(one.starts_with("This image is in a campaign that went out (“Spring”)"));
        let two = MediaRefusal::InUse(vec!["A".into(), "B".into(), "C".into()]).to_string();
        assert!(two.contains("campaigns that went out (“A”, “B” and “C”)"));
    }
}
