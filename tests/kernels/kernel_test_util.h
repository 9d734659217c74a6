// Test helpers for the kernels harness: host planes with guard bytes (row padding and a tail
// after the last row, filled with a position-dependent pattern and checked untouched after
// every operation), random frames of every layout, and device mirrors for the CUDA backend.
#pragma once

#include "kernels/half.h"
#include "kernels/image_view.h"
#include "kernels/pixel_format.h"

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace upscaled::kernels::test {

inline std::uint8_t guard_byte(std::size_t i) {
  return static_cast<std::uint8_t>((i * 131u + 7u) & 0xffu);
}

// One pitched plane: rows of `row_bytes` payload, `pitch` >= row_bytes + 1 (so every row has
// guard bytes), plus kTail guard bytes after the last row.
class Guarded {
 public:
  static constexpr std::size_t kTail = 64;
  Guarded() = default;
  Guarded(std::size_t row_bytes, int rows, int extra, std::size_t align) : row_bytes_(row_bytes), rows_(rows) {
    std::size_t p = row_bytes + static_cast<std::size_t>(extra < 1 ? 1 : extra);
    p = (p + align - 1) / align * align;
    pitch_ = static_cast<std::ptrdiff_t>(p);
    bytes_.resize(p * static_cast<std::size_t>(rows) + kTail);
    for (std::size_t i = 0; i < bytes_.size(); ++i) bytes_[i] = guard_byte(i);
  }
  std::uint8_t* data() { return bytes_.data(); }
  const std::uint8_t* data() const { return bytes_.data(); }
  std::size_t size() const { return bytes_.size(); }
  std::ptrdiff_t pitch() const { return pitch_; }
  int rows() const { return rows_; }
  std::size_t row_bytes() const { return row_bytes_; }
  std::uint8_t* row(int y) { return bytes_.data() + y * pitch_; }
  const std::uint8_t* row(int y) const { return bytes_.data() + y * pitch_; }

  // Empty string when every byte outside the payload still holds its pattern.
  std::string check_guards(const std::string& name) const {
    const auto p = static_cast<std::size_t>(pitch_);
    auto bad = [&](std::size_t i) {
      return name + ": guard byte overwritten at row " + std::to_string(i / p) + " byte " + std::to_string(i % p);
    };
    for (std::size_t y = 0; y < static_cast<std::size_t>(rows_); ++y)
      for (std::size_t i = y * p + row_bytes_; i < (y + 1) * p; ++i)
        if (bytes_[i] != guard_byte(i)) return bad(i);
    for (std::size_t i = p * static_cast<std::size_t>(rows_); i < bytes_.size(); ++i)
      if (bytes_[i] != guard_byte(i)) return bad(i);
    return {};
  }

  template <typename T>
  PlaneView<T> view(int width) {
    return {reinterpret_cast<T*>(bytes_.data()), width, rows_, pitch_};
  }

 private:
  std::vector<std::uint8_t> bytes_;
  std::size_t row_bytes_ = 0;
  int rows_ = 0;
  std::ptrdiff_t pitch_ = 0;
};

// A picture of any layout in guarded host planes.
struct HostFrame {
  PixelLayout layout{};
  int width = 0, height = 0;
  Guarded planes[3];

  // align: pitch multiple (0: the sample size, so that most rows are misaligned for vector
  // accesses; 64: every row aligned, the kernels' vector paths throughout).
  HostFrame(PixelLayout l, int w, int h, int extra = 7, std::size_t align = 0) : layout(l), width(w), height(h) {
    const LayoutInfo li = layout_info(l);
    for (int p = 0; p < li.planes; ++p) {
      const PlaneSize ps = plane_size(l, w, h, p);
      planes[p] = Guarded(static_cast<std::size_t>(ps.row_bytes), ps.height, extra + 5 * p,
                          align ? align : static_cast<std::size_t>(li.bytes));
    }
  }
  int plane_count() const { return layout_info(layout).planes; }
  FrameView view() const {
    FrameView f{layout, width, height, {}, {}};
    for (int p = 0; p < plane_count(); ++p) {
      f.data[p] = planes[p].data();
      f.pitch[p] = planes[p].pitch();
    }
    return f;
  }
  MutableFrameView mview() {
    MutableFrameView f{layout, width, height, {}, {}};
    for (int p = 0; p < plane_count(); ++p) {
      f.data[p] = planes[p].data();
      f.pitch[p] = planes[p].pitch();
    }
    return f;
  }
  // Random valid samples (10-bit values stay within 10 bits; p010 keeps low bits zero).
  void randomize(std::mt19937& rng) {
    const LayoutInfo li = layout_info(layout);
    std::uniform_int_distribution<int> d(0, (1 << li.bits) - 1);
    for (int p = 0; p < plane_count(); ++p)
      for (int y = 0; y < planes[p].rows(); ++y) {
        std::uint8_t* row = planes[p].row(y);
        const std::size_t n = planes[p].row_bytes() / static_cast<std::size_t>(li.bytes);
        for (std::size_t i = 0; i < n; ++i) {
          if (li.bytes == 1) {
            row[i] = static_cast<std::uint8_t>(d(rng));
          } else {
            const auto v = static_cast<std::uint16_t>(d(rng) << li.msb_shift);
            std::memcpy(row + 2 * i, &v, 2);
          }
        }
      }
  }
  // Sample `i` of row y of plane p (element units).
  int sample(int p, int y, int i) const {
    const LayoutInfo li = layout_info(layout);
    if (li.bytes == 1) return planes[p].row(y)[i];
    std::uint16_t v;
    std::memcpy(&v, planes[p].row(y) + 2 * i, 2);
    return v;
  }
  std::string check_guards() const {
    for (int p = 0; p < plane_count(); ++p) {
      std::string e = planes[p].check_guards(std::string(layout_name(layout)) + " plane " + std::to_string(p));
      if (!e.empty()) return e;
    }
    return {};
  }
};

// Planar RGB in guarded host planes.
template <typename T>
struct HostRgb {
  int width = 0, height = 0;
  Guarded planes[3];
  HostRgb(int w, int h, int extra = 3, std::size_t align = 0) : width(w), height(h) {
    for (int c = 0; c < 3; ++c)
      planes[c] = Guarded(static_cast<std::size_t>(w) * sizeof(T), h, extra + 4 * c, align ? align : sizeof(T));
  }
  RgbPlanes<T> view() { return {planes[0].view<T>(width), planes[1].view<T>(width), planes[2].view<T>(width)}; }
  RgbPlanes<const T> cview() { return view().as_const(); }
  T& at(int c, int x, int y) { return planes[c].view<T>(width).row(y)[x]; }
  std::string check_guards() const {
    for (int c = 0; c < 3; ++c) {
      std::string e = planes[c].check_guards("rgb plane " + std::to_string(c));
      if (!e.empty()) return e;
    }
    return {};
  }
};

inline float value_of(float v) {
  return v;
}
inline float value_of(Half v) {
  return half_to_float(v);
}
inline void set_value(float& d, float v) {
  d = v;
}
inline void set_value(Half& d, float v) {
  d = float_to_half(v);
}

// Uniform random RGB in [lo, hi] (values outside [0, 1] exercise clamping).
template <typename T>
void randomize_rgb(HostRgb<T>& rgb, std::mt19937& rng, float lo = 0.f, float hi = 1.f) {
  std::uniform_real_distribution<float> d(lo, hi);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < rgb.height; ++y)
      for (int x = 0; x < rgb.width; ++x) set_value(rgb.at(c, x, y), d(rng));
}

}  // namespace upscaled::kernels::test
