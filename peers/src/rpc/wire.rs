//! The grader's own implementation of lab `rpc`'s wire format (CONTRACT.md,
//! lab `rpc`, "Messages"), written apart from the reference.
//!
//! Every message the grader builds is a [`Msg`]: its bytes together with the
//! name of each field, so that a failure can show a hex dump cut at the
//! contract's field boundaries and name the first field that differs.

use std::ops::Range;

/// The largest LEN a server reads.
pub const MAX_LEN: u32 = 1 << 20;
/// The longest `sleep`, in milliseconds.
pub const MAX_SLEEP_MS: u32 = 10_000;

/// STATUS values.
pub const OK: u8 = 0;
pub const UNKNOWN_PROCEDURE: u8 = 1;
pub const BAD_ARGUMENTS: u8 = 2;
pub const FAILED: u8 = 3;

/// A message with the layout of its fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Msg {
    pub bytes: Vec<u8>,
    pub fields: Vec<(String, Range<usize>)>,
}

impl Msg {
    /// A message whose first field is LEN, filled in by [`Msg::finish`].
    pub fn framed() -> Msg {
        Msg::default().raw("LEN", &[0; 4])
    }

    /// Appends a field of these bytes, as they are.
    pub fn raw(mut self, name: &str, bytes: &[u8]) -> Msg {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(bytes);
        self.fields.push((name.to_string(), start..self.bytes.len()));
        self
    }

    pub fn u8(self, name: &str, v: u8) -> Msg {
        self.raw(name, &[v])
    }

    pub fn u16(self, name: &str, v: u16) -> Msg {
        self.raw(name, &v.to_be_bytes())
    }

    pub fn u32(self, name: &str, v: u32) -> Msg {
        self.raw(name, &v.to_be_bytes())
    }

    pub fn u64(self, name: &str, v: u64) -> Msg {
        self.raw(name, &v.to_be_bytes())
    }

    pub fn i64(self, name: &str, v: i64) -> Msg {
        self.raw(name, &v.to_be_bytes())
    }

    /// A `str` of these bytes (which need not be UTF-8: the checks send
    /// invalid ones on purpose).
    pub fn str(self, name: &str, bytes: &[u8]) -> Msg {
        let count = u32::try_from(bytes.len()).expect("a str under 4 GiB");
        self.u32(&format!("{name}.count"), count).raw(&format!("{name}.bytes"), bytes)
    }

    pub fn list(self, name: &str, xs: &[i64]) -> Msg {
        let count = u32::try_from(xs.len()).expect("a list under 4 GiB");
        let m = self.u32(&format!("{name}.count"), count);
        xs.iter().enumerate().fold(m, |m, (i, &x)| m.i64(&format!("{name}[{i}]"), x))
    }

    /// Appends another message's fields (e.g. a call's arguments).
    pub fn append(mut self, other: &Msg) -> Msg {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(&other.bytes);
        self.fields.extend(other.fields.iter().map(|(n, r)| (n.clone(), r.start + start..r.end + start)));
        self
    }

    /// Sets LEN to the number of bytes after it.
    pub fn finish(mut self) -> Msg {
        let len = u32::try_from(self.bytes.len() - 4).expect("a message under 4 GiB");
        self.bytes[..4].copy_from_slice(&len.to_be_bytes());
        self
    }

    /// The hex dump of `bytes` cut at this message's field boundaries:
    /// `LEN 00 00 00 0d | ID 00 00 00 07 | ...`; bytes past the last field
    /// are shown as `+ N more: ...`.
    pub fn dump(&self, bytes: &[u8]) -> String {
        let mut parts = Vec::new();
        let mut end = 0;
        for (name, range) in &self.fields {
            if range.start >= bytes.len() {
                parts.push(format!("{name} (missing)"));
                break;
            }
            let shown = &bytes[range.start..range.end.min(bytes.len())];
            parts.push(format!("{name} {}", hex(shown, 24)));
            end = range.end.min(bytes.len());
        }
        if bytes.len() > end {
            parts.push(format!("+ {} more: {}", bytes.len() - end, hex(&bytes[end..], 24)));
        }
        parts.join(" | ")
    }

