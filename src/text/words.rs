//! Words: jieba-rs (HMM on) behind one small type.
//!
//! Loading jieba's dictionary takes about 100 ms, so one [`Words`] is built once and shared by
//! every worker ([`shared`]). Operators can teach it names through a user dictionary in jieba's
//! format (`word [freq [tag]]` per line; by default `config/dict.txt` when that file exists).
//! Whether tokens are emitted in segment events is a separate switch (`output.tokens`); the
//! extraction stages always use them.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use jieba_rs::Jieba;
use serde::Serialize;

/// One word of a text, with char offsets into that text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Token {
    pub text: String,
    pub char_start: usize,
    pub char_end: usize,
}

/// A word segmenter: jieba's default dictionary plus an optional user dictionary.
pub struct Words {
    jieba: Jieba,
}

/// A user dictionary that could not be read or parsed.
#[derive(Debug, thiserror::Error)]
#[error("user dictionary {path}: {message}")]
pub struct DictError {
    pub path: PathBuf,
    pub message: String,
}

impl Words {
    /// jieba's default dictionary only.
    pub fn new() -> Self {
        Words {
            jieba: Jieba::new(),
        }
    }

    /// The default dictionary plus the entries of `user_dict` (jieba format).
    pub fn with_user_dict_text(user_dict: &str) -> Result<Self, String> {
        let mut words = Self::new();
        words
            .jieba
            .load_dict(&mut BufReader::new(user_dict.as_bytes()))
            .map_err(|e| e.to_string())?;
        Ok(words)
    }

    /// The default dictionary plus the user dictionary file at `path`.
    pub fn with_user_dict(path: &Path) -> Result<Self, DictError> {
        let text = std::fs::read_to_string(path).map_err(|e| DictError {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Self::with_user_dict_text(&text).map_err(|message| DictError {
            path: path.to_path_buf(),
            message,
        })
    }

    /// The words of `text` (whitespace runs are dropped), with char offsets into `text`.
    pub fn tokens(&self, text: &str) -> Vec<Token> {
        self.jieba
            .cut(text, true)
            .into_iter()
            .filter(|t| !t.word.trim().is_empty())
            .map(|t| Token {
                text: t.word.to_string(),
                char_start: t.start,
                char_end: t.end,
            })
            .collect()
    }

    /// Just the words, for callers that need no offsets.
    pub fn cut<'a>(&self, text: &'a str) -> Vec<&'a str> {
        self.jieba
            .cut(text, true)
            .into_iter()
            .map(|t| t.word)
            .filter(|w| !w.trim().is_empty())
            .collect()
    }

    /// The jieba instance, for keyword extraction built on the same dictionary.
    pub fn jieba(&self) -> &Jieba {
        &self.jieba
    }
}

impl Default for Words {
    fn default() -> Self {
        Self::new()
    }
}

// Process-wide word settings. The segmenter is loaded once per process (its dictionary costs
// ~100 ms), so its user dictionary is fixed by the first use; whether tokens are emitted is a
// plain switch that each pipeline run sets from `output.tokens`.
static USER_DICT: OnceLock<Option<PathBuf>> = OnceLock::new();
static SHARED: OnceLock<Words> = OnceLock::new();

/// The default user dictionary, relative to the directory sluice is started in.
pub const DEFAULT_USER_DICT: &str = "config/dict.txt";

/// Chooses the user dictionary of the shared segmenter; only the first call, before the first
/// use of [`shared`], has an effect (it returns whether it did).
pub fn set_user_dict(path: Option<PathBuf>) -> bool {
    USER_DICT.set(path).is_ok() && SHARED.get().is_none()
}

/// The shared segmenter, loaded on first use. A user dictionary that cannot be read is logged
/// and skipped (the daemon keeps going with the default dictionary). Without a chosen one,
/// `config/dict.txt` is used when it exists.
pub fn shared() -> &'static Words {
    SHARED.get_or_init(|| {
        let chosen = USER_DICT.get_or_init(|| None).clone();
        let path =
            chosen.or_else(|| Some(PathBuf::from(DEFAULT_USER_DICT)).filter(|p| p.is_file()));
        match path {
            None => Words::new(),
            Some(p) => Words::with_user_dict(&p).unwrap_or_else(|e| {
                tracing::warn!("{e}; using the default dictionary only");
                Words::new()
            }),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_char_offsets() {
        let w = shared();
        let text = "我们 在海口";
        let toks = w.tokens(text);
        let chars: Vec<char> = text.chars().collect();
        assert!(!toks.is_empty());
        for t in &toks {
            let s: String = chars[t.char_start..t.char_end].iter().collect();
            assert_eq!(s, t.text);
        }
        assert!(toks.iter().all(|t| t.text != " "));
    }

    #[test]
    fn a_user_dictionary_entry_is_kept_whole() {
        let text = "蓝鲸湾智算岛今天开园";
        let plain = Words::new();
        assert!(!plain.cut(text).contains(&"蓝鲸湾智算岛"));
        let taught = Words::with_user_dict_text("蓝鲸湾智算岛 10 ns\n").expect("dict");
        assert!(taught.cut(text).contains(&"蓝鲸湾智算岛"));
    }

    #[test]
    fn a_broken_user_dictionary_is_an_error_naming_the_line() {
        let err = Words::with_user_dict_text("词 notanumber\n")
            .err()
            .unwrap_or_default();
        assert!(err.contains("line 1"), "{err}");
    }
}
