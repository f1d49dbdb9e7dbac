//! Lab `signals`: the checks of `sig-segv`.

use ipc_engine::check::{Fail, ensure};
use ipc_engine::ctx::Ctx;

fn is_address(s: &str) -> bool {
    s.strip_prefix("0x").is_some_and(|h| {
        !h.is_empty() && !h.starts_with('0') && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// `page at ADDR`, then the handler's `SIGSEGV at ADDR` with the same
/// address (the write goes to the page's first byte), both `0x` lowercase hex.
pub(super) fn segv_same_address(ctx: &mut Ctx) -> Result<(), Fail> {
    let done = ctx.program("sig-segv").output_cap(1 << 16).run()?;
    let stdout = done.stdout_text();
    let lines: Vec<&str> = stdout.lines().collect();
    let page = lines.first().and_then(|l| l.strip_prefix("page at ")).filter(|a| is_address(a));
    let Some(page) = page else {
        return Err(done
            .fail("the first line is not `page at ADDR` (ADDR: 0x and lowercase hex, no padding)")
            .got(lines.first().unwrap_or(&"(nothing)").to_string()));
    };
    let expected = format!("SIGSEGV at {page}");
    ensure(lines.get(1) == Some(&expected.as_str()), || {
        done.fail("the second line is not the handler's report of the same address")
            .expected(expected.clone())
            .got(lines.get(1).unwrap_or(&"(nothing)").to_string())
            .note("take the address from siginfo's si_addr and format it like {:p}")
    })
}

/// The handler makes the page writable: the write is retried, `value 42`
/// follows, exit 0, and the handler ran exactly once.
pub(super) fn segv_recovers(ctx: &mut Ctx) -> Result<(), Fail> {
    let done = ctx.program("sig-segv").output_cap(1 << 16).run()?;
    let stdout = done.stdout_text();
    let lines: Vec<&str> = stdout.lines().collect();
    ensure(lines.len() == 3 && lines[2] == "value 42", || {
        done.fail("expected exactly three lines, the last `value 42`")
            .got(ipc_engine::text::excerpt(&done.stdout, done.stdout_total, 6, 400))
            .note(
                "the handler must mprotect the page PROT_READ|PROT_WRITE before it returns, or the write faults again",
            )
    })?;
    done.expect_code(0)?;
    Ok(())
}
