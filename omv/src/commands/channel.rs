//! `omv channel list|read|write|size|shape|ioctl`.

use std::io::{Read, Write};

use anyhow::{bail, Context, Result};
use serde_json::json;

use openmvproto::client::Camera;
use openmvproto::framing::payload::ChannelFlags;

use crate::cli::{ChannelCmd, LinkArgs};

fn flag_names(f: ChannelFlags) -> Vec<String> {
    f.iter_names().map(|(n, _)| n.to_ascii_lowercase()).collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn parse_hex(s: &str) -> Result<Vec<u8>> {
    let s: String = s.chars().filter(|c| !c.is_whitespace() && *c != ':').collect();
    let s = s.strip_prefix("0x").unwrap_or(&s);
    if !s.len().is_multiple_of(2) {
        bail!("hex argument {s:?} has an odd number of digits");
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).with_context(|| format!("{:?} is not hex", &s[i..i + 2])))
        .collect()
}

fn read_locked(cam: &Camera, name: &str, offset: u32, len: Option<u32>) -> Result<Vec<u8>> {
    if !cam.lock(name)? {
        bail!("channel {name} is busy (nothing ready); try again");
    }
    let r = (|| -> Result<Vec<u8>> {
        let n = match len {
            Some(n) => n,
            None => cam.size(name)?.saturating_sub(offset),
        };
        Ok(cam.read(name, offset, n)?)
    })();
    let u = cam.unlock(name);
    let data = r?;
    u?;
    Ok(data)
}

pub fn channel(link: &LinkArgs, cmd: &ChannelCmd) -> Result<()> {
    let s = link.connect()?;
    let cam = &s.cam;
    match cmd {
        ChannelCmd::List => {
            let list = cam.list()?;
            let poll = cam.poll()?;
            let ready = |id: u8| id < 32 && poll & (1 << id) != 0;
            if link.json {
                let v: Vec<_> = list
                    .iter()
                    .map(
                        |c| json!({"id": c.id.0, "name": c.name, "flags": flag_names(c.flags), "ready": ready(c.id.0)}),
                    )
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for c in &list {
                    let state = if ready(c.id.0) { "ready" } else { "-" };
                    println!("{:3} {:<14} {:<6} {}", c.id.0, c.name, state, flag_names(c.flags).join(","));
                }
            }
        }
        ChannelCmd::Read { name, offset, len, lock, out } => {
            let data = if *lock {
                read_locked(cam, name, *offset, *len)?
            } else {
                let n = match len {
                    Some(n) => *n,
                    None => cam.size(name.as_str())?.saturating_sub(*offset),
                };
                cam.read(name.as_str(), *offset, n)?
            };
            if let Some(path) = out {
                std::fs::write(path, &data).with_context(|| format!("cannot write {}", path.display()))?;
            }
            if link.json {
                let text = std::str::from_utf8(&data).ok();
                println!(
                    "{}",
                    json!({"channel": name, "offset": offset, "len": data.len(), "hex": hex(&data), "text": text})
                );
            } else if out.is_none() {
                std::io::stdout().write_all(&data)?;
            }
        }
        ChannelCmd::Write { name, file, offset } => {
            let data = match file {
                Some(p) if p.as_os_str() != "-" => {
                    std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?
                }
                _ => {
                    let mut b = Vec::new();
                    std::io::stdin().read_to_end(&mut b).context("cannot read stdin")?;
                    b
                }
            };
            cam.write(name.as_str(), *offset, &data)?;
            if link.json {
                println!("{}", json!({"channel": name, "offset": offset, "written": data.len()}));
            }
        }
        ChannelCmd::Size { name } => {
            let n = cam.size(name.as_str())?;
            if link.json {
                println!("{}", json!({"channel": name, "size": n}));
            } else {
                println!("{n}");
            }
        }
        ChannelCmd::Shape { name } => {
            let dims = cam.shape(name.as_str())?;
            if link.json {
                println!("{}", json!({"channel": name, "shape": dims}));
            } else {
                println!("{}", dims.iter().map(u32::to_string).collect::<Vec<_>>().join("x"));
            }
        }
        ChannelCmd::Ioctl { name, request, arg } => {
            let arg = parse_hex(arg)?;
            cam.ioctl(name.as_str(), *request, &arg)?;
            if link.json {
                println!("{}", json!({"channel": name, "request": request, "arg": hex(&arg), "ok": true}));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_arguments_parse_and_bad_ones_fail() {
        assert_eq!(parse_hex("01 00 ff").unwrap(), vec![1, 0, 255]);
        assert_eq!(parse_hex("").unwrap(), Vec::<u8>::new());
        assert!(parse_hex("abc").is_err());
        assert!(parse_hex("zz").is_err());
    }
}
