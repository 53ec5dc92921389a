#include "tree_plan.hpp"

#include <unordered_map>

#include <fmt/format.h>

#include "error.hpp"

namespace cr {
namespace {

// Depth-first creation order: a process group can be joined only once its leader exists.
void number_depth_first(const std::vector<TaskPlan>& plan, size_t i, std::vector<size_t>& created_at,
                        size_t& next)
{
    created_at[i] = next++;
    for (size_t child : plan[i].children)
        number_depth_first(plan, child, created_at, next);
}

} // namespace

std::vector<TaskPlan> plan_tree(const std::vector<cr_tree_entry>& tree)
{
    if (tree.empty())
        throw Failure("the image holds no task");
    std::vector<TaskPlan> plan(tree.size());
    std::unordered_map<pid_t, size_t> by_pid;
    for (size_t i = 0; i < tree.size(); i++) {
        const auto& e = tree[i];
        plan[i].pid = e.pid;
        by_pid[e.pid] = i;
        // The reader checked that parents and leaders come first.
        if (e.tgid != e.pid) {
            plan[i].is_thread = true;
            plan[by_pid.at(e.tgid)].threads.push_back(e.pid);
        } else if (i > 0) {
            plan[by_pid.at(e.ppid)].children.push_back(i);
        }
    }
    std::vector<size_t> created_at(tree.size());
    size_t next = 0;
    number_depth_first(plan, 0, created_at, next);

    const auto& root = tree[0];
    if (root.sid == root.pid)
        plan[0].new_session = true;
    else if (by_pid.contains(root.sid))
        throw Failure(fmt::format("pid {} is in the session of its descendant {}", root.pid, root.sid));
    if (root.pgid == root.pid) {
        if (!plan[0].new_session)
            plan[0].join_pgid = root.pid;
    } else if (by_pid.contains(root.pgid)) {
        throw Failure(fmt::format("pid {} is in the process group of its descendant {}; not supported yet",
                                  root.pid, root.pgid));
    }
    // Otherwise the root's session and group are those of whoever started it: it takes cr-tool's.

    for (size_t i = 1; i < tree.size(); i++) {
        const auto& e = tree[i];
        if (plan[i].is_thread)
            continue;
        const auto& parent = tree[by_pid.at(e.ppid)];
        auto& p = plan[i];
        if (e.sid == e.pid)
            p.new_session = true;
        else if (e.sid != parent.sid)
            throw Failure(fmt::format("pid {} is in session {}, which its parent {} is not in; "
                                      "not supported yet", e.pid, e.sid, parent.pid));
        if (e.pgid == e.pid) {
            if (!p.new_session)
                p.join_pgid = e.pid;
        } else if (p.new_session) {
            throw Failure(fmt::format("pid {} leads session {} but is in process group {}; not supported yet",
                                      e.pid, e.sid, e.pgid));
        } else if (e.pgid != parent.pgid) {
            auto leader = by_pid.find(e.pgid);
            if (leader == by_pid.end() || created_at[leader->second] > created_at[i] ||
                tree[leader->second].sid != e.sid)
                throw Failure(fmt::format("pid {} is in process group {}, which cr-tool cannot recreate "
                                          "before it (its leader is gone, outside the tree or created "
                                          "later); not supported yet", e.pid, e.pgid));
            p.join_pgid = e.pgid;
        }
    }
    return plan;
}

} // namespace cr
