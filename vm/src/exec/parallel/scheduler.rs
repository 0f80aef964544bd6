//! The collaborative scheduler of Block-STM (Gelashvili et al., 2022, Algorithms 4-5):
//! every worker thread asks it for the next task, an execution or a validation, chosen
//! from two atomic counters that only move down when work must be redone.
//!
//! Guarantees: a task (a group of transactions, see `super`) is executed by at most one
//! thread at a time; `done` becomes true only when every task is executed at its latest
//! incarnation and validated after the last write below it; a task that read an
//! unfinished task's estimate is not parked on a lock: it is recorded as that task's
//! dependant and the thread moves on to other work, and it becomes ready again as soon as
//! the task it waited for finishes executing.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Mutex;

/// A task's incarnation number.
pub type Incarnation = u32;

/// What a worker should do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    /// Run task `.0` as incarnation `.1`.
    Execute(usize, Incarnation),
    /// Check the read set of task `.0`, incarnation `.1`.
    Validate(usize, Incarnation),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    ReadyToExecute,
    Executing,
    Executed,
    Aborting,
}

/// The shared scheduler for one block of `tasks` tasks.
pub struct Scheduler {
    tasks: usize,
    execution_idx: AtomicUsize,
    validation_idx: AtomicUsize,
    decrease_cnt: AtomicUsize,
    num_active_tasks: AtomicUsize,
    done_marker: AtomicBool,
    status: Vec<Mutex<(Incarnation, Status)>>,
    dependants: Vec<Mutex<Vec<usize>>>,
}

