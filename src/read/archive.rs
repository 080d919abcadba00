//! The parts of a zip-based document (.docx, .odt, .epub), read within a bound on what they
//! expand to: a zip bomb stops at `formats.max_expanded_bytes` and fails as `too_large`.

use std::io::{Cursor, Read};

use zip::result::ZipError;
use zip::ZipArchive;

use super::ReadFailure;
use crate::event::FailKind;

/// An open zip and what may still be expanded from it.
pub struct Archive<'a> {
    zip: ZipArchive<Cursor<&'a [u8]>>,
    /// Bytes that reading more parts may still expand to.
    left: u64,
    limit: u64,
    what: &'static str,
}

impl<'a> Archive<'a> {
    /// Opens the zip in `bytes`; `what` names the document for messages ("a Word document").
    pub fn open(bytes: &'a [u8], what: &'static str, limit: u64) -> Result<Self, ReadFailure> {
        let zip = ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
            ReadFailure::new(
                FailKind::MalformedDocument,
                format!("{what} whose zip container cannot be read: {e}"),
            )
        })?;
        Ok(Archive {
            zip,
            left: limit,
            limit,
            what,
        })
    }

    /// The bytes of the part `name`, or None when there is no such part.
    pub fn part(&mut self, name: &str) -> Result<Option<Vec<u8>>, ReadFailure> {
        let what = self.what;
        let mut file = match self.zip.by_name(name) {
            Ok(f) => f,
            Err(ZipError::FileNotFound) => return Ok(None),
            Err(ZipError::UnsupportedArchive(why)) => {
                return Err(ReadFailure::new(
                    FailKind::UnsupportedFormat,
                    format!("{what} whose part {name} cannot be read: {why}"),
                ))
            }
            Err(e) => {
                return Err(ReadFailure::new(
                    FailKind::MalformedDocument,
                    format!("{what} whose part {name} cannot be read: {e}"),
                ))
            }
        };
        if file.encrypted() {
            return Err(ReadFailure::new(
                FailKind::UnsupportedFormat,
                format!(
                    "{what} whose part {name} is encrypted: sluice reads no encrypted documents"
                ),
            ));
        }
        let too_large = |limit: u64| {
            ReadFailure::new(
                FailKind::TooLarge,
                format!(
                    "{what} whose parts expand past formats.max_expanded_bytes ({limit} bytes; \
                     at {name}): raise the setting if such documents are expected"
                ),
            )
        };
        if file.size() > self.left {
            return Err(too_large(self.limit));
        }
        // The declared size may lie: read at most one byte past what is left.
        let mut out = Vec::with_capacity(usize::try_from(file.size().min(1 << 20)).unwrap_or(0));
        (&mut file)
            .take(self.left + 1)
            .read_to_end(&mut out)
            .map_err(|e| {
                ReadFailure::new(
                    FailKind::MalformedDocument,
                    format!("{what} whose part {name} does not expand: {e}"),
                )
            })?;
        let n = out.len() as u64;
        if n > self.left {
            return Err(too_large(self.limit));
        }
        self.left -= n;
        Ok(Some(out))
    }

    /// The part `name` as UTF-8 text (a byte-order mark dropped; UTF-16 XML decoded).
    pub fn text(&mut self, name: &str) -> Result<Option<String>, ReadFailure> {
        let Some(bytes) = self.part(name)? else {
            return Ok(None);
        };
        let (text, _, _) = match encoding_rs::Encoding::for_bom(&bytes) {
            Some((enc, _)) => enc.decode(&bytes),
            None => encoding_rs::UTF_8.decode(&bytes),
        };
        Ok(Some(text.into_owned()))
    }

    /// [`Archive::text`] for a part the document cannot do without.
    pub fn required(&mut self, name: &str) -> Result<String, ReadFailure> {
        let what = self.what;
        self.text(name)?.ok_or_else(|| {
            ReadFailure::new(
                FailKind::MalformedDocument,
                format!("{what} without its part {name}"),
            )
        })
    }
}

/// What the zip in `bytes` says its entries expand to, at most `cap` (0 for what is no zip or
/// cannot be opened): the byte budget charges a .docx, .odt or .epub for its expanded text, not
/// for its compressed bytes. Reads only the zip's directory.
pub fn expanded(bytes: &[u8], cap: u64) -> u64 {
    if !bytes.starts_with(b"PK\x03\x04") {
        return 0;
    }
    let Ok(mut zip) = ZipArchive::new(Cursor::new(bytes)) else {
        return 0;
    };
    let mut total = 0u64;
    for i in 0..zip.len() {
        if let Ok(f) = zip.by_index_raw(i) {
            total = total.saturating_add(f.size());
            if total >= cap {
                return cap;
            }
        }
    }
    total
}

/// The tokens of an XML part, or a failure naming the part.
pub fn xml(what: &str, name: &str, text: &str) -> Result<Vec<super::xml::Tok>, ReadFailure> {
    super::xml::tokens(text).map_err(|e| {
        ReadFailure::new(
            FailKind::MalformedDocument,
            format!("{what} whose part {name} is not well-formed XML ({e})"),
        )
    })
}
