//! Bytes to text: BOM first, then UTF-8, then a guess (chardetng) decoded by encoding_rs.
//!
//! What is refused, and why, is part of the contract: an empty file (`empty`), bytes with NULs
//! that are not UTF-16 (`not_text`), and bytes that no known encoding decodes cleanly
//! (`decode_error`).

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8};

use crate::event::FailKind;

/// Text decoded from a file, with the name of the encoding it was in.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub text: String,
    /// WHATWG name, lower-cased (`utf-8`, `gbk`, `big5`, `utf-16le`…).
    pub encoding: String,
}

/// Why bytes are not taken as text; `kind` is the `error.kind` of `sluice.document.failed`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct DecodeFailure {
    pub kind: FailKind,
    pub message: String,
}

fn fail(kind: FailKind, message: impl Into<String>) -> DecodeFailure {
    DecodeFailure {
        kind,
        message: message.into(),
    }
}

/// How much of the start of the file is examined for NULs and UTF-16 patterns.
const SNIFF: usize = 8192;

pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeFailure> {
    if bytes.is_empty() {
        return Err(fail(
            FailKind::Empty,
            "the file is empty; it is ingested once it has content",
        ));
    }
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        if bytes.len() == bom_len {
            return Err(fail(
                FailKind::Empty,
                format!(
                    "the file holds only a {} byte-order mark; it is ingested once it has content",
                    encoding.name()
                ),
            ));
        }
        return decode_strict(encoding, &bytes[bom_len..]);
    }
    if let Some(encoding) = sniff_utf16(bytes).or_else(|| sniff_utf16_text(bytes)) {
        return decode_strict(encoding, bytes);
    }
    let head = &bytes[..bytes.len().min(SNIFF)];
    if head.contains(&0) {
        return Err(fail(
            FailKind::NotText,
            "the file holds NUL bytes and no UTF-16 pattern: it looks binary",
        ));
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return checked(text.to_string(), UTF_8);
    }

    let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    let guess = detector.guess(None, Utf8Detection::Deny);
    decode_strict(guess, bytes)
}

/// UTF-16 without a BOM: one of the two byte lanes is mostly NUL (ASCII) or the text is CJK-heavy
/// with an even length; we accept it only when the lanes are clearly lopsided.
fn sniff_utf16(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(SNIFF) & !1];
    if head.len() < 4 {
        return None;
    }
    let pairs = head.len() / 2;
    let even_nul = head.iter().step_by(2).filter(|b| **b == 0).count();
    let odd_nul = head.iter().skip(1).step_by(2).filter(|b| **b == 0).count();
    if odd_nul * 10 >= pairs * 6 && even_nul * 20 <= pairs {
        Some(UTF_16LE)
    } else if even_nul * 10 >= pairs * 6 && odd_nul * 20 <= pairs {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// UTF-16 without a BOM whose text is mostly Han (so its NUL lane is too thin to see): one of the
/// two byte orders decodes the start without a stray surrogate into varied text that is almost
/// all Han, CJK punctuation, full-width forms and ASCII. Bytes in GBK or Big5 read as UTF-16 land
/// in Hangul, Yi, surrogates and other blocks instead, so they are not taken.
fn sniff_utf16_text(bytes: &[u8]) -> Option<&'static Encoding> {
    if !bytes.len().is_multiple_of(2) || bytes.len() < 8 {
        return None;
    }
    let head = &bytes[..bytes.len().min(SNIFF) & !1];
    let plausible = |units: &mut dyn Iterator<Item = u16>| {
        let (mut total, mut good, mut han) = (0usize, 0usize, 0usize);
        let mut distinct = std::collections::HashSet::new();
        for c in char::decode_utf16(units) {
            let Ok(c) = c else { return false };
            total += 1;
            if distinct.len() < 8 {
                distinct.insert(c);
            }
            let is_han = super::script::is_han(c);
            han += usize::from(is_han);
            good += usize::from(
                is_han
                    || matches!(c, '\u{3000}'..='\u{303f}' | '\u{ff00}'..='\u{ffef}'
                        | '\u{2010}'..='\u{2027}' | ' '..='~' | '\n' | '\r' | '\t'),
            );
        }
        // Text is varied: one unit repeated is a pattern of bytes, not writing.
        total > 0 && good * 100 >= total * 95 && han * 2 >= total && distinct.len() >= 8
    };
    let le = &mut head
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]));
    if plausible(le) {
        return Some(UTF_16LE);
    }
    let be = &mut head
        .chunks_exact(2)
        .map(|p| u16::from_be_bytes([p[0], p[1]]));
    plausible(be).then_some(UTF_16BE)
}