    /// The first field in which `got` differs from this message (or
    /// `None` when they are equal).
    pub fn first_difference(&self, got: &[u8]) -> Option<String> {
        for (name, range) in &self.fields {
            if got.get(range.clone()) != Some(&self.bytes[range.clone()]) {
                return Some(name.clone());
            }
        }
        (got.len() != self.bytes.len()).then(|| "the message's length (bytes after the last field)".to_string())
    }
}

/// Bytes as hex pairs separated by spaces, at most `max` of them.
pub fn hex(bytes: &[u8], max: usize) -> String {
    let mut out: Vec<String> = bytes.iter().take(max).map(|b| format!("{b:02x}")).collect();
    if bytes.len() > max {
        out.push(format!("... ({} bytes)", bytes.len()));
    }
    out.join(" ")
}

/// A call, with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Add(i64, i64),
    Upper(Vec<u8>),
    Sum(Vec<i64>),
    Div(i64, i64),
    Sleep(u32),
    Stat(Vec<u8>),
}

impl Call {
    pub fn proc(&self) -> u16 {
        match self {
            Call::Add(..) => 1,
            Call::Upper(_) => 2,
            Call::Sum(_) => 3,
            Call::Div(..) => 4,
            Call::Sleep(_) => 5,
            Call::Stat(_) => 6,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Call::Add(..) => "add",
            Call::Upper(_) => "upper",
            Call::Sum(_) => "sum",
            Call::Div(..) => "div",
            Call::Sleep(_) => "sleep",
            Call::Stat(_) => "stat",
        }
    }

    /// The call as `rpc-client`'s words would give it (`add 2 3`, `upper 'a b'`).
    pub fn describe(&self) -> String {
        let text = |b: &[u8]| ipc_engine::text::shell_quote(&String::from_utf8_lossy(b));
        match self {
            Call::Add(a, b) | Call::Div(a, b) => format!("{} {a} {b}", self.name()),
            Call::Upper(s) | Call::Stat(s) if s.len() > 60 => format!("{} ({} bytes)", self.name(), s.len()),
            Call::Upper(s) | Call::Stat(s) => format!("{} {}", self.name(), text(s)),
            Call::Sum(xs) if xs.len() > 12 => format!("sum ({} numbers)", xs.len()),
            Call::Sum(xs) => {
                std::iter::once("sum".to_string()).chain(xs.iter().map(i64::to_string)).collect::<Vec<_>>().join(" ")
            }
            Call::Sleep(ms) => format!("sleep {ms}"),
        }
    }

    /// The words `rpc-client` takes for this call (`add`, `2`, `3`).
    pub fn words(&self) -> Vec<String> {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let mut words = vec![self.name().to_string()];
        match self {
            Call::Add(a, b) | Call::Div(a, b) => words.extend([a.to_string(), b.to_string()]),
            Call::Upper(s) | Call::Stat(s) => words.push(text(s)),
            Call::Sum(xs) => words.extend(xs.iter().map(i64::to_string)),
            Call::Sleep(ms) => words.push(ms.to_string()),
        }
        words
    }

    /// The marshalled arguments.
    pub fn args(&self) -> Msg {
        let m = Msg::default();
        match self {
            Call::Add(a, b) | Call::Div(a, b) => m.i64("a", *a).i64("b", *b),
            Call::Upper(s) => m.str("s", s),
            Call::Sum(xs) => m.list("xs", xs),
            Call::Sleep(ms) => m.u32("ms", *ms),
            Call::Stat(path) => m.str("path", path),
        }
    }

    /// The whole request, with ID `id`.
    pub fn request(&self, id: u32) -> Msg {
        request(id, self.proc(), &self.args())
    }

