//! Reading an SMTP client's bytes with hard bounds: a command line of at most a few KB (the
//! rest of a longer line is read and thrown away, so memory stays the same however long it
//! is), and message data with its dots unstuffed, kept up to the size limit and read to the
//! end-of-data marker whatever its size.

use tokio::io::{AsyncBufRead, AsyncBufReadExt as _};

/// One command line, as the client sent it.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Line {
    /// A whole line, with its line end (`\n` or `\r\n`).
    Complete(Vec<u8>),
    /// A line longer than the limit, read to its end and dropped.
    TooLong,
    /// The client closed the connection (a partial last line is dropped).
    Closed,
}

/// Reads command lines of at most `max` bytes. The part of a line read so far lives here,
/// not in the future reading it, so a read cut off by a timeout or a stop loses nothing.
pub(super) struct LineReader {
    max: usize,
    line: Vec<u8>,
    too_long: bool,
}

impl LineReader {
    pub(super) fn new(max: usize) -> Self {
        Self {
            max,
            line: Vec::new(),
            too_long: false,
        }
    }

    pub(super) async fn next<R: AsyncBufRead + Unpin>(
        &mut self,
        reader: &mut R,
    ) -> std::io::Result<Line> {
        loop {
            let available = reader.fill_buf().await?;
            if available.is_empty() {
                self.line.clear();
                return Ok(Line::Closed);
            }
            let (chunk, ends) = match available.iter().position(|&b| b == b'\n') {
                Some(at) => (&available[..=at], true),
                None => (available, false),
            };
            let used = chunk.len();
            if !self.too_long {
                if self.line.len() + used > self.max {
                    // Given back at once: memory does not follow the line's length.
                    self.too_long = true;
                    self.line = Vec::new();
                } else {
                    self.line.extend_from_slice(chunk);
                }
            }
            reader.consume(used);
            if ends {
                let line = std::mem::take(&mut self.line);
                return Ok(if std::mem::take(&mut self.too_long) {
                    Line::TooLong
                } else {
                    Line::Complete(line)
                });
            }
        }
    }
}

/// Where the reader stands in the message data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// At the start of a line (after CRLF, or at the very start of the data).
    LineStart,
    /// A line that began with a dot: the dot is dropped (unstuffed) or ends the data.
    Dot,
    /// `.` then CR at the start of a line: LF ends the data.
    DotCr,
    /// Inside a line.
    Text,
    /// Inside a line, just after a CR.
    Cr,
}

/// How the data of one message ended.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Data {
    /// The message, unstuffed, with the line end before the final dot.
    Message(Vec<u8>),
    /// Over the size limit: the data was read to its end and dropped.
    TooBig,
    /// The listener's memory for messages was taken by others: dropped too.
    NoRoom,
}

/// Message data after `DATA`: unstuffs leading dots and finds the `CRLF.CRLF` that ends it.
/// Only CRLF ends a line here: a bare LF followed by a dot is data, so a message cannot
/// smuggle a second one past a server that reads line ends differently.
pub(super) struct DataReader {
    at: At,
    max: usize,
    message: Vec<u8>,
    dropped: Option<Data>,
}

impl DataReader {
    pub(super) fn new(max: usize) -> Self {
        Self {
            at: At::LineStart,
            max,
            message: Vec::new(),
            dropped: None,
        }
    }

    /// How many bytes of the message are held.
    pub(super) fn kept(&self) -> usize {
        self.message.len()
    }

    /// Drops what was kept and the rest to come: there is no room for it.
    pub(super) fn no_room(&mut self) {
        self.message = Vec::new();
        self.dropped.get_or_insert(Data::NoRoom);
    }

    /// Reads `bytes`; returns how many were used and whether the end-of-data marker was
    /// among them (the bytes after it are the next command's).
    pub(super) fn feed(&mut self, bytes: &[u8]) -> (usize, bool) {
        for (i, &byte) in bytes.iter().enumerate() {
            if self.step(byte) {
                return (i + 1, true);
            }
        }
        (bytes.len(), false)
    }

    /// The message, once `feed` said the data ended.
    pub(super) fn finish(self) -> Data {
        match self.dropped {
            Some(dropped) => dropped,
            None => Data::Message(self.message),
        }
    }

    /// One byte; true at the end of the data.
    fn step(&mut self, byte: u8) -> bool {
        self.at = match (self.at, byte) {
            (At::LineStart, b'.') => At::Dot,
            (At::Dot, b'\r') => At::DotCr,
            (At::DotCr, b'\n') => return true,
            (At::DotCr, _) => {
                // ".\rX": the dot was stuffing; the CR is data, and so is this byte.
                self.keep(b'\r');
                self.keep(byte);
                Self::after(byte)
            }
            (At::Cr, b'\n') => {
                self.keep(byte);
                At::LineStart
            }
            (_, _) => {
                self.keep(byte);
                Self::after(byte)
            }
        };
        false
    }

    fn after(byte: u8) -> At {
        if byte == b'\r' { At::Cr } else { At::Text }
    }

