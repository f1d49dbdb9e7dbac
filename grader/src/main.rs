use std::process::ExitCode;

fn main() -> ExitCode {
    ipc_grader::cli::main()
}
