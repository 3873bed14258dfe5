//! `omv frames --count N --out DIR --format png|jpeg|ppm|raw`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use image::{ExtendedColorType, ImageEncoder};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use openmvproto::client::Frame;
use openmvproto::framing::payload::PixFormat;

use crate::cli::{FramesArgs, ImageFormat, LinkArgs};
use crate::frame_wait::next_frame;

fn format_name(f: PixFormat) -> &'static str {
    match f {
        PixFormat::GRAYSCALE => "grayscale",
        PixFormat::RGB565 => "rgb565",
        PixFormat::JPEG => "jpeg",
        _ => "other",
    }
}

fn extension(format: ImageFormat, frame: &Frame) -> &'static str {
    match format {
        ImageFormat::Png => "png",
        ImageFormat::Jpeg => "jpg",
        // Netpbm: PGM for grayscale, PPM for colour.
        ImageFormat::Ppm if frame.format == PixFormat::GRAYSCALE => "pgm",
        ImageFormat::Ppm => "ppm",
        ImageFormat::Raw if frame.is_jpeg() => "jpg",
        ImageFormat::Raw => "raw",
    }
}

/// Writes one frame; grayscale stays one channel, so files hold exactly the cam's pixels.
fn save(frame: &Frame, format: ImageFormat, path: &Path) -> Result<()> {
    let file = || std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()));
    if format == ImageFormat::Raw || (format == ImageFormat::Jpeg && frame.is_jpeg()) {
        return std::fs::write(path, &frame.data).with_context(|| format!("cannot write {}", path.display()));
    }
    let (w, h) = (frame.width, frame.height);
    let (pixels, color) = if frame.format == PixFormat::GRAYSCALE {
        let n = (w as usize) * (h as usize);
        let px = frame.data.get(..n).context("frame shorter than its size")?;
        (px.to_vec(), ExtendedColorType::L8)
    } else {
        let rgb = frame.to_rgb888()?;
        (rgb.pixels, ExtendedColorType::Rgb8)
    };
    let (w, h) = if frame.is_jpeg() {
        let rgb = frame.to_rgb888()?;
        (rgb.width, rgb.height)
    } else {
        (w, h)
    };
    let out = std::io::BufWriter::new(file()?);
    match format {
        ImageFormat::Png => image::codecs::png::PngEncoder::new(out).write_image(&pixels, w, h, color)?,
        ImageFormat::Jpeg => {
            image::codecs::jpeg::JpegEncoder::new_with_quality(out, 95).write_image(&pixels, w, h, color)?
        }
        ImageFormat::Ppm => {
            let sub = if color == ExtendedColorType::L8 {
                image::codecs::pnm::PnmSubtype::Graymap(image::codecs::pnm::SampleEncoding::Binary)
            } else {
                image::codecs::pnm::PnmSubtype::Pixmap(image::codecs::pnm::SampleEncoding::Binary)
            };
            image::codecs::pnm::PnmEncoder::new(out).with_subtype(sub).write_image(&pixels, w, h, color)?
        }
        ImageFormat::Raw => unreachable!("raw frames are written as they came"),
    }
    Ok(())
}

pub fn frames(link: &LinkArgs, args: &FramesArgs) -> Result<()> {
    if args.count == 0 {
        bail!("--count must be at least 1");
    }
    if !(args.frame_timeout.is_finite() && args.frame_timeout > 0.0) {
        bail!("--frame-timeout must be above 0");
    }
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let s = link.connect()?;
    let cam = &s.cam;
    cam.streaming(true, false, None)?;
    if args.raw_stream {
        // Raw at the cam's own frame size: learn it from one frame first.
        let f = next_frame_or_fail(cam, args)?;
        cam.streaming(true, true, Some((f.width, f.height)))?;
    }
    let bar = if link.json || link.quiet { ProgressBar::hidden() } else { ProgressBar::new(args.count) };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} frames, {per_sec}, eta {eta} {msg}")
            .expect("a valid template"),
    );
    let mut saved = Vec::new();
    for i in 1..=args.count {
        let f = next_frame_or_fail(cam, args)?;
        let path: PathBuf = args.out.join(format!("frame-{i:05}.{}", extension(args.format, &f)));
        save(&f, args.format, &path)?;
        bar.set_message(format!("{}x{} {}", f.width, f.height, format_name(f.format)));
        bar.inc(1);
        saved.push(json!({"path": path, "width": f.width, "height": f.height,
                          "format": format_name(f.format), "bytes": f.data.len(), "cam_fps": f.fps}));
    }
    bar.finish();
    cam.streaming(false, false, None)?;
    if link.json {
        println!("{}", serde_json::to_string_pretty(&saved)?);
    } else if !link.quiet {
        eprintln!("saved {} frames in {}", saved.len(), args.out.display());
    }
    Ok(())
}

fn next_frame_or_fail(cam: &openmvproto::client::Camera, args: &FramesArgs) -> Result<Frame> {
    match next_frame(cam, Duration::from_secs_f64(args.frame_timeout))? {
        Some(f) => Ok(f),
        None => bail!("no frame within {} s", args.frame_timeout),
    }
}
