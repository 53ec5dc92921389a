// How cr-tool recreates a checkpointed process tree before the kernel
// restores it: who creates whom, in which order, and which session and
// process-group calls each new task makes so that the tree has the ids the
// image says. restart(2) checks the result; this plan only has to get there.
#pragma once

#include <linux/checkpoint.h>
#include <sys/types.h>

#include <cstddef>
#include <vector>

namespace cr {

struct TaskPlan {
    pid_t pid = 0;
    bool new_session = false;       // setsid() first
    pid_t join_pgid = 0;            // then setpgid(0, join_pgid); 0: keep the inherited group
    std::vector<size_t> children;   // indices into the plan, in creation order
    std::vector<pid_t> threads;     // its other threads' tids, created after the children
    bool is_thread = false;         // a thread: its leader's entry creates it
};

// One entry per TREE entry, in TREE order (plan[0] is the root). Each process
// creates its children one after another, each child its whole subtree
// before the next starts (creation runs in depth-first order), then its
// threads. Throws
// Failure naming the task when the tree needs what this cannot build yet.
std::vector<TaskPlan> plan_tree(const std::vector<cr_tree_entry>& tree);

} // namespace cr
