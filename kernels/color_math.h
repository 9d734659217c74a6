// Colour arithmetic shared by the CPU and CUDA kernels, so that both backends compute the
// same numbers from the same constants: matrix coefficients, code-value normalisation,
// chroma siting filters and the ordered-dither table. Internal to kernels/ (the public entry
// points are in convert.h and grayscale.h).
//
// Conventions (ITU-T H.273): for bit depth n and s = 2^(n-8),
//   limited range: Y' = (Y - 16 s) / (219 s), Cb/Cr = (C - 128 s) / (224 s)
//   full range:    Y' = Y / (2^n - 1),        Cb/Cr = (C - 2^(n-1)) / (2^n - 1)
//   R = Y' + 2(1-Kr) Cr,  B = Y' + 2(1-Kb) Cb,  G = (Y' - Kr R - Kb B) / Kg
#pragma once

#include "kernels/pixel_format.h"

#ifdef __CUDACC__
#define UPSCALED_HD __host__ __device__ __forceinline__
#else
#define UPSCALED_HD inline
#endif

namespace upscaled::kernels::detail {

struct LumaCoeffs {
  float kr, kg, kb;
};

UPSCALED_HD LumaCoeffs luma_coeffs(ColorMatrix m) {
  switch (m) {
    case ColorMatrix::bt601:
      return {0.299f, 0.587f, 0.114f};
    case ColorMatrix::bt709:
      return {0.2126f, 0.7152f, 0.0722f};
    case ColorMatrix::bt2020ncl:
      return {0.2627f, 0.6780f, 0.0593f};
  }
  return {0.2126f, 0.7152f, 0.0722f};
}

// Code value -> normalised value: v' = v * scale + offset (per component class).
struct CodeScale {
  float y_scale, y_offset;  // luma (and RGB components of RGB layouts)
  float c_scale, c_offset;  // chroma, giving a value centred on 0
  float max_code;           // 2^n - 1
};

inline CodeScale code_scale(ColorRange range, int bits, bool rgb) {
  const float max_code = static_cast<float>((1 << bits) - 1);
  const float s = static_cast<float>(1 << (bits - 8));
  CodeScale c{};
  c.max_code = max_code;
  if (rgb || range == ColorRange::full) {
    c.y_scale = 1.f / max_code;
    c.y_offset = 0.f;
    c.c_scale = 1.f / max_code;
    c.c_offset = -static_cast<float>(1 << (bits - 1)) / max_code;
  } else {
    c.y_scale = 1.f / (219.f * s);
    c.y_offset = -16.f / 219.f;
    c.c_scale = 1.f / (224.f * s);
    c.c_offset = -128.f / 224.f;
  }
  return c;
}

// YUV code values -> normalised RGB: rgb = m * (y, u, v) + off. Folding the range
// normalisation into the matrix leaves 9 multiply-adds per pixel.
struct YuvToRgb {
  float m[9];
  float off[3];
};

inline YuvToRgb make_yuv_to_rgb(const ColorSpec& spec, int bits) {
  const LumaCoeffs k = luma_coeffs(spec.matrix);
  const CodeScale cs = code_scale(spec.range, bits, false);
  // Normalised matrix rows for (Y', Cb, Cr).
  const float cr_r = 2.f * (1.f - k.kr), cb_b = 2.f * (1.f - k.kb);
  const float cb_g = -k.kb * cb_b / k.kg, cr_g = -k.kr * cr_r / k.kg;
  const float n[9] = {1.f, 0.f, cr_r, 1.f, cb_g, cr_g, 1.f, cb_b, 0.f};
  YuvToRgb t{};
  for (int r = 0; r < 3; ++r) {
    t.m[r * 3 + 0] = n[r * 3 + 0] * cs.y_scale;
    t.m[r * 3 + 1] = n[r * 3 + 1] * cs.c_scale;
    t.m[r * 3 + 2] = n[r * 3 + 2] * cs.c_scale;
    t.off[r] = n[r * 3 + 0] * cs.y_offset + (n[r * 3 + 1] + n[r * 3 + 2]) * cs.c_offset;
  }
  return t;
}

// Normalised RGB -> YUV code values (before rounding): code = m * rgb + off.
struct RgbToYuv {
  float m[9];
  float off[3];
  float max_code;
};

inline RgbToYuv make_rgb_to_yuv(const ColorSpec& spec, int bits) {
  const LumaCoeffs k = luma_coeffs(spec.matrix);
  const CodeScale cs = code_scale(spec.range, bits, false);
  const float ys = 1.f / cs.y_scale, cscale = 1.f / cs.c_scale;
  const float yo = -cs.y_offset * ys, co = -cs.c_offset * cscale;
  const float db = 1.f / (2.f * (1.f - k.kb)), dr = 1.f / (2.f * (1.f - k.kr));
  const float n[9] = {k.kr,       k.kg,
                      k.kb,  // Y'
                      -k.kr * db, -k.kg * db, (1.f - k.kb) * db, (1.f - k.kr) * dr, -k.kg * dr, -k.kb * dr};
  RgbToYuv t{};
  for (int i = 0; i < 3; ++i) t.m[i] = n[i] * ys;
  for (int i = 3; i < 9; ++i) t.m[i] = n[i] * cscale;
  t.off[0] = yo;
  t.off[1] = co;
  t.off[2] = co;
  t.max_code = cs.max_code;
  return t;
}

// Chroma upsampling: luma coordinate x maps to chroma coordinate (x - offset) / 2^shift,
// offset = luma-space position of chroma sample 0 (0 co-sited, 0.5 centred).
UPSCALED_HD float chroma_offset_x(ChromaSiting s) {
  return s == ChromaSiting::center ? 0.5f : 0.f;
}
UPSCALED_HD float chroma_offset_y(ChromaSiting s) {
  return s == ChromaSiting::topleft ? 0.f : 0.5f;
}

// Linear interpolation position for luma index x: chroma indices i0, i1 (clamped into
// [0, csize)) and weight f of i1.
struct Lerp {
  int i0, i1;
  float f;
};
UPSCALED_HD Lerp chroma_lerp(int x, int shift, float offset, int csize) {
  if (shift == 0) return {x, x, 0.f};
  const float pos = (static_cast<float>(x) - offset) * 0.5f;
  const float fl = pos < 0.f ? -1.f : static_cast<float>(static_cast<int>(pos));
  int i0 = static_cast<int>(fl);
  const float f = pos - fl;
  int i1 = i0 + 1;
  i0 = i0 < 0 ? 0 : (i0 >= csize ? csize - 1 : i0);
  i1 = i1 < 0 ? 0 : (i1 >= csize ? csize - 1 : i1);
  return {i0, i1, f};
}

// Chroma downsampling filter along one axis for output chroma index i: taps at luma
// indices 2i + first .. 2i + first + n - 1. Co-sited: [1 2 1] / 4 centred on 2i; centred:
// [1 1] / 2 over 2i, 2i + 1. No subsampling: the sample itself.
struct DownTaps {
  int n, first;
  float w[3];
};
UPSCALED_HD DownTaps down_taps(int shift, bool centred) {
  if (shift == 0) return {1, 0, {1.f, 0.f, 0.f}};
  if (centred) return {2, 0, {0.5f, 0.5f, 0.f}};
  return {3, -1, {0.25f, 0.5f, 0.25f}};
}

// 8x8 Bayer threshold in (0, 1): added before truncation instead of 0.5 when dithering.
UPSCALED_HD float bayer8(int x, int y) {
  // Bit-reversed interleave of x ^ y and y gives the classic recursive Bayer matrix.
  const int a = x & 7, b = (x ^ y) & 7;
  const int v = ((b & 1) << 5) | ((a & 1) << 4) | ((b & 2) << 2) | ((a & 2) << 1) | ((b & 4) >> 1) | ((a & 4) >> 2);
  return (static_cast<float>(v) + 0.5f) / 64.f;
}

UPSCALED_HD float clamp01(float v) {
  return v < 0.f ? 0.f : (v > 1.f ? 1.f : v);
}

// bayer8's 64 values as a table, index 8 * (y & 7) + (x & 7), for the CUDA kernels' constant
// memory (one broadcast load per lookup instead of the bit arithmetic); same formula.
struct BayerTable {
  float v[64];
};
constexpr BayerTable make_bayer_table() {
  BayerTable t{};
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x) {
      const int a = x, b = x ^ y;
      const int v = ((b & 1) << 5) | ((a & 1) << 4) | ((b & 2) << 2) | ((a & 2) << 1) | ((b & 4) >> 1) | ((a & 4) >> 2);
      t.v[8 * y + x] = (static_cast<float>(v) + 0.5f) / 64.f;
    }
  return t;
}

// Round a code value (with threshold t: 0.5 plain rounding, bayer8() when dithering) and
// clamp into [0, max_code].
UPSCALED_HD int quantise(float code, float t, float max_code) {
  float v = code + t;
  v = v < 0.f ? 0.f : (v > max_code ? max_code : v);
  return static_cast<int>(v);  // truncation of a non-negative value == floor
}

}  // namespace upscaled::kernels::detail
