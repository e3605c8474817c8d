use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = failover_console::cli::Cli::parse();
    // Before the runtime, so that its threads are batch work too. Where the kernel refuses (a
    // sandbox), the console runs as it would have: only its CPU per probe is higher.
    let _ = failover_console::cpu::batch();
    // One thread: the console waits on the network and the terminal, it does not compute. A
    // multi-threaded runtime's workers wake and spin for each other at every probe, which is
    // most of what an idle console would cost.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            failover_console::output::stderr(&format!(
                "failover-console: cannot start the async runtime: {e}"
            ));
            return ExitCode::from(3);
        }
    };
    let code = runtime.block_on(failover_console::cli::run(cli));
    // Pollers may be mid-request; do not wait for them.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    ExitCode::from(code)
}
