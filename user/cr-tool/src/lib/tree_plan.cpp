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

    // What setsid() and setpgid() can build as the tasks are created: session
    // leaders, and groups whose leader exists already in the session the
    // member is in at that time. restart(2) moves the others (a member
    // created before its group's leader, a session or group whose leader is
    // gone) once every task exists.
    std::vector<pid_t> session_at_creation(tree.size());
    for (size_t i = 0; i < tree.size(); i++) {
        const auto& e = tree[i];
        auto& p = plan[i];
        if (p.is_thread)
            continue;
        p.new_session = e.sid == e.pid;
        session_at_creation[i] = p.new_session ? e.pid : i ? session_at_creation[by_pid.at(e.ppid)] : 0;
        if (p.new_session)
            continue;
        if (e.pgid == e.pid) {
            p.join_pgid = e.pid;
            continue;
        }
        auto leader = by_pid.find(e.pgid);
        if (i > 0 && leader != by_pid.end() && tree[leader->second].pgid == e.pgid &&
            created_at[leader->second] < created_at[i] &&
            session_at_creation[leader->second] == session_at_creation[i] &&
            e.pgid != tree[by_pid.at(e.ppid)].pgid)
            p.join_pgid = e.pgid;
    }
    return plan;
}

} // namespace cr