fn decode_strict(encoding: &'static Encoding, bytes: &[u8]) -> Result<Decoded, DecodeFailure> {
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(fail(
            FailKind::DecodeError,
            format!(
                "the bytes are not valid {} (the best guess) nor UTF-8: the file is in no known \
                 text encoding",
                encoding.name()
            ),
        ));
    }
    checked(text.into_owned(), encoding)
}

/// Text whose characters are mostly control characters was decoded from something that is not
/// text (a single-byte guess accepts any byte).
fn checked(text: String, encoding: &'static Encoding) -> Result<Decoded, DecodeFailure> {
    let total = text.chars().take(SNIFF).count().max(1);
    let control = text
        .chars()
        .take(SNIFF)
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
        .count();
    if control * 20 > total {
        let kind = if text.contains('\0') {
            FailKind::NotText
        } else {
            FailKind::DecodeError
        };
        return Err(fail(
            kind,
            format!(
                "{control} of the first {total} characters decoded as {} are control characters: \
                 the file is not text in a known encoding",
                encoding.name()
            ),
        ));
    }
    Ok(Decoded {
        text,
        encoding: encoding.name().to_lowercase(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str =
        "海口高新区：“飞地”经济有声有色\n\n近年来,海口高新区积极探索“飞地”经济合作模式,\
        在海南省内与博鳌乐城国际医疗旅游先行区联手打造海南自贸港首个“飞地经济合作示范区”。";

    #[test]
    fn utf8_is_taken_as_is() {
        let d = decode(SAMPLE.as_bytes()).unwrap();
        assert_eq!((d.text.as_str(), d.encoding.as_str()), (SAMPLE, "utf-8"));
    }

    #[test]
    fn gbk_and_gb18030_decode_to_the_same_text() {
        let (bytes, _, _) = encoding_rs::GB18030.encode(SAMPLE);
        let d = decode(&bytes).unwrap();
        assert_eq!(d.text, SAMPLE);
        assert!(
            d.encoding == "gbk" || d.encoding == "gb18030",
            "{}",
            d.encoding
        );
    }

    #[test]
    fn big5_decodes() {
        let traditional = "臺灣高鐵今年營收創新高,旅客人次突破六千萬。政府表示將持續投資交通建設。";
        let (bytes, _, _) = encoding_rs::BIG5.encode(traditional);
        let d = decode(&bytes).unwrap();
        assert_eq!(d.text, traditional);
        assert_eq!(d.encoding, "big5");
    }

    #[test]
    fn utf16_with_and_without_bom_decodes() {
        let mut le = vec![0xFF, 0xFE];
        for unit in "Hello world, 你好".encode_utf16() {
            le.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(decode(&le).unwrap().text, "Hello world, 你好");
        let be: Vec<u8> = "Plain ASCII text in UTF-16BE"
            .encode_utf16()
            .flat_map(|u| u.to_be_bytes())
            .collect();
        let d = decode(&be).unwrap();
        assert_eq!(
            (d.text.as_str(), d.encoding.as_str()),
            ("Plain ASCII text in UTF-16BE", "utf-16be")
        );
    }

    #[test]
    fn chinese_utf16_without_a_bom_decodes_in_either_byte_order() {
        for (name, encode) in [
            ("utf-16le", u16::to_le_bytes as fn(u16) -> [u8; 2]),
            ("utf-16be", u16::to_be_bytes),
        ] {
            let bytes: Vec<u8> = SAMPLE.encode_utf16().flat_map(encode).collect();
            let d = decode(&bytes).unwrap();
            assert_eq!((d.text.as_str(), d.encoding.as_str()), (SAMPLE, name));
        }
    }

    #[test]
    fn a_file_of_only_a_byte_order_mark_is_empty() {
        for bom in [&[0xEF, 0xBB, 0xBF][..], &[0xFF, 0xFE], &[0xFE, 0xFF]] {
            assert_eq!(decode(bom).unwrap_err().kind, FailKind::Empty, "{bom:?}");
        }
    }

    #[test]
    fn a_utf8_bom_is_dropped() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice("abc".as_bytes());
        assert_eq!(decode(&bytes).unwrap().text, "abc");
    }

    #[test]
    fn refusals_say_what_they_are() {
        assert_eq!(decode(b"").unwrap_err().kind, FailKind::Empty);
        let png = [
            0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H',
        ];
        assert_eq!(decode(&png).unwrap_err().kind, FailKind::NotText);
        let junk: Vec<u8> = (0..400)
            .map(|i| if i % 2 == 0 { 0x81 } else { 0x7F })
            .collect();
        assert_eq!(decode(&junk).unwrap_err().kind, FailKind::DecodeError);
    }
}
