// DeviceMemoryLedger: capacity from the probe or the limit, partial grants between min and
// want, waiting for releases, timeouts as transient device errors, and many threads never
// holding more than the capacity together.
#include "core/device_memory_ledger.h"
#include "core/error.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace upscaled {
namespace {

using namespace std::chrono_literals;
constexpr std::size_t MiB = 1024 * 1024;

DeviceMemoryLedger make(std::size_t free_bytes, int* probes = nullptr) {
  return DeviceMemoryLedger(
      [free_bytes, probes](int) {
        if (probes) ++*probes;
        return free_bytes;
      },
      0.5);
}

TEST(DeviceMemoryLedger, CapacityIsAFractionOfFreeMemoryProbedOncePerDevice) {
  int probes = 0;
  DeviceMemoryLedger ledger = make(1000 * MiB, &probes);
  EXPECT_EQ(ledger.capacity(0), 500 * MiB);
  EXPECT_EQ(ledger.capacity(0), 500 * MiB);
  EXPECT_EQ(probes, 1);
  EXPECT_EQ(ledger.capacity(1), 500 * MiB);
  EXPECT_EQ(probes, 2);
  ledger.set_limit(1, 200 * MiB);
  EXPECT_EQ(ledger.capacity(1), 200 * MiB);
  ledger.set_limit(1, 4000 * MiB);  // a limit above what is free does not create memory
  EXPECT_EQ(ledger.capacity(1), 500 * MiB);
}

TEST(DeviceMemoryLedger, GrantsAsMuchOfWantAsIsFreeButNeverLessThanMin) {
  DeviceMemoryLedger ledger = make(1000 * MiB);  // capacity 500 MiB
  auto a = ledger.try_reserve(0, 100 * MiB, 300 * MiB);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->bytes(), 300 * MiB);
  auto b = ledger.try_reserve(0, 100 * MiB, 300 * MiB);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->bytes(), 200 * MiB);  // what was left
  EXPECT_FALSE(ledger.try_reserve(0, 1, 1));
  EXPECT_EQ(ledger.reserved(0), 500 * MiB);
  a.reset();
  EXPECT_EQ(ledger.reserved(0), 200 * MiB);
  auto c = ledger.try_reserve(0, 50 * MiB, 50 * MiB);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->bytes(), 50 * MiB);
  EXPECT_EQ(ledger.reserved(1), 0u);  // devices are separate
}

TEST(DeviceMemoryLedger, ReservationsMoveAndReleaseOnce) {
  DeviceMemoryLedger ledger = make(200 * MiB);
  DeviceMemoryLedger::Reservation outer;
  {
    auto r = ledger.reserve(0, 60 * MiB, 60 * MiB, 0ms);
    outer = std::move(r);
    EXPECT_FALSE(r);
  }
  EXPECT_EQ(ledger.reserved(0), 60 * MiB);
  outer.release();
  outer.release();
  EXPECT_EQ(ledger.reserved(0), 0u);
}

TEST(DeviceMemoryLedger, ReserveWaitsForAReleaseThenTimesOutAsTransientError) {
  DeviceMemoryLedger ledger = make(200 * MiB);  // capacity 100 MiB
  auto held = ledger.reserve(0, 80 * MiB, 80 * MiB, 0ms);
  std::thread releaser([&] {
    std::this_thread::sleep_for(100ms);
    held.release();
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto got = ledger.reserve(0, 50 * MiB, 90 * MiB, 5000ms);
  releaser.join();
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 90ms);
  EXPECT_EQ(got.bytes(), 90 * MiB);

  try {
    ledger.reserve(0, 50 * MiB, 50 * MiB, 50ms);
    FAIL() << "expected a timeout";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::device);
    EXPECT_TRUE(e.transient());
    EXPECT_NE(std::string(e.what()).find("other jobs hold"), std::string::npos) << e.what();
  }
  try {
    ledger.reserve(0, 500 * MiB, 500 * MiB, 10s);  // can never fit: no waiting
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is usable"), std::string::npos) << e.what();
  }
}

TEST(DeviceMemoryLedger, ConcurrentJobsNeverHoldMoreThanTheCapacity) {
  DeviceMemoryLedger ledger = make(2000 * MiB);  // capacity 1000 MiB
  std::atomic<std::size_t> held{0}, worst{0};
  std::vector<std::thread> jobs;
  for (int j = 0; j < 8; ++j)
    jobs.emplace_back([&, j] {
      for (int round = 0; round < 50; ++round) {
        auto r = ledger.reserve(0, (100 + 10 * j) * MiB, 400 * MiB, 10s);
        const std::size_t now = held += r.bytes();
        std::size_t w = worst.load();
        while (now > w && !worst.compare_exchange_weak(w, now)) {
        }
        std::this_thread::sleep_for(200us);
        held -= r.bytes();
      }
    });
  for (auto& t : jobs) t.join();
  EXPECT_LE(worst.load(), 1000 * MiB);
  EXPECT_GT(worst.load(), 400 * MiB);  // and they did run side by side
  EXPECT_EQ(ledger.reserved(0), 0u);
}

TEST(DeviceMemoryLedger, FormatsBytes) {
  EXPECT_EQ(format_bytes(512 * MiB), "512 MiB");
  EXPECT_EQ(format_bytes(3 * 1024 * MiB / 2), "1.5 GiB");
}

}  // namespace
}  // namespace upscaled
