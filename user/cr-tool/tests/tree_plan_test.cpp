// plan_tree(): how cr-tool recreates sessions and process groups.
#include <gtest/gtest.h>

#include "error.hpp"
#include "tree_plan.hpp"

namespace cr {
namespace {

cr_tree_entry task(pid_t pid, pid_t ppid, pid_t pgid, pid_t sid)
{
    cr_tree_entry e{};
    e.pid = e.tgid = pid;
    e.ppid = ppid;
    e.pgid = pgid;
    e.sid = sid;
    e.flags = CR_TASK_THREAD_LEADER | (ppid ? 0 : CR_TASK_ROOT);
    return e;
}

TEST(TreePlan, ChildrenInheritTheRootsOutsideSessionAndGroup)
{
    auto plan = plan_tree({task(100, 0, 7, 5), task(101, 100, 7, 5), task(102, 101, 7, 5)});
    ASSERT_EQ(plan.size(), 3u);
    EXPECT_EQ(plan[0].children, std::vector<size_t>{1});
    EXPECT_EQ(plan[1].children, std::vector<size_t>{2});
    for (const auto& p : plan) {
        EXPECT_FALSE(p.new_session);
        EXPECT_EQ(p.join_pgid, 0);
    }
}

TEST(TreePlan, SessionLeadersAndOwnGroups)
{
    // 101 leads a session, 102 its own group inside it, 103 joins 102's group.
    auto plan = plan_tree({task(100, 0, 100, 100), task(101, 100, 101, 101), task(102, 101, 102, 101),
                           task(103, 101, 102, 101)});
    EXPECT_TRUE(plan[0].new_session);
    EXPECT_EQ(plan[0].join_pgid, 0);
    EXPECT_TRUE(plan[1].new_session);
    EXPECT_FALSE(plan[2].new_session);
    EXPECT_EQ(plan[2].join_pgid, 102);
    EXPECT_EQ(plan[3].join_pgid, 102);
}

TEST(TreePlan, LeavesAGroupWhoseLeaderIsCreatedLaterToTheKernel)
{
    // 101 (created first) is in the group of 102, its younger sibling:
    // it cannot join it yet; restart(2) moves it once both exist.
    auto plan = plan_tree({task(100, 0, 100, 100), task(101, 100, 102, 100), task(102, 100, 102, 100)});
    EXPECT_EQ(plan[1].join_pgid, 0);
    EXPECT_EQ(plan[2].join_pgid, 102);
}

TEST(TreePlan, LeavesGoneLeadersSessionsAndGroupsToTheKernel)
{
    // Session 90 and group 91 were led by processes that are gone; 101 and
    // its child 102 are in both.
    auto plan = plan_tree({task(100, 0, 100, 100), task(101, 100, 91, 90), task(102, 101, 91, 90)});
    EXPECT_FALSE(plan[1].new_session || plan[2].new_session);
    EXPECT_EQ(plan[1].join_pgid, 0);
    EXPECT_EQ(plan[2].join_pgid, 0);
}

TEST(TreePlan, JoinsAGroupCreatedEarlierInTheSameSession)
{
    auto plan = plan_tree({task(100, 0, 100, 100), task(101, 100, 101, 100), task(102, 101, 101, 100),
                           task(103, 100, 101, 100)});
    EXPECT_EQ(plan[1].join_pgid, 101);
    EXPECT_EQ(plan[2].join_pgid, 0);    // inherits it from 101
    EXPECT_EQ(plan[3].join_pgid, 101);  // its parent 100 is in group 100
}

TEST(TreePlan, ThreadsAreCreatedByTheirLeaderAfterItsChildren)
{
    // 100 has threads 103 and 104; its child 101 has thread 102.
    auto thread = [](pid_t tid, const cr_tree_entry& leader) {
        cr_tree_entry t = leader;
        t.pid = tid;
        t.flags = 0;
        return t;
    };
    auto root = task(100, 0, 100, 100), child = task(101, 100, 100, 100);
    auto plan = plan_tree({root, thread(103, root), thread(104, root), child, thread(102, child)});
    EXPECT_EQ(plan[0].children, std::vector<size_t>{3});
    EXPECT_EQ(plan[0].threads, (std::vector<pid_t>{103, 104}));
    EXPECT_EQ(plan[3].threads, std::vector<pid_t>{102});
    EXPECT_TRUE(plan[1].is_thread && plan[2].is_thread && plan[4].is_thread);
    EXPECT_FALSE(plan[3].is_thread);
}

} // namespace
} // namespace cr
