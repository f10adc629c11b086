//! Windows: stop requests are console control events, Terraform is a
//! process handle opened at start (a process id alone may be reused once
//! its process exits), and its command line is not read: destroy runs do
//! the plan-time checks, as a run whose command is unknown does.

use std::os::windows::io::{AsRawHandle as _, FromRawHandle as _, OwnedHandle};
use std::task::{Context, Poll};

use tokio::signal::windows::{
    CtrlBreak, CtrlC, CtrlClose, CtrlLogoff, CtrlShutdown, ctrl_break, ctrl_c, ctrl_close,
    ctrl_logoff, ctrl_shutdown,
};
use windows_sys::Win32::Foundation::{INVALID_HANDLE_VALUE, WAIT_OBJECT_0};
use windows_sys::Win32::System::Diagnostics::ToolHelp::{
    CreateToolhelp32Snapshot, PROCESSENTRY32W, Process32FirstW, Process32NextW, TH32CS_SNAPPROCESS,
};
use windows_sys::Win32::System::Threading::{
    GetCurrentProcessId, OpenProcess, PROCESS_SYNCHRONIZE, WaitForSingleObject,
};

/// Every console control event, each answered (Windows has no hang-up).
pub struct Stops {
    ctrl_c: Option<CtrlC>,
    ctrl_break: Option<CtrlBreak>,
    close: Option<CtrlClose>,
    logoff: Option<CtrlLogoff>,
    shutdown: Option<CtrlShutdown>,
}

fn registered<T>(name: &str, made: std::io::Result<T>) -> Option<T> {
    made.map_err(|e| tracing::warn!(event = name, error = %e, "could not handle the event"))
        .ok()
}

impl Stops {
    pub fn register() -> Self {
        Stops {
            ctrl_c: registered("CTRL_C_EVENT", ctrl_c()),
            ctrl_break: registered("CTRL_BREAK_EVENT", ctrl_break()),
            close: registered("CTRL_CLOSE_EVENT", ctrl_close()),
            logoff: registered("CTRL_LOGOFF_EVENT", ctrl_logoff()),
            shutdown: registered("CTRL_SHUTDOWN_EVENT", ctrl_shutdown()),
        }
    }

    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<&'static str> {
        fn ready(p: Poll<Option<()>>) -> bool {
            matches!(p, Poll::Ready(Some(())))
        }
        if self.ctrl_c.as_mut().is_some_and(|s| ready(s.poll_recv(cx))) {
            return Poll::Ready("CTRL_C_EVENT");
        }
        if self
            .ctrl_break
            .as_mut()
            .is_some_and(|s| ready(s.poll_recv(cx)))
        {
            return Poll::Ready("CTRL_BREAK_EVENT");
        }
        if self.close.as_mut().is_some_and(|s| ready(s.poll_recv(cx))) {
            return Poll::Ready("CTRL_CLOSE_EVENT");
        }
        if self.logoff.as_mut().is_some_and(|s| ready(s.poll_recv(cx))) {
            return Poll::Ready("CTRL_LOGOFF_EVENT");
        }
        if self
            .shutdown
            .as_mut()
            .is_some_and(|s| ready(s.poll_recv(cx)))
        {
            return Poll::Ready("CTRL_SHUTDOWN_EVENT");
        }
        Poll::Pending
    }
}

/// A handle to Terraform's process with the right to wait on it, or none
/// when it could not be found or opened (then it is never seen as gone).
pub struct Parent(Option<OwnedHandle>);

impl Parent {
    pub fn at_start() -> Self {
        let handle = parent_id().and_then(|pid| {
            // SAFETY: OpenProcess has no preconditions; a null result is
            // a failure, and a handle it returns is ours to close.
            let raw = unsafe { OpenProcess(PROCESS_SYNCHRONIZE, 0, pid) };
            // SAFETY: `raw` is a process handle just opened, owned by no
            // one else.
            (!raw.is_null()).then(|| unsafe { OwnedHandle::from_raw_handle(raw) })
        });
        Parent(handle)
    }

    pub fn gone(&self) -> bool {
        self.0.as_ref().is_some_and(|h| {
            // SAFETY: the handle is open and has the SYNCHRONIZE right; a
            // zero timeout only polls. A process's handle is signalled
            // once the process has exited.
            unsafe { WaitForSingleObject(h.as_raw_handle(), 0) == WAIT_OBJECT_0 }
        })
    }
}

/// This process's parent id, from a snapshot of the process list.
fn parent_id() -> Option<u32> {
    // SAFETY: the snapshot handle is checked and closed by OwnedHandle;
    // PROCESSENTRY32W is a plain C struct, valid zeroed once dwSize is set,
    // as Process32FirstW requires.
    unsafe {
        let snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
        if snapshot == INVALID_HANDLE_VALUE {
            return None;
        }
        let snapshot = OwnedHandle::from_raw_handle(snapshot);
        let me = GetCurrentProcessId();
        let mut entry: PROCESSENTRY32W = std::mem::zeroed();
        entry.dwSize = std::mem::size_of::<PROCESSENTRY32W>() as u32;
        let mut more = Process32FirstW(snapshot.as_raw_handle(), &mut entry) != 0;
        while more {
            if entry.th32ProcessID == me {
                return Some(entry.th32ParentProcessID);
            }
            more = Process32NextW(snapshot.as_raw_handle(), &mut entry) != 0;
        }
        None
    }
}

pub fn parent_command_line() -> Option<Vec<String>> {
    None
}

/// WSAEMFILE, WSAENOBUFS: Winsock's shortage of sockets and buffers.
pub fn is_descriptor_shortage(errno: i32) -> bool {
    matches!(errno, 10024 | 10055)
}