    /// What a correct server answers: STATUS and results, or STATUS and
    /// message. Runs the procedure here (`sleep` does not sleep, `stat`
    /// looks at this machine, which is the server's).
    pub fn outcome(&self) -> Outcome {
        let failed = |m: &str| Outcome::Failed(FAILED, m.to_string());
        match self {
            Call::Add(a, b) => {
                a.checked_add(*b).map_or_else(|| failed("overflow"), |s| Outcome::Ok(vec![Value::I64(s)]))
            }
            Call::Upper(s) => match std::str::from_utf8(s) {
                Ok(s) => Outcome::Ok(vec![Value::Str(s.to_ascii_uppercase().into_bytes())]),
                Err(_) => bad_arguments(),
            },
            Call::Sum(xs) => {
                let total: i128 = xs.iter().map(|&x| i128::from(x)).sum();
                i64::try_from(total).map_or_else(|_| failed("overflow"), |t| Outcome::Ok(vec![Value::I64(t)]))
            }
            Call::Div(_, 0) => failed("division by zero"),
            Call::Div(a, b) => match (a.checked_div(*b), a.checked_rem(*b)) {
                (Some(q), Some(r)) => Outcome::Ok(vec![Value::I64(q), Value::I64(r)]),
                _ => failed("overflow"),
            },
            Call::Sleep(ms) if *ms > MAX_SLEEP_MS => bad_arguments(),
            Call::Sleep(_) => Outcome::Ok(Vec::new()),
            Call::Stat(path) => {
                use std::os::unix::fs::MetadataExt;
                let Ok(path) = std::str::from_utf8(path) else { return bad_arguments() };
                match std::fs::metadata(path) {
                    Ok(meta) => Outcome::Ok(vec![Value::U64(meta.size()), Value::U32(meta.mode())]),
                    Err(e) => failed(&os_text(&e)),
                }
            }
        }
    }

