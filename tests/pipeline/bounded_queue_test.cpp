#include "pipeline/bounded_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <numeric>
#include <set>
#include <thread>
#include <vector>

using upscaled::pipeline::BoundedQueue;
using namespace std::chrono_literals;

TEST(BoundedQueue, RejectsZeroCapacity) {
  EXPECT_THROW(BoundedQueue<int>(0), std::invalid_argument);
}

TEST(BoundedQueue, FifoOrderAndSize) {
  BoundedQueue<int> q(3);
  EXPECT_TRUE(q.push(1));
  EXPECT_TRUE(q.push(2));
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.pop(), 1);
  EXPECT_EQ(q.pop(), 2);
  EXPECT_EQ(q.size(), 0u);
}

TEST(BoundedQueue, PushBlocksWhileFullUntilAPop) {
  BoundedQueue<int> q(2);
  ASSERT_TRUE(q.push(1));
  ASSERT_TRUE(q.push(2));
  std::atomic<bool> pushed{false};
  std::thread producer([&] {
    q.push(3);
    pushed = true;
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(pushed.load()) << "push must block while the queue holds `capacity` items";
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.pop(), 1);
  producer.join();
  EXPECT_TRUE(pushed.load());
  EXPECT_EQ(q.pop(), 2);
  EXPECT_EQ(q.pop(), 3);
  EXPECT_GT(q.stats().push_wait_s, 0.0);
  EXPECT_EQ(q.stats().max_depth, 2u);
}

TEST(BoundedQueue, PopBlocksWhileEmptyUntilAPush) {
  BoundedQueue<int> q(1);
  auto result = std::async(std::launch::async, [&] { return q.pop(); });
  EXPECT_EQ(result.wait_for(50ms), std::future_status::timeout);
  q.push(7);
  EXPECT_EQ(result.get(), 7);
}

TEST(BoundedQueue, CloseLetsConsumersDrainThenEnds) {
  BoundedQueue<int> q(4);
  q.push(1);
  q.push(2);
  q.close();
  EXPECT_FALSE(q.push(3)) << "push after close is refused";
  EXPECT_EQ(q.pop(), 1);
  EXPECT_EQ(q.pop(), 2);
  EXPECT_EQ(q.pop(), std::nullopt);
}

TEST(BoundedQueue, CloseWakesABlockedConsumer) {
  BoundedQueue<int> q(1);
  auto result = std::async(std::launch::async, [&] { return q.pop(); });
  std::this_thread::sleep_for(20ms);
  q.close();
  EXPECT_EQ(result.get(), std::nullopt);
}

TEST(BoundedQueue, CancelWakesBlockedProducerAndDropsItems) {
  BoundedQueue<int> q(1);
  q.push(1);
  auto producer = std::async(std::launch::async, [&] { return q.push(2); });
  std::this_thread::sleep_for(20ms);
  q.cancel();
  EXPECT_FALSE(producer.get());
  EXPECT_EQ(q.pop(), std::nullopt) << "cancel drops queued items";
  EXPECT_EQ(q.try_pop(), std::nullopt);
}

TEST(BoundedQueue, ManyProducersAndConsumersDeliverEveryItemOnce) {
  constexpr int kProducers = 4, kConsumers = 3, kPerProducer = 5000;
  BoundedQueue<int> q(8);
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p)
    producers.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) ASSERT_TRUE(q.push(p * kPerProducer + i));
    });
  std::vector<std::vector<int>> got(kConsumers);
  std::vector<std::thread> consumers;
  for (int c = 0; c < kConsumers; ++c)
    consumers.emplace_back([&, c] {
      int last_of[kProducers];
      std::fill(std::begin(last_of), std::end(last_of), -1);
      while (auto v = q.pop()) {
        // Items of one producer come out in the order it pushed them.
        const int p = *v / kPerProducer;
        EXPECT_GT(*v, last_of[p]);
        last_of[p] = *v;
        got[c].push_back(*v);
      }
    });
  for (auto& t : producers) t.join();
  q.close();
  for (auto& t : consumers) t.join();
  std::multiset<int> all;
  for (auto& g : got) all.insert(g.begin(), g.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(kProducers * kPerProducer));
  int expected = 0;
  for (int v : all) EXPECT_EQ(v, expected++);
  EXPECT_LE(q.stats().max_depth, 8u);
}

TEST(BoundedQueue, MoveOnlyItems) {
  BoundedQueue<std::unique_ptr<int>> q(2);
  q.push(std::make_unique<int>(5));
  auto v = q.pop();
  ASSERT_TRUE(v && *v);
  EXPECT_EQ(**v, 5);
}
