//! Format detection on the real binary: each file is told by its content first and its name
//! second; `document.ingested` says what it was read as, a recognised format sluice does not
//! read fails once as `unsupported_format` naming it, and `formats.off` turns a format off.
//! Bad documents (corrupt zips, zip bombs, broken or encrypted PDFs, PDFs without text or with
//! too many pages, HTML nested 100,000 deep) each give one `document.failed` that says what
//! happened, and the rest of the folder is read.

mod common;

use std::path::Path;
use std::process::Command;

use common::harness::*;
use serde_json::Value;

const ARTICLE: &str = "海口高新区积极探索经济合作模式\n\n本报讯 海口国家高新区今年引进企业120家，\
                       同比增长35%。\n";

/// Packs `files` (name, content) into `out` with Info-ZIP's zip, the first one stored (as EPUB
/// and OpenDocument want their `mimetype`), the rest deflated.
fn zip(out: &Path, files: &[(&str, &str)]) {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    let run = |level: &str, files: &[(&str, &str)]| {
        let status = Command::new("zip")
            .current_dir(dir.path())
            .args(["-q", "-X", level])
            .arg(out)
            .args(files.iter().map(|(name, _)| *name))
            .status()
            .expect("Info-ZIP zip is needed (apt-get install zip)");
        assert!(status.success());
    };
    run("-0", &files[..1]);
    run("-9", &files[1..]);
}

