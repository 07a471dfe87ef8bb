//! Lists as files people open in a spreadsheet: CSV in the French convention (`;`, UTF-8
//! with BOM, CRLF, decimal comma, dates JJ/MM/AAAA) and XLSX with typed cells.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use gouvernail_core::CoreError;
use rust_xlsxwriter::{Format, Workbook};
use time::Date;

/// A cell of an exported row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Float(f64),
    Date(Date),
    Bool(bool),
    /// An amount in euro cents: exact in CSV, a number formatted in euros in XLSX.
    Money(i64),
    Empty,
}

impl From<String> for Cell {
    fn from(v: String) -> Self {
        Cell::Text(v)
    }
}
impl From<&str> for Cell {
    fn from(v: &str) -> Self {
        Cell::Text(v.to_owned())
    }
}
impl From<i64> for Cell {
    fn from(v: i64) -> Self {
        Cell::Int(v)
    }
}
impl From<bool> for Cell {
    fn from(v: bool) -> Self {
        Cell::Bool(v)
    }
}
impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Self {
        v.map_or(Cell::Empty, Into::into)
    }
}
impl From<f64> for Cell {
    fn from(v: f64) -> Self {
        Cell::Float(v)
    }
}
impl From<Date> for Cell {
    fn from(v: Date) -> Self {
        Cell::Date(v)
    }
}

/// A type whose values can be written as rows of a table.
pub trait Tabular {
    /// Column names (the API's field names, so that files and JSON agree).
    fn headers() -> &'static [&'static str];
    /// The row of one value, in the order of [`Tabular::headers`].
    fn cells(&self) -> Vec<Cell>;
}

/// The formats a list endpoint answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    #[default]
    Json,
    Csv,
    Xlsx,
}

fn csv_text(cell: &Cell) -> String {
    match cell {
        Cell::Text(s) => s.clone(),
        Cell::Int(n) => n.to_string(),
        Cell::Float(f) => f.to_string().replace('.', ","),
        Cell::Date(d) => format!("{:02}/{:02}/{:04}", d.day(), u8::from(d.month()), d.year()),
        Cell::Bool(b) => if *b { "oui" } else { "non" }.to_owned(),
        Cell::Money(c) => gouvernail_core::money::decimal(*c).replace('.', ","),
        Cell::Empty => String::new(),
    }
}

/// Writes rows as French-spreadsheet CSV.
pub fn to_csv<T: Tabular>(rows: &[T]) -> Result<Vec<u8>, CoreError> {
    let mut out = Vec::with_capacity(64 + rows.len() * 128);
    out.extend_from_slice("\u{FEFF}".as_bytes());
    let mut writer = csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    let internal = |e: csv::Error| CoreError::Internal(format!("écriture CSV : {e}"));
    writer.write_record(T::headers()).map_err(internal)?;
    for row in rows {
        writer
            .write_record(row.cells().iter().map(csv_text))
            .map_err(internal)?;
    }
    writer
        .into_inner()
        .map_err(|e| CoreError::Internal(format!("écriture CSV : {e}")))
}

