//! UTF-16 text (what Windows tools and PowerShell write, `.reg` exports, some logs and
//! `.env` files copied from Windows): recognised with or without a byte-order mark, and
//! decoded to UTF-8 as it is read, so it is searched like any text, with its lines.

use std::io::{self, Read};

/// The byte order of UTF-16 text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Le,
    Be,
}

/// Whether `head` (the start of a file) is UTF-16 text: a byte-order mark, or, without one,
/// the pattern ASCII-heavy UTF-16 makes: most bytes on one side of each pair zero and almost
/// none on the other (binary files have zeros on both sides, or few).
pub fn sniff(head: &[u8]) -> Option<Encoding> {
    match head {
        [0xff, 0xfe, ..] => return Some(Encoding::Le),
        [0xfe, 0xff, ..] => return Some(Encoding::Be),
        _ => {}
    }
    let units = head.len() / 2;
    if units < 16 {
        return None;
    }
    let zeros = |parity: usize| {
        head[..units * 2]
            .iter()
            .skip(parity)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    let (even, odd) = (zeros(0), zeros(1));
    let mostly = |n: usize| n * 10 >= units * 7;
    let hardly = |n: usize| n * 20 <= units;
    if mostly(odd) && hardly(even) {
        Some(Encoding::Le)
    } else if mostly(even) && hardly(odd) {
        Some(Encoding::Be)
    } else {
        None
    }
}

/// Reads UTF-16 from `inner` and yields it as UTF-8 (a byte-order mark dropped, an unpaired
/// surrogate as U+FFFD).
pub struct Decoder<R> {
    inner: R,
    encoding: Encoding,
    raw: Vec<u8>,
    /// A byte of a unit cut by the end of the last read.
    odd: Option<u8>,
    /// A high surrogate waiting for its pair.
    high: Option<u16>,
    out: Vec<u8>,
    pos: usize,
    started: bool,
    done: bool,
}

impl<R: Read> Decoder<R> {
    pub fn new(inner: R, encoding: Encoding) -> Self {
        Decoder {
            inner,
            encoding,
            raw: vec![0; 64 << 10],
            odd: None,
            high: None,
            out: Vec::new(),
            pos: 0,
            started: false,
            done: false,
        }
    }

    fn push(&mut self, c: char) {
        if !self.started {
            self.started = true;
            if c == '\u{feff}' {
                return;
            }
        }
        let mut b = [0u8; 4];
        self.out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
    }

    fn unit(&mut self, u: u16) {
        if let Some(h) = self.high.take() {
            if (0xdc00..0xe000).contains(&u) {
                let c = 0x10000 + ((u32::from(h) - 0xd800) << 10) + (u32::from(u) - 0xdc00);
                self.push(char::from_u32(c).unwrap_or('\u{fffd}'));
                return;
            }
            self.push('\u{fffd}');
        }
        match u {
            0xd800..=0xdbff => self.high = Some(u),
            0xdc00..=0xdfff => self.push('\u{fffd}'),
            _ => self.push(char::from_u32(u32::from(u)).unwrap_or('\u{fffd}')),
        }
    }

    fn refill(&mut self) -> io::Result<()> {
        self.out.clear();
        self.pos = 0;
        let n = loop {
            match self.inner.read(&mut self.raw) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => break r?,
            }
        };
        if n == 0 {
            self.done = true;
            if self.high.take().is_some() || self.odd.take().is_some() {
                self.push('\u{fffd}');
            }
            return Ok(());
        }
        let mut bytes = std::mem::take(&mut self.raw);
        let mut i = 0;
        if let Some(first) = self.odd.take() {
            self.unit(self.pair(first, bytes[0]));
            i = 1;
        }
        while i + 1 < n {
            let u = self.pair(bytes[i], bytes[i + 1]);
            self.unit(u);
            i += 2;
        }
        if i < n {
            self.odd = Some(bytes[i]);
        }
        std::mem::swap(&mut self.raw, &mut bytes);
        Ok(())
    }

    fn pair(&self, a: u8, b: u8) -> u16 {
        match self.encoding {
            Encoding::Le => u16::from_le_bytes([a, b]),
            Encoding::Be => u16::from_be_bytes([a, b]),
        }
    }
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.out.len() {
            if self.done {
                return Ok(0);
            }
            self.refill()?;
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(s: &str, enc: Encoding, bom: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let units = bom.then_some(0xfeff).into_iter().chain(s.encode_utf16());
        for u in units {
            out.extend_from_slice(&match enc {
                Encoding::Le => u.to_le_bytes(),
                Encoding::Be => u.to_be_bytes(),
            });
        }
        out
    }

    #[test]
    fn utf16_is_recognised_and_decoded_either_way() {
        let text = "export HF_TOKEN=hf_x\nsecond line 😀 é\n";
        for enc in [Encoding::Le, Encoding::Be] {
            for bom in [true, false] {
                let data = encode(text, enc, bom);
                assert_eq!(sniff(&data), Some(enc), "{enc:?} bom {bom}");
                // Read in odd-sized pieces: units and surrogate pairs cut anywhere.
                let mut d = Decoder::new(std::io::Cursor::new(&data).take(u64::MAX), enc);
                d.raw = vec![0; 3];
                let mut s = String::new();
                d.read_to_string(&mut s).unwrap();
                assert_eq!(s, text, "{enc:?} bom {bom}");
            }
        }
    }

    #[test]
    fn binary_and_utf8_are_not_utf16() {
        assert_eq!(
            sniff(b"plain ASCII text that is long enough to count"),
            None
        );
        assert_eq!(sniff(&[0u8; 4096]), None);
        let elf: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 251) as u8 & 0x0f).collect();
        assert_eq!(sniff(&elf), None);
    }
}