    /// What `rpc-client` prints for these results.
    pub fn printed(results: &[Value]) -> String {
        results
            .iter()
            .map(|v| match v {
                Value::I64(n) => n.to_string(),
                Value::U64(n) => n.to_string(),
                Value::U32(mode) => format!("{mode:o}"),
                Value::Str(s) => String::from_utf8_lossy(s).into_owned(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn bad_arguments() -> Outcome {
    Outcome::Failed(BAD_ARGUMENTS, "bad arguments".into())
}

/// The OS's text for an error, as strerror(3) gives it.
pub fn os_text(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_string(),
        None => e.to_string(),
    }
}

/// One result field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    I64(i64),
    U64(u64),
    U32(u32),
    Str(Vec<u8>),
}

/// What a call comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok(Vec<Value>),
    /// STATUS (not 0) and its message.
    Failed(u8, String),
}

impl Outcome {
    /// The reply to request `id`.
    pub fn reply(&self, id: u32) -> Msg {
        let m = Msg::framed().u32("ID", id);
        match self {
            Outcome::Ok(values) => values.iter().enumerate().fold(m.u8("STATUS", OK), |m, (i, v)| {
                let name = format!("result{}", i + 1);
                match v {
                    Value::I64(n) => m.i64(&name, *n),
                    Value::U64(n) => m.u64(&format!("{name} (u64 size)"), *n),
                    Value::U32(n) => m.u32(&format!("{name} (u32 mode)"), *n),
                    Value::Str(s) => m.str(&name, s),
                }
            }),
            Outcome::Failed(status, message) => m.u8("STATUS", *status).str("message", message.as_bytes()),
        }
        .finish()
    }
}

/// A request: LEN, ID, PROC, then the arguments (any bytes).
pub fn request(id: u32, proc: u16, args: &Msg) -> Msg {
    Msg::framed().u32("ID", id).u16("PROC", proc).append(args).finish()
}

/// Takes fields off the front of a body, saying what is wrong when they
/// do not fit.
pub struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    pub fn new(body: &'a [u8]) -> Fields<'a> {
        Fields { rest: body }
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        if self.rest.len() < n {
            return Err(format!("{what} needs {n} bytes, {} left", self.rest.len()));
        }
        let (field, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(field)
    }

    pub fn u16(&mut self, what: &str) -> Result<u16, String> {
        Ok(u16::from_be_bytes(self.take(2, what)?.try_into().expect("2 bytes")))
    }

    pub fn u32(&mut self, what: &str) -> Result<u32, String> {
        Ok(u32::from_be_bytes(self.take(4, what)?.try_into().expect("4 bytes")))
    }

    pub fn i64(&mut self, what: &str) -> Result<i64, String> {
        Ok(i64::from_be_bytes(self.take(8, what)?.try_into().expect("8 bytes")))
    }

    pub fn bytes(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        self.take(n, what)
    }

    /// A `str`'s bytes, checked to be UTF-8.
    pub fn str(&mut self, what: &str) -> Result<&'a [u8], String> {
        let n = self.u32(&format!("{what}'s byte count"))? as usize;
        let bytes = self.take(n, &format!("{what} (count {n})"))?;
        std::str::from_utf8(bytes).map_err(|e| format!("{what} is not UTF-8 ({e})"))?;
        Ok(bytes)
    }

    pub fn end(&self, what: &str) -> Result<(), String> {
        if self.rest.is_empty() { Ok(()) } else { Err(format!("{} bytes left over after {what}", self.rest.len())) }
    }
}

/// A request's arguments decoded strictly by PROC: `Err((STATUS, why))`
/// for an unknown procedure (1) or arguments that do not fill the request
/// exactly or are not UTF-8 (2).
pub fn decode_call(proc: u16, args: &[u8]) -> Result<Call, (u8, String)> {
    let bad = |why: String| (BAD_ARGUMENTS, why);
    let mut f = Fields::new(args);
    let call = match proc {
        1 => Call::Add(f.i64("add's a").map_err(bad)?, f.i64("add's b").map_err(bad)?),
        2 => Call::Upper(f.str("upper's s").map_err(bad)?.to_vec()),
        3 => {
            let count = f.u32("sum's count").map_err(bad)? as usize;
            if count.checked_mul(8).is_none_or(|n| n > f.rest.len()) {
                return Err(bad(format!("sum's count is {count}, but only {} bytes follow", f.rest.len())));
            }
            Call::Sum((0..count).map(|i| f.i64(&format!("sum's xs[{i}]"))).collect::<Result<_, _>>().map_err(bad)?)
        }
        4 => Call::Div(f.i64("div's a").map_err(bad)?, f.i64("div's b").map_err(bad)?),
        5 => Call::Sleep(f.u32("sleep's ms").map_err(bad)?),
        6 => Call::Stat(f.str("stat's path").map_err(bad)?.to_vec()),
        _ => return Err((UNKNOWN_PROCEDURE, format!("PROC {proc} is no procedure of the contract"))),
    };
    f.end(&format!("{}'s arguments", call.name())).map_err(bad)?;
    Ok(call)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_big_endian_with_len_after_itself() {
        let m = Call::Add(2, 3).request(7);
        assert_eq!(m.bytes.len(), 4 + 4 + 2 + 16);
        assert_eq!(&m.bytes[..10], &[0, 0, 0, 22, 0, 0, 0, 7, 0, 1]);
        assert_eq!(m.bytes[25], 3);
        assert_eq!(decode_call(1, &m.bytes[10..]), Ok(Call::Add(2, 3)));
    }

    #[test]
    fn replies_follow_the_table() {
        assert_eq!(Call::Div(-7, 2).outcome(), Outcome::Ok(vec![Value::I64(-3), Value::I64(-1)]));
        assert_eq!(Call::Div(i64::MIN, -1).outcome(), Outcome::Failed(FAILED, "overflow".into()));
        assert_eq!(Call::Sum(vec![i64::MAX, 1, -2]).outcome(), Outcome::Ok(vec![Value::I64(i64::MAX - 1)]));
        assert_eq!(Call::Upper("é a".into()).outcome(), Outcome::Ok(vec![Value::Str("é A".into())]));
        let reply = Call::Sleep(5).outcome().reply(9);
        assert_eq!(reply.bytes, vec![0, 0, 0, 5, 0, 0, 0, 9, 0]);
    }

    #[test]
    fn decoding_is_strict() {
        assert_eq!(decode_call(1, &[0; 17]).unwrap_err().0, BAD_ARGUMENTS);
        assert_eq!(decode_call(2, &[0, 0, 0, 2, 0xff, 0xfe]).unwrap_err().0, BAD_ARGUMENTS);
        assert_eq!(decode_call(3, &[0xff, 0xff, 0xff, 0xff]).unwrap_err().0, BAD_ARGUMENTS);
        assert_eq!(decode_call(9, &[]).unwrap_err().0, UNKNOWN_PROCEDURE);
        assert_eq!(decode_call(3, &[0, 0, 0, 0]), Ok(Call::Sum(vec![])));
    }

    #[test]
    fn dumps_cut_at_fields() {
        let m = Call::Sleep(1).request(1);
        let mut got = m.bytes.clone();
        got[0..4].copy_from_slice(&[10, 0, 0, 0]);
        assert_eq!(m.first_difference(&got).as_deref(), Some("LEN"));
        assert!(m.dump(&got).starts_with("LEN 0a 00 00 00 | ID 00 00 00 01"), "{}", m.dump(&got));
    }
}
