// kernels/half.h: the host float16 conversions used to prepare and check GPU float16 planes.
// Oracle: GCC's _Float16 (IEEE binary16, round to nearest even) where the compiler has it,
// plus an exhaustive round trip over all 65536 bit patterns.
#include "kernels/half.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

namespace upscaled::kernels {
namespace {

TEST(Half, EveryHalfRoundTripsThroughFloat) {
  for (std::uint32_t b = 0; b < 65536; ++b) {
    const Half h{static_cast<std::uint16_t>(b)};
    const float f = half_to_float(h);
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(half_to_float(float_to_half(f)))) << b;
      continue;
    }
    ASSERT_EQ(float_to_half(f).bits, h.bits) << "bits " << b << " value " << f;
  }
}

TEST(Half, KnownValues) {
  EXPECT_EQ(float_to_half(1.f).bits, 0x3c00);
  EXPECT_EQ(float_to_half(-2.f).bits, 0xc000);
  EXPECT_EQ(float_to_half(65504.f).bits, 0x7bff);
  EXPECT_EQ(float_to_half(65520.f).bits, 0x7c00);                         // rounds to +inf
  EXPECT_EQ(float_to_half(std::ldexp(1.f, -24)).bits, 0x0001);            // smallest subnormal
  EXPECT_EQ(float_to_half(std::ldexp(1.f, -25)).bits, 0x0000);            // tie to even: 0
  EXPECT_EQ(float_to_half(1.f + std::ldexp(1.f, -11)).bits, 0x3c00);      // tie to even (down)
  EXPECT_EQ(float_to_half(1.f + 3 * std::ldexp(1.f, -11)).bits, 0x3c02);  // tie to even (up)
  EXPECT_EQ(half_to_float(Half{0x3555}), 0.333251953125f);
}

#if defined(__FLT16_MAX__)
TEST(Half, MatchesCompilerFloat16OnRandomFloats) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<std::uint32_t> bits;
  for (int i = 0; i < 200000; ++i) {
    std::uint32_t u = bits(rng);
    // Bias towards the half range: exponents around 2^-26 .. 2^17.
    u = (u & 0x807fffffu) | ((100u + (u >> 23) % 45u) << 23);
    float f;
    std::memcpy(&f, &u, 4);
    const _Float16 ref = static_cast<_Float16>(f);
    std::uint16_t rb;
    std::memcpy(&rb, &ref, 2);
    ASSERT_EQ(float_to_half(f).bits, rb) << f;
  }
}
#endif

}  // namespace
}  // namespace upscaled::kernels