/// Locks `m`; a poisoned lock (a panic elsewhere, which the VM never does) still yields
/// its data, since every critical section here leaves it consistent.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Scheduler {
    /// A scheduler with every task ready at incarnation 0.
    pub fn new(tasks: usize) -> Self {
        Scheduler {
            tasks,
            execution_idx: AtomicUsize::new(0),
            validation_idx: AtomicUsize::new(0),
            decrease_cnt: AtomicUsize::new(0),
            num_active_tasks: AtomicUsize::new(0),
            done_marker: AtomicBool::new(false),
            status: (0..tasks)
                .map(|_| Mutex::new((0, Status::ReadyToExecute)))
                .collect(),
            dependants: (0..tasks).map(|_| Mutex::new(Vec::new())).collect(),
        }
    }

    /// Whether every task is executed and validated.
    pub fn done(&self) -> bool {
        self.done_marker.load(SeqCst)
    }

    fn decrease_execution_idx(&self, target: usize) {
        self.execution_idx.fetch_min(target, SeqCst);
        self.decrease_cnt.fetch_add(1, SeqCst);
    }

    fn decrease_validation_idx(&self, target: usize) {
        self.validation_idx.fetch_min(target, SeqCst);
        self.decrease_cnt.fetch_add(1, SeqCst);
    }

    fn check_done(&self) {
        let observed = self.decrease_cnt.load(SeqCst);
        if self
            .execution_idx
            .load(SeqCst)
            .min(self.validation_idx.load(SeqCst))
            >= self.tasks
            && self.num_active_tasks.load(SeqCst) == 0
            && observed == self.decrease_cnt.load(SeqCst)
        {
            self.done_marker.store(true, SeqCst);
        }
    }

    #[allow(
        clippy::indexing_slicing,
        reason = "`idx` is a task index below `tasks`, the length of `status`"
    )]
    fn try_incarnate(&self, idx: usize) -> Option<Task> {
        if idx < self.tasks {
            let mut s = lock(&self.status[idx]);
            if s.1 == Status::ReadyToExecute {
                s.1 = Status::Executing;
                return Some(Task::Execute(idx, s.0));
            }
        }
        self.num_active_tasks.fetch_sub(1, SeqCst);
        None
    }

    fn next_version_to_execute(&self) -> Option<Task> {
        if self.execution_idx.load(SeqCst) >= self.tasks {
            self.check_done();
            return None;
        }
        self.num_active_tasks.fetch_add(1, SeqCst);
        let idx = self.execution_idx.fetch_add(1, SeqCst);
        self.try_incarnate(idx)
    }

    #[allow(
        clippy::indexing_slicing,
        reason = "`idx` is checked against `tasks` (the length of `status`) just above"
    )]
    fn next_version_to_validate(&self) -> Option<Task> {
        if self.validation_idx.load(SeqCst) >= self.tasks {
            self.check_done();
            return None;
        }
        self.num_active_tasks.fetch_add(1, SeqCst);
        let idx = self.validation_idx.fetch_add(1, SeqCst);
        if idx < self.tasks {
            let s = *lock(&self.status[idx]);
            if s.1 == Status::Executed {
                return Some(Task::Validate(idx, s.0));
            }
        }
        self.num_active_tasks.fetch_sub(1, SeqCst);
        None
    }

    /// The next task for an idle worker, if any is available now.
    pub fn next_task(&self) -> Option<Task> {
        if self.validation_idx.load(SeqCst) < self.execution_idx.load(SeqCst) {
            self.next_version_to_validate()
        } else {
            self.next_version_to_execute()
        }
    }

    /// Task `idx` read an estimate written by `blocking`: makes `idx` a dependant of
    /// `blocking` and returns true, or returns false when `blocking` has meanwhile finished
    /// executing (the caller then simply runs `idx` again).
    #[allow(
        clippy::indexing_slicing,
        reason = "`idx` and `blocking` are task indices below `tasks`, the length of `status` and `dependants` (a task only depends on a lower one)"
    )]
    pub fn add_dependency(&self, idx: usize, blocking: usize) -> bool {
        {
            let mut deps = lock(&self.dependants[blocking]);
            if lock(&self.status[blocking]).1 == Status::Executed {
                return false;
            }
            lock(&self.status[idx]).1 = Status::Aborting;
            deps.push(idx);
        }
        self.num_active_tasks.fetch_sub(1, SeqCst);
        true
    }

    #[allow(
        clippy::indexing_slicing,
        reason = "`idx` is a task index below `tasks`, the length of `status`"
    )]
    fn set_ready_status(&self, idx: usize) {
        let mut s = lock(&self.status[idx]);
        *s = (s.0 + 1, Status::ReadyToExecute);
    }

    /// Records that `idx` executed; returns its validation when that can start at once.
    #[allow(
        clippy::indexing_slicing,
        reason = "`idx` is a task index below `tasks`, the length of `status` and `dependants`"
    )]
    pub fn finish_execution(
        &self,
        idx: usize,
        incarnation: Incarnation,
        wrote_new_location: bool,
    ) -> Option<Task> {
        lock(&self.status[idx]).1 = Status::Executed;
        let deps = std::mem::take(&mut *lock(&self.dependants[idx]));
        if let Some(&min) = deps.iter().min() {
            for &d in &deps {
                self.set_ready_status(d);
            }
            self.decrease_execution_idx(min);
        }
        if self.validation_idx.load(SeqCst) > idx {
            if wrote_new_location {
                self.decrease_validation_idx(idx);
            } else {
                return Some(Task::Validate(idx, incarnation));
            }
        }
        self.num_active_tasks.fetch_sub(1, SeqCst);
        None
    }

    /// Claims the abort of `idx`'s `incarnation` after a failed validation: true for the
    /// one validator that gets it.
    #[allow(
        clippy::indexing_slicing,
        reason = "`idx` is a task index below `tasks`, the length of `status`"
    )]
    pub fn try_validation_abort(&self, idx: usize, incarnation: Incarnation) -> bool {
        let mut s = lock(&self.status[idx]);
        if *s == (incarnation, Status::Executed) {
            s.1 = Status::Aborting;
            true
        } else {
            false
        }
    }

    /// Records a validation's outcome; after an abort, returns the re-execution when this
    /// thread can take it at once.
    pub fn finish_validation(&self, idx: usize, aborted: bool) -> Option<Task> {
        if aborted {
            self.set_ready_status(idx);
            self.decrease_validation_idx(idx + 1);
            if self.execution_idx.load(SeqCst) > idx {
                return self.try_incarnate(idx);
            }
        }
        self.num_active_tasks.fetch_sub(1, SeqCst);
        None
    }
}