    fn keep(&mut self, byte: u8) {
        if self.dropped.is_some() {
            return;
        }
        if self.message.len() >= self.max {
            self.message = Vec::new();
            self.dropped = Some(Data::TooBig);
            return;
        }
        self.message.push(byte);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn read_data(max: usize, bytes: &[u8]) -> (Data, usize) {
        let mut reader = DataReader::new(max);
        let (used, ended) = reader.feed(bytes);
        assert!(ended, "no end-of-data marker in {bytes:?}");
        (reader.finish(), used)
    }

    /// What a client does before sending: a dot at the start of a line gets another.
    fn stuff(message: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut line_start = true;
        for (i, &byte) in message.iter().enumerate() {
            if line_start && byte == b'.' {
                out.push(b'.');
            }
            out.push(byte);
            line_start = byte == b'\n' && i > 0 && message[i - 1] == b'\r';
        }
        out
    }

    #[test]
    fn dots_are_unstuffed_and_the_marker_ends_the_data() {
        let sent = b"Subject: x\r\n\r\n..hidden\r\n.\r\nQUIT\r\n";
        let (data, used) = read_data(1000, sent);
        assert_eq!(
            data,
            Data::Message(b"Subject: x\r\n\r\n.hidden\r\n".to_vec())
        );
        assert_eq!(used, sent.len() - 6, "QUIT is left for the command reader");
    }

    #[test]
    fn a_bare_lf_dot_does_not_end_the_data() {
        let mut reader = DataReader::new(1000);
        let (_, ended) = reader.feed(b"a\n.\nMAIL FROM:<x@y>\r\n");
        assert!(!ended, "a bare LF is not a line end: no smuggled message");
        let (_, ended) = reader.feed(b".\r\n");
        assert!(ended);
        assert_eq!(
            reader.finish(),
            Data::Message(b"a\n.\nMAIL FROM:<x@y>\r\n".to_vec())
        );
    }

    #[test]
    fn the_marker_split_across_reads_is_found() {
        let mut reader = DataReader::new(1000);
        for part in [&b"hi\r"[..], b"\n", b".", b"\r"] {
            assert_eq!(reader.feed(part), (part.len(), false));
        }
        assert_eq!(reader.feed(b"\nNOOP"), (1, true));
        assert_eq!(reader.finish(), Data::Message(b"hi\r\n".to_vec()));
    }

    #[test]
    fn too_big_data_is_read_to_its_end_and_dropped() {
        let mut reader = DataReader::new(10);
        let (_, ended) = reader.feed(&[b'x'; 5000]);
        assert!(!ended);
        assert_eq!(reader.kept(), 0, "nothing held past the limit");
        assert_eq!(reader.feed(b"\r\n.\r\n"), (5, true));
        assert_eq!(reader.finish(), Data::TooBig);
        let (data, _) = read_data(10, b"0123456789\r\n.\r\n");
        assert_eq!(data, Data::TooBig);
        let (data, _) = read_data(10, b"01234567\r\n.\r\n");
        assert_eq!(data, Data::Message(b"01234567\r\n".to_vec()));
    }

    #[tokio::test]
    async fn a_long_line_is_dropped_and_the_next_one_read() {
        let mut input = vec![b'A'; 100_000];
        input.extend_from_slice(b"\r\nNOOP\r\nRSET");
        let mut reader = tokio::io::BufReader::with_capacity(64, &input[..]);
        let mut lines = LineReader::new(4096);
        assert_eq!(lines.next(&mut reader).await.unwrap(), Line::TooLong);
        assert!(lines.line.capacity() <= 4096 + 64);
        assert_eq!(
            lines.next(&mut reader).await.unwrap(),
            Line::Complete(b"NOOP\r\n".to_vec())
        );
        assert_eq!(lines.next(&mut reader).await.unwrap(), Line::Closed);
    }

    #[tokio::test]
    async fn a_line_of_exactly_the_limit_is_taken() {
        let mut input = vec![b'A'; 4094];
        input.extend_from_slice(b"\r\n");
        let mut reader = tokio::io::BufReader::with_capacity(100, &input[..]);
        let mut lines = LineReader::new(4096);
        assert_eq!(
            lines.next(&mut reader).await.unwrap(),
            Line::Complete(input.clone())
        );
    }

    proptest! {
        #[test]
        fn any_message_stuffed_comes_back_whole(message in proptest::collection::vec(
            prop_oneof![Just(b'.'), Just(b'\r'), Just(b'\n'), any::<u8>()], 0..300)
        ) {
            // A client ends its message with CRLF before the marker if it lacks one.
            let mut message = message;
            if !message.ends_with(b"\r\n") {
                message.extend_from_slice(b"\r\n");
            }
            let mut sent = stuff(&message);
            sent.extend_from_slice(b".\r\n");
            let (data, used) = read_data(10_000, &sent);
            prop_assert_eq!(used, sent.len());
            prop_assert_eq!(data, Data::Message(message));
        }
    }
}
