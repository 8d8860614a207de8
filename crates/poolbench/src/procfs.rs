//! What the kernel says about this process: resident and virtual memory, thread count, context
//! switches and the stack limit, read from `/proc` (Linux only; elsewhere the readers return `None`
//! and the rows that need them are skipped).

/// The value of `key` (e.g. `VmRSS`) in a `/proc/<pid>/status` text, as its first number (kB for
/// the memory fields).
pub fn status_field(status: &str, key: &str) -> Option<u64> {
    status.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == key).then(|| v.split_whitespace().next()?.parse().ok())?
    })
}

fn own_status(key: &str) -> Option<u64> {
    status_field(&std::fs::read_to_string("/proc/self/status").ok()?, key)
}

/// Resident memory of this process, in bytes.
pub fn rss_bytes() -> Option<u64> {
    own_status("VmRSS").map(|kb| kb * 1024)
}

/// Virtual address space reserved by this process, in bytes.
pub fn vm_bytes() -> Option<u64> {
    own_status("VmSize").map(|kb| kb * 1024)
}

/// OS threads in this process.
pub fn threads() -> Option<u64> {
    own_status("Threads")
}

/// Voluntary plus involuntary context switches of every thread of this process so far.
pub fn context_switches() -> Option<u64> {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let Ok(status) = std::fs::read_to_string(task.ok()?.path().join("status")) else {
            continue; // the thread exited between the listing and the read
        };
        total += status_field(&status, "voluntary_ctxt_switches").unwrap_or(0)
            + status_field(&status, "nonvoluntary_ctxt_switches").unwrap_or(0);
    }
    Some(total)
}

/// The soft limit in a `/proc/<pid>/limits` text for `what` (e.g. `Max stack size`), in its unit
/// (bytes for the stack); `None` when missing or `unlimited`.
pub fn limit(limits: &str, what: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with(what))?;
    line[what.len()..].split_whitespace().next()?.parse().ok()
}

/// `RLIMIT_STACK`: how much stack the kernel lets the *main* thread grow to (8 MiB by default).
pub fn stack_rlimit() -> Option<u64> {
    limit(
        &std::fs::read_to_string("/proc/self/limits").ok()?,
        "Max stack size",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_status_fields() {
        let s = "Name:\tlab\nVmSize:\t  123456 kB\nVmRSS:\t    2048 kB\nThreads:\t7\n";
        assert_eq!(status_field(s, "VmRSS"), Some(2048));
        assert_eq!(status_field(s, "Threads"), Some(7));
        assert_eq!(status_field(s, "VmSwap"), None);
        // A prefix of another key is not that key.
        assert_eq!(status_field(s, "Vm"), None);
    }

    #[test]
    fn reads_limits() {
        let l = "Limit                     Soft Limit           Hard Limit           Units     \n\
                 Max stack size            8388608              unlimited            bytes     \n\
                 Max core file size        unlimited            unlimited            bytes     \n";
        assert_eq!(limit(l, "Max stack size"), Some(8 << 20));
        assert_eq!(limit(l, "Max core file size"), None);
        assert_eq!(limit(l, "Max processes"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_is_visible() {
        assert!(rss_bytes().unwrap() > 0);
        assert!(vm_bytes().unwrap() >= rss_bytes().unwrap());
        assert!(threads().unwrap() >= 1);
        assert!(context_switches().is_some());
    }
}
