//! Reading CSV rows field by field (csv-core), with the file-wide limits checked as each
//! field is read: a row's fields go into one buffer of at most `MAX_FIELDS_PER_ROW` fields
//! of `MAX_FIELD_BYTES` bytes, so a 15 MB row of 8,000,000 fields is refused at its 65th
//! field, having allocated nothing per field.

use std::io::{BufRead, BufReader, Read};

use super::{ImportError, MAX_FIELDS_PER_ROW, MAX_FIELD_BYTES};

/// One row at a time, from a buffered input.
pub(super) struct Records<R> {
    core: csv_core::Reader,
    input: R,
    /// The row's fields, one after another; `ends[i]` is where field `i` ends.
    data: Vec<u8>,
    ends: Vec<usize>,
    line: u64,
}

impl<R: BufRead> Records<R> {
    pub(super) fn new(input: R, delimiter: u8) -> Self {
        Records {
            core: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            input,
            data: Vec::with_capacity(1024),
            ends: Vec::with_capacity(MAX_FIELDS_PER_ROW),
            line: 1,
        }
    }

    /// Reads the next row; `false` at the end of the file. Its line is `line()`.
    pub(super) fn next(&mut self) -> Result<bool, ImportError> {
        self.data.clear();
        self.ends.clear();
        self.line = self.core.line();
        let mut field = [0u8; MAX_FIELD_BYTES + 1];
        let mut written = 0;
        loop {
            // An empty input tells csv-core the file ended: it ends the last field, then
            // answers `End`.
            let input = self.input.fill_buf()?;
            let (result, read, wrote) = self.core.read_field(input, &mut field[written..]);
            self.input.consume(read);
            written += wrote;
            match result {
                csv_core::ReadFieldResult::InputEmpty => {}
                csv_core::ReadFieldResult::OutputFull => {
                    return Err(ImportError::FieldTooLong { line: self.line });
                }
                csv_core::ReadFieldResult::Field { record_end } => {
                    if written > MAX_FIELD_BYTES {
                        return Err(ImportError::FieldTooLong { line: self.line });
                    }
                    if self.ends.len() == MAX_FIELDS_PER_ROW {
                        return Err(ImportError::TooManyFields { line: self.line });
                    }
                    self.data.extend_from_slice(&field[..written]);
                    self.ends.push(self.data.len());
                    written = 0;
                    if record_end {
                        return Ok(true);
                    }
                }
                csv_core::ReadFieldResult::End => return Ok(false),
            }
        }
    }

    /// The line the current row starts on (the header is line 1).
    pub(super) fn line(&self) -> u64 {
        self.line
    }

    /// The current row's fields, checked as UTF-8 (the limits were checked while reading).
    pub(super) fn fields(&self) -> Result<impl Iterator<Item = &str>, ImportError> {
        let line = self.line;
        let mut start = 0;
        let mut fields = Vec::with_capacity(self.ends.len());
        for &end in &self.ends {
            let text = std::str::from_utf8(&self.data[start..end])
                .map_err(|_| ImportError::Encoding { line })?;
            fields.push(text);
            start = end;
        }
        Ok(fields.into_iter())
    }
}

/// Reads the whole file once, writing nothing and keeping only one row at a time: the
/// checks that refuse a whole file, made before a partial import writes its first row.
pub(super) fn scan<R: Read>(input: R) -> Result<(), ImportError> {
    let mut reader = csv_reader(input)?;
    while reader.next()? {
        drop(reader.fields()?);
    }
    Ok(())
}

/// The input with its first line (read to find the delimiter) put back in front.
pub(super) type Rewound<R> = std::io::Chain<std::io::Cursor<Vec<u8>>, BufReader<R>>;

/// A CSV reader that strips a UTF-8 byte-order mark and takes `,` or `;`, whichever the
/// header row uses.
pub(super) fn csv_reader<R: Read>(input: R) -> Result<Records<Rewound<R>>, ImportError> {
    let mut buffered = BufReader::new(input);
    // The delimiter is sniffed from the first line, or its first 64 KiB (a header line is
    // at most 64 fields of 4 KiB; what is longer is refused by the reader anyway).
    let mut first = Vec::new();
    (&mut buffered)
        .take(64 * 1024)
        .read_until(b'\n', &mut first)?;
    if first.starts_with(&[0xEF, 0xBB, 0xBF]) {
        first.drain(..3);
    }
    let commas = first.iter().filter(|b| **b == b',').count();
    let semicolons = first.iter().filter(|b| **b == b';').count();
    let delimiter = if semicolons > commas { b';' } else { b',' };
    let input = std::io::Cursor::new(first).chain(buffered);
    Ok(Records::new(input, delimiter))
}
