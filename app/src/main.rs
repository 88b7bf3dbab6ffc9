//! The `leakscope` binary: a thin shell over the library.

fn main() -> std::process::ExitCode {
    leakscope::cli::main()
}
