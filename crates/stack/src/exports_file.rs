//! Reading an exports file as the broker will carry it: line by line, as bytes.
//!
//! A line is not checked here. One that is not UTF-8 or not JSON is still a record AEP could have sent,
//! and the pipeline must dead-letter it, so the demo loads it like any other rather than failing on it.

/// One record of an exports file: a line's bytes, and its 1-based line number for messages about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportLine {
    pub number: usize,
    pub bytes: Vec<u8>,
}

impl AsRef<[u8]> for ExportLine {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

/// Every non-blank line of an exports file's content; a `\r\n` ending counts as `\n`.
pub fn split_lines(bytes: &[u8]) -> Vec<ExportLine> {
    bytes
        .split(|&byte| byte == b'\n')
        .enumerate()
        .filter_map(|(index, line)| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            (!line.trim_ascii().is_empty()).then(|| ExportLine {
                number: index + 1,
                bytes: line.to_vec(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_that_is_not_utf8_is_kept_as_bytes_and_blank_lines_keep_the_numbering() {
        let lines = split_lines(b"{\"a\":1}\r\n\n  \n\xff\xfe{\n{\"b\":2}");
        let numbered: Vec<(usize, &[u8])> = lines
            .iter()
            .map(|l| (l.number, l.bytes.as_slice()))
            .collect();
        assert_eq!(
            numbered,
            [
                (1, &b"{\"a\":1}"[..]),
                (4, &b"\xff\xfe{"[..]),
                (5, &b"{\"b\":2}"[..])
            ]
        );
    }
}
