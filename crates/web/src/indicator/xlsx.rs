//! Reads the first sheet of an XLSX workbook into a table of text cells (shared strings,
//! inline strings and numbers as written in the file), for the imports. Only what an import
//! needs: no formulas are evaluated (their last value is read), no dates are converted.

use std::io::{Cursor, Read};

use base64::Engine as _;
use gouvernail_core::CoreError;
use gouvernail_core::indicator::import::Table;

fn bad(message: impl Into<String>) -> CoreError {
    CoreError::bad_request("contenuXlsxBase64", message)
}

/// The largest workbook part read (uncompressed), against zip bombs.
const MAX_PART: u64 = 64 * 1024 * 1024;

fn part(archive: &mut zip::ZipArchive<Cursor<Vec<u8>>>, name: &str) -> Result<Option<String>, CoreError> {
    let Ok(file) = archive.by_name(name) else {
        return Ok(None);
    };
    let mut text = String::new();
    file.take(MAX_PART)
        .read_to_string(&mut text)
        .map_err(|e| bad(format!("{name} illisible : {e}")))?;
    Ok(Some(text))
}

fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';') else {
            break;
        };
        let entity = &rest[1..end];
        let ch = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16).ok().and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The text of every `<t>` inside `xml` (rich text runs concatenated).
fn texts(xml: &str) -> String {
    let mut out = String::new();
    let mut rest = xml;
    while let Some(i) = rest.find("<t") {
        rest = &rest[i + 2..];
        // `<t>` or `<t xml:space="preserve">`, not `<tag…>`.
        if !(rest.starts_with('>') || rest.starts_with(' ')) {
            continue;
        }
        let Some(open_end) = rest.find('>') else { break };
        if rest[..open_end].ends_with('/') {
            rest = &rest[open_end + 1..];
            continue;
        }
        let body = &rest[open_end + 1..];
        let Some(close) = body.find("</t>") else { break };
        out.push_str(&unescape(&body[..close]));
        rest = &body[close + 4..];
    }
    out
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let i = tag.find(&key)? + key.len();
    let end = tag[i..].find('"')?;
    Some(&tag[i..i + end])
}

/// `B12` → column 1 (0-based).
fn column_of(reference: &str) -> Option<usize> {
    let letters: String = reference.chars().take_while(char::is_ascii_alphabetic).collect();
    if letters.is_empty() {
        return None;
    }
    let mut n = 0_usize;
    for c in letters.bytes() {
        n = n
            .checked_mul(26)?
            .checked_add(usize::from(c.to_ascii_uppercase() - b'A' + 1))?;
    }
    n.checked_sub(1)
}

/// Decodes a base64 XLSX and reads its first sheet: the first row is the header.
pub fn read_first_sheet(b64: &str) -> Result<Table, CoreError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|e| bad(format!("base64 invalide : {e}")))?;
    read_xlsx(bytes)
}

/// Reads the first sheet of an XLSX file.
pub fn read_xlsx(bytes: Vec<u8>) -> Result<Table, CoreError> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| bad(format!("pas un fichier XLSX : {e}")))?;
    let shared: Vec<String> = match part(&mut archive, "xl/sharedStrings.xml")? {
        Some(xml) => xml.split("<si>").skip(1).map(texts).collect(),
        None => Vec::new(),
    };
    let sheet =
        part(&mut archive, "xl/worksheets/sheet1.xml")?.ok_or_else(|| bad("première feuille absente"))?;
    let mut rows: Vec<Vec<String>> = Vec::new();
    for row in sheet.split("<row").skip(1) {
        let row = row.split("</row>").next().unwrap_or_default();
        let mut cells: Vec<String> = Vec::new();
        for cell in row.split("<c").skip(1) {
            if !(cell.starts_with(' ') || cell.starts_with('>')) {
                continue;
            }
            let tag_end = cell.find('>').unwrap_or(cell.len());
            let tag = &cell[..tag_end];
            let body = if tag.ends_with('/') {
                ""
            } else {
                cell.get(tag_end + 1..).unwrap_or_default()
            };
            let body = body.split("</c>").next().unwrap_or_default();
            let value = body.find("<v>").and_then(|i| {
                body[i + 3..]
                    .find("</v>")
                    .map(|j| unescape(&body[i + 3..i + 3 + j]))
            });
            let text = match attr(tag, "t") {
                Some("s") => value
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .and_then(|i| shared.get(i).cloned())
                    .unwrap_or_default(),
                Some("inlineStr") => texts(body),
                _ => value.unwrap_or_default(),
            };
            let col = attr(tag, "r").and_then(column_of).unwrap_or(cells.len());
            if col > 16_384 {
                return Err(bad("colonne hors limites"));
            }
            if cells.len() <= col {
                cells.resize(col + 1, String::new());
            }
            cells[col] = text;
        }
        rows.push(cells);
    }
    let mut rows = rows.into_iter();
    let headers = rows
        .next()
        .unwrap_or_default()
        .into_iter()
        .map(|h| h.trim().to_owned())
        .collect();
    Ok(Table {
        headers,
        rows: rows.collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workbook_written_by_the_exporter_reads_back() -> Result<(), Box<dyn std::error::Error>> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.write_string(0, 0, "UAI")?;
        ws.write_string(0, 1, "Débit & co")?;
        ws.write_string(1, 0, "0350001A")?;
        ws.write_number(1, 1, 12.5)?;
        ws.write_string(2, 0, "0350002B")?;
        ws.write_string(2, 2, "note")?;
        let table = read_xlsx(wb.save_to_buffer()?)?;
        assert_eq!(table.headers, ["UAI", "Débit & co"]);
        assert_eq!(table.rows[0], ["0350001A", "12.5"]);
        assert_eq!(table.rows[1], ["0350002B", "", "note"]);
        Ok(())
    }
}
