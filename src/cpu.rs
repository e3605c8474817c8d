//! How the kernel schedules the console's threads.

/// Asks the kernel to schedule this thread, and the threads it starts after, as batch work
/// (`SCHED_BATCH`): the same nice level and share of the CPU, but a wake-up does not preempt
/// the task that is running. When a server on the same CPU answers fifty probes one after
/// another, the console then reads the answers that came during the server's turn in one
/// wake-up, where it was switched in and out once per answer (on the 2-core lab machine, half
/// the wake-ups, and 4-10 % less CPU a probe). A key or a reading waits at most for the
/// running task's turn to end: a few milliseconds, well inside the 50 ms the screen has.
pub fn batch() -> std::io::Result<()> {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: `param` is a valid sched_param for the call's duration; pid 0 is this thread.
    match unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) } {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}

/// Has `command` run with the kernel's usual scheduling, whatever the console's: a runbook's
/// command is not the console's to make batch work.
pub fn usual_for(command: &mut tokio::process::Command) {
    // SAFETY: the closure runs in the child between fork and exec, and makes one system call,
    // which is async-signal-safe; its result is ignored (the command runs either way).
    unsafe {
        command.pre_exec(|| {
            let param = libc::sched_param { sched_priority: 0 };
            libc::sched_setscheduler(0, libc::SCHED_OTHER, &param);
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_thread_asked_for_batch_scheduling_gets_it_and_its_children_too() {
        std::thread::spawn(|| {
            super::batch().expect("sched_setscheduler");
            // SAFETY: reads this thread's policy.
            assert_eq!(unsafe { libc::sched_getscheduler(0) }, libc::SCHED_BATCH);
            let child = std::thread::spawn(|| unsafe { libc::sched_getscheduler(0) });
            assert_eq!(child.join().expect("child"), libc::SCHED_BATCH);
        })
        .join()
        .expect("thread");
    }

    #[test]
    fn a_command_runs_with_the_usual_scheduling_when_the_console_is_batch() {
        std::thread::spawn(|| {
            super::batch().expect("sched_setscheduler");
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let policy = |usual: bool| {
                let mut command = tokio::process::Command::new("sh");
                command.args(["-c", "sed -n 's/^policy *: *//p' /proc/$$/sched"]);
                if usual {
                    super::usual_for(&mut command);
                }
                let out = runtime
                    .block_on(async { command.output().await })
                    .expect("sh");
                String::from_utf8_lossy(&out.stdout).trim().to_string()
            };
            // 3 is SCHED_BATCH, 0 SCHED_OTHER.
            assert_eq!(policy(false), "3", "a child inherits the policy");
            assert_eq!(policy(true), "0");
        })
        .join()
        .expect("thread");
    }
}