/// Writes rows as an XLSX workbook of one sheet, header in bold, filters on, first row
/// frozen, numbers and dates as typed cells.
pub fn to_xlsx<T: Tabular>(sheet_name: &str, rows: &[T]) -> Result<Vec<u8>, CoreError> {
    let internal = |e: rust_xlsxwriter::XlsxError| CoreError::Internal(format!("écriture XLSX : {e}"));
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let date_format = Format::new().set_num_format("dd/mm/yyyy");
    let money_format = Format::new().set_num_format("#,##0.00 \"€\"");
    let sheet = workbook.add_worksheet();
    sheet.set_name(sheet_name).map_err(internal)?;
    let headers = T::headers();
    for (col, name) in headers.iter().enumerate() {
        let col = u16::try_from(col).map_err(|_| CoreError::Internal("trop de colonnes".into()))?;
        sheet
            .write_string_with_format(0, col, *name, &bold)
            .map_err(internal)?;
    }
    for (i, row) in rows.iter().enumerate() {
        let r = u32::try_from(i + 1).map_err(|_| CoreError::Internal("trop de lignes".into()))?;
        for (col, cell) in row.cells().into_iter().enumerate() {
            let col = u16::try_from(col).map_err(|_| CoreError::Internal("trop de colonnes".into()))?;
            match cell {
                Cell::Text(s) => {
                    sheet.write_string(r, col, s).map_err(internal)?;
                }
                Cell::Int(n) => {
                    // Spreadsheets hold f64; integers of the referential are far below 2^53.
                    sheet.write_number(r, col, n as f64).map_err(internal)?;
                }
                Cell::Float(f) => {
                    sheet.write_number(r, col, f).map_err(internal)?;
                }
                Cell::Date(d) => {
                    let excel = rust_xlsxwriter::ExcelDateTime::from_ymd(
                        u16::try_from(d.year()).unwrap_or(1900),
                        u8::from(d.month()),
                        d.day(),
                    )
                    .map_err(internal)?;
                    sheet
                        .write_datetime_with_format(r, col, &excel, &date_format)
                        .map_err(internal)?;
                }
                Cell::Bool(b) => {
                    sheet.write_boolean(r, col, b).map_err(internal)?;
                }
                Cell::Money(c) => {
                    // The cell holds the spreadsheet's number; the exact amount stays in the
                    // platform and in the CSV.
                    sheet
                        .write_number_with_format(r, col, c as f64 / 100.0, &money_format)
                        .map_err(internal)?;
                }
                Cell::Empty => {}
            }
        }
    }
    let last_col = u16::try_from(headers.len().saturating_sub(1)).unwrap_or(0);
    let last_row = u32::try_from(rows.len()).unwrap_or(u32::MAX);
    sheet.autofilter(0, 0, last_row, last_col).map_err(internal)?;
    sheet.set_freeze_panes(1, 0).map_err(internal)?;
    sheet.autofit();
    workbook.save_to_buffer().map_err(internal)
}

/// Answers rows as a downloadable file named `stem.csv` or `stem.xlsx`.
pub fn file_response<T: Tabular>(
    format: ExportFormat,
    stem: &str,
    rows: &[T],
) -> Result<Response, CoreError> {
    let (bytes, mime, ext) = match format {
        ExportFormat::Csv => (to_csv(rows)?, "text/csv; charset=utf-8", "csv"),
        ExportFormat::Xlsx => (
            to_xlsx(stem, rows)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        ExportFormat::Json => return Err(CoreError::Internal("JSON is not a file export".into())),
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{stem}.{ext}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Row(&'static str, i64, f64);
    impl Tabular for Row {
        fn headers() -> &'static [&'static str] {
            &["nom", "population", "ratio"]
        }
        fn cells(&self) -> Vec<Cell> {
            vec![self.0.into(), self.1.into(), self.2.into()]
        }
    }

    #[test]
    fn csv_follows_the_french_spreadsheet_convention() -> Result<(), CoreError> {
        let bytes = to_csv(&[Row("Saint-Malo; port", 46_803, 1.5)])?;
        let text = String::from_utf8(bytes).map_err(|e| CoreError::Internal(e.to_string()))?;
        assert!(text.starts_with('\u{FEFF}'));
        assert_eq!(
            text,
            "\u{FEFF}nom;population;ratio\r\n\"Saint-Malo; port\";46803;1,5\r\n"
        );
        Ok(())
    }

    #[test]
    fn xlsx_is_a_zip_workbook() -> Result<(), CoreError> {
        let bytes = to_xlsx("test", &[Row("Rennes", 225_081, 0.5)])?;
        assert_eq!(&bytes[..2], b"PK");
        Ok(())
    }
}