/// A PDF of `pages` pages, each with the content stream `content`, written out object by
/// object with a correct xref table.
fn pdf_with(pages: usize, content: &str) -> Vec<u8> {
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {pages} >>",
            (0..pages)
                .map(|i| format!("{} 0 R", 5 + i))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len()
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    for _ in 0..pages {
        objects.push(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R \
             /Resources << /Font << /F1 4 0 R >> >> >>"
                .to_string(),
        );
    }
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A one-page PDF whose content stream is `n` spaces, Flate-compressed (by Python's zlib, as
/// any PDF writer would) to a few KiB.
fn pdf_bomb(n: usize) -> Vec<u8> {
    let out = Command::new("python3")
        .args([
            "-c",
            &format!("import sys,zlib; sys.stdout.buffer.write(zlib.compress(b' ' * {n}, 9))"),
        ])
        .output()
        .expect("python3");
    let stream = out.stdout;
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    let mut object = |pdf: &mut Vec<u8>, body: &[u8]| {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
        pdf.extend_from_slice(body);
        pdf.extend_from_slice(b"\nendobj\n");
    };
    object(&mut pdf, b"<< /Type /Catalog /Pages 2 0 R >>");
    object(&mut pdf, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    object(
        &mut pdf,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
    );
    let mut content = format!(
        "<< /Length {} /Filter /FlateDecode >>\nstream\n",
        stream.len()
    )
    .into_bytes();
    content.extend_from_slice(&stream);
    content.extend_from_slice(b"\nendstream");
    object(&mut pdf, &content);
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes(),
    );
    for o in &offsets {
        pdf.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            offsets.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

/// A one-page PDF with a text layer.
fn pdf() -> Vec<u8> {
    pdf_with(1, "BT /F1 24 Tf 72 700 Td (Hello PDF) Tj ET")
}

fn by_subject<'a>(events: &'a [Value], subject: &str, kind: &str) -> Option<&'a Value> {
    events
        .iter()
        .find(|e| e["subject"] == subject && e["type"] == kind)
}

fn write_samples(env: &Env) {
    env.write("news.txt", ARTICLE);
    env.write("news.md", format!("# 标题\n\n{ARTICLE}"));
    env.write(
        "page.htm",
        format!("<!DOCTYPE html>\n<html><head><title>t</title></head><body><p>{ARTICLE}</p></body></html>"),
    );
    // Markup first wins over the name.
    env.write("saved-page.txt", "<html><body><p>正文</p></body></html>");
    env.write("paper.pdf", pdf());
    // The same PDF under a text name is still a PDF.
    env.write("paper-renamed.txt", pdf());
    let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    ole.resize(4096, 0);
    env.write("letter.doc", ole);
    zip(
        &env.path("book.epub"),
        &[
            ("mimetype", "application/epub+zip"),
            (
                "META-INF/container.xml",
                "<?xml version=\"1.0\"?><container version=\"1.0\" \
                 xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\"/>",
            ),
        ],
    );
    zip(
        &env.path("report.odt"),
        &[
            ("mimetype", "application/vnd.oasis.opendocument.text"),
            ("content.xml", "<office:document-content/>"),
        ],
    );
}

#[test]
fn each_file_is_read_as_its_format_or_fails_once_naming_it() {
    let env = Env::new();
    write_samples(&env);
    let out = env.ingest();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events = env.events();

    for (subject, format) in [
        ("news.txt", "text"),
        ("news.md", "markdown"),
        ("page.htm", "html"),
        ("saved-page.txt", "html"),
        ("paper.pdf", "pdf"),
        ("paper-renamed.txt", "pdf"),
    ] {
        let doc = by_subject(&events, subject, "sluice.document.ingested")
            .unwrap_or_else(|| panic!("{subject} not ingested"));
        assert_eq!(doc["data"]["format"], format, "{subject}");
    }
    // The two PDFs hold the same bytes: the one read second is an exact duplicate whose
    // segments are not repeated.
    let hello = by_subject(&events, "paper.pdf", "sluice.segment")
        .or_else(|| by_subject(&events, "paper-renamed.txt", "sluice.segment"))
        .expect("the PDF's text");
    assert_eq!(hello["data"]["text"], "Hello PDF");
    for (subject, kind, says) in [
        ("letter.doc", "unsupported_format", "legacy Word"),
        ("book.epub", "malformed_document", "rootfile"),
        ("report.odt", "empty", "OpenDocument"),
    ] {
        let e = fails_once(&events, subject, kind, says);
        assert_eq!(e["data"]["stage"], "decode");
        assert!(e["data"]["sha256"].is_string());
    }

    // Nothing changed: a second run says nothing again.
    let before = env.events().len();
    assert!(env.ingest().status.success());
    assert_eq!(env.events().len(), before);
}

#[test]
fn a_format_turned_off_fails_naming_the_setting_and_the_rest_is_read() {
    let env = Env::new().with("formats.off=html,markdown");
    write_samples(&env);
    assert!(env.ingest().status.success());
    let events = env.events();
    for subject in ["page.htm", "saved-page.txt", "news.md"] {
        let e = by_subject(&events, subject, "sluice.document.failed")
            .unwrap_or_else(|| panic!("{subject} did not fail"));
        assert_eq!(e["data"]["error"]["kind"], "unsupported_format");
        assert!(e["data"]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("formats.off"));
    }
    let text = by_subject(&events, "news.txt", "sluice.document.ingested").unwrap();
    assert_eq!(text["data"]["format"], "text");

    // An unknown format name is a bad setting, named with what it accepts.
    let env = Env::new().with("formats.off=word");
    let out = env.command("ingest").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("formats.off") && err.contains("must be one of text, markdown, html"),
        "{err}"
    );
}

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/formats")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn bad_documents_fail_once_each_saying_what_happened() {
    let env = Env::new()
        .with("formats.max_expanded_bytes=1048576")
        .with("formats.max_pdf_pages=3");
    env.write("good.txt", ARTICLE);
    // A Word file cut short: its zip directory is gone.
    let docx = fixture("news.docx");
    env.write("cut.docx", &docx[..docx.len() / 2]);
    // A zip bomb: 8 MiB of XML that deflates to a few KiB, past the 1 MiB bound.
    let body = format!(
        "<w:document><w:body><w:p><w:r><w:t>{}</w:t></w:r></w:p></w:body></w:document>",
        " ".repeat(8 << 20)
    );
    zip(
        &env.path("bomb.docx"),
        &[
            ("[Content_Types].xml", "<Types/>"),
            ("word/document.xml", body.as_str()),
        ],
    );
    // A PDF whose objects are garbage, one with a password, one without any text, one too long.
    let mut broken = fixture("newspaper.pdf");
    let at = broken.windows(9).position(|w| w == b"/MediaBox").unwrap();
    broken[at..at + 9].copy_from_slice(b"/MediaBxx");
    env.write("broken.pdf", broken);
    env.write("locked.pdf", fixture("encrypted.pdf"));
    env.write("scan.pdf", pdf_with(1, "0 0 1 rg 10 10 100 100 re f"));
    env.write(
        "long.pdf",
        pdf_with(4, "BT /F1 12 Tf 72 700 Td (page) Tj ET"),
    );
    env.write("bomb.pdf", pdf_bomb(4 << 20));
    // HTML nested 100,000 deep.
    env.write(
        "deep.html",
        format!("<html><body>{}x</body></html>", "<div>".repeat(100_000)),
    );

    let out = env.ingest();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events = env.events();
    assert!(by_subject(&events, "good.txt", "sluice.document.ingested").is_some());
    for (subject, kind, says) in [
        ("cut.docx", "malformed_document", "zip"),
        ("bomb.docx", "too_large", "formats.max_expanded_bytes"),
        ("broken.pdf", "malformed_document", "page 1"),
        ("locked.pdf", "unsupported_format", "encrypted"),
        ("scan.pdf", "unsupported_format", "no text layer"),
        ("long.pdf", "too_large", "formats.max_pdf_pages"),
        ("bomb.pdf", "too_large", "formats.max_expanded_bytes"),
        ("deep.html", "malformed_document", "formats.max_html_depth"),
    ] {
        fails_once(&events, subject, kind, says);
    }
}

/// The one event of `subject`: a `document.failed` of `kind` whose message says `says`.
fn fails_once<'a>(events: &'a [Value], subject: &str, kind: &str, says: &str) -> &'a Value {
    let mine: Vec<_> = events.iter().filter(|e| e["subject"] == subject).collect();
    assert_eq!(mine.len(), 1, "{subject}: {mine:?}");
    let e = mine[0];
    assert_eq!(e["type"], "sluice.document.failed", "{subject}: {e}");
    assert_eq!(e["data"]["error"]["kind"], kind, "{subject}: {e}");
    let message = e["data"]["error"]["message"].as_str().unwrap();
    assert!(message.contains(says), "{subject}: {message}");
    e
}
