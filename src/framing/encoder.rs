//! Writing packets: into a caller's buffer, or as pieces around a payload that is not copied.

use super::{Checksum, Header, HEADER_LEN, PAYLOAD_CRC_LEN};

/// Why a packet could not be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// The payload is longer than a u16 length field can say.
    PayloadTooLong,
    /// The output buffer is shorter than [`encoded_len`].
    BufferTooSmall,
}

/// A packet as three pieces: header, the caller's payload (untouched), and the payload CRC.
#[derive(Clone, Copy, Debug)]
pub struct Parts<'p> {
    /// The 10 header bytes, CRC-16 included (0 when CRC is off).
    pub header: [u8; HEADER_LEN],
    /// The caller's payload, untouched.
    pub payload: &'p [u8],
    /// The payload's CRC-32, little-endian (zeros when CRC is off); [`Parts::crc_bytes`] is what
    /// goes on the wire, nothing for an empty payload.
    pub crc: [u8; PAYLOAD_CRC_LEN],
}

impl Parts<'_> {
    /// The CRC bytes to send: none when the payload is empty.
    pub fn crc_bytes(&self) -> &[u8] {
        if self.payload.is_empty() {
            &[]
        } else {
            &self.crc
        }
    }

    /// Bytes the three pieces take on the wire.
    pub fn wire_len(&self) -> usize {
        encoded_len(self.payload.len())
    }
}

/// Bytes a packet with `payload_len` payload bytes takes on the wire.
pub const fn encoded_len(payload_len: usize) -> usize {
    if payload_len == 0 {
        HEADER_LEN
    } else {
        HEADER_LEN + payload_len + PAYLOAD_CRC_LEN
    }
}

/// Builds the pieces of a packet. `header.length` is taken from the payload.
pub fn encode_parts<'p>(
    header: &Header,
    payload: &'p [u8],
    crc: Option<&dyn Checksum>,
) -> Result<Parts<'p>, EncodeError> {
    let length = u16::try_from(payload.len()).map_err(|_| EncodeError::PayloadTooLong)?;
    let h = Header { length, ..*header };
    let pcrc = match (crc, payload.is_empty()) {
        (Some(c), false) => c.crc32(payload).to_le_bytes(),
        _ => [0; 4],
    };
    Ok(Parts { header: h.emit(crc), payload, crc: pcrc })
}

/// Writes a whole packet into `out`, returning its length.
pub fn encode(
    header: &Header,
    payload: &[u8],
    crc: Option<&dyn Checksum>,
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    let n = encoded_len(payload.len());
    let out = out.get_mut(..n).ok_or(EncodeError::BufferTooSmall)?;
    let p = encode_parts(header, payload, crc)?;
    let (head, rest) = out.split_at_mut(HEADER_LEN);
    head.copy_from_slice(&p.header);
    if !payload.is_empty() {
        let (body, tail) = rest.split_at_mut(payload.len());
        body.copy_from_slice(payload);
        tail.copy_from_slice(&p.crc);
    }
    Ok(n)
}

/// Completes a packet whose payload the caller already wrote at `buf[HEADER_LEN..]`: fills in
/// the header and the payload CRC. Returns the packet length.
pub fn seal(
    header: &Header,
    payload_len: usize,
    crc: Option<&dyn Checksum>,
    buf: &mut [u8],
) -> Result<usize, EncodeError> {
    let length = u16::try_from(payload_len).map_err(|_| EncodeError::PayloadTooLong)?;
    let n = encoded_len(payload_len);
    let buf = buf.get_mut(..n).ok_or(EncodeError::BufferTooSmall)?;
    let (head, rest) = buf.split_first_chunk_mut::<HEADER_LEN>().ok_or(EncodeError::BufferTooSmall)?;
    Header { length, ..*header }.emit_into(head, crc);
    // Checked splits (no panic path): without a payload there is no CRC field.
    if let Some((body, tail)) = rest.split_at_mut_checked(payload_len) {
        if let Some(field) = tail.first_chunk_mut::<PAYLOAD_CRC_LEN>() {
            *field = crc.map_or(0, |c| c.crc32(body)).to_le_bytes();
        }
    }
    Ok(n)
}
