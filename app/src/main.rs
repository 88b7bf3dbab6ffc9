//! The `leakscope` binary: a thin shell over the library.

// The UI thread allocates and frees meshes of megabytes every frame (a rect per pixel per lane
// at the whole range of a big trace); glibc's malloc hands such blocks back to the kernel and
// faults fresh pages in on the next frame, which cost a third of a frame in the timeline
// benchmark. mimalloc keeps them.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    leakscope::cli::main()
}
