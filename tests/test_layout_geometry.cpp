// Page coordinates <-> DocTags location tokens (docling-core's rule, both ways).
#include <gtest/gtest.h>

#include <cmath>

#include "core/geometry.h"

using namespace docling;

TEST(Geometry, RoundHalfEvenIsPythonRound) {
  EXPECT_EQ(round_half_even(0.5), 0.0);
  EXPECT_EQ(round_half_even(1.5), 2.0);
  EXPECT_EQ(round_half_even(2.5), 2.0);
  EXPECT_EQ(round_half_even(3.5), 4.0);
  EXPECT_EQ(round_half_even(2.4999), 2.0);
  EXPECT_EQ(round_half_even(2.5001), 3.0);
  EXPECT_EQ(round_half_even(-1.5), -2.0);
  EXPECT_EQ(round_half_even(-2.5), -2.0);
}

TEST(Geometry, WriterScalesRoundsAndClamps) {
  // On a 1000-wide page, x = 1, 5, 7 give 500*x/1000 = 0.5, 2.5, 3.5 exactly.
  BoundingBox b{1, 5, 7, 1000, CoordOrigin::TopLeft};
  EXPECT_EQ(to_loc(b, 1000, 1000), (LocBox{0, 2, 4, 499}));
  // The full page maps to 0..499 (1.0 -> 500 is clamped), outside boxes clamp too.
  EXPECT_EQ(to_loc({0, 0, 612, 792, CoordOrigin::TopLeft}, 612, 792), (LocBox{0, 0, 499, 499}));
  EXPECT_EQ(to_loc({-20, -5, 700, 900, CoordOrigin::TopLeft}, 612, 792), (LocBox{0, 0, 499, 499}));
  // Middle of a Letter page.
  EXPECT_EQ(to_loc({306, 396, 306, 396, CoordOrigin::TopLeft}, 612, 792), (LocBox{250, 250, 250, 250}));
}

TEST(Geometry, WriterOrdersCornersAndFlipsBottomLeft) {
  // Swapped corners come out as min/max.
  EXPECT_EQ(to_loc({600, 700, 100, 50, CoordOrigin::TopLeft}, 1000, 1000), (LocBox{50, 25, 300, 350}));
  // BOTTOMLEFT: t is measured from the bottom. A box 100..200 pt from the top of a
  // 1000 pt page is t=900, b=800 in BOTTOMLEFT.
  BoundingBox bl{100, 900, 300, 800, CoordOrigin::BottomLeft};
  EXPECT_EQ(to_loc(bl, 1000, 1000), (LocBox{50, 50, 150, 100}));
  EXPECT_EQ(to_loc(bl, 1000, 1000), to_loc(bl.to_top_left(1000), 1000, 1000));
}

TEST(Geometry, ReaderUsesDoclingOperationOrder) {
  BoundingBox b = from_loc({33, 0, 499, 500}, 2040, 1000);
  EXPECT_EQ(b.l, 134.64000000000001);  // (33 / 500.0) * 2040, not 33 * 2040 / 500
  EXPECT_EQ(b.l, (33 / 500.0) * 2040);
  EXPECT_EQ(b.t, 0.0);
  EXPECT_EQ(b.r, 0.998 * 2040);
  EXPECT_EQ(b.b, 1000.0);  // <loc_500> is not clamped by the reader
  EXPECT_EQ(b.origin, CoordOrigin::TopLeft);
}

TEST(Geometry, RoundTripEveryToken) {
  for (double w : {612.0, 595.2, 841.92, 1224.0})
    for (int n = 0; n < kLocGrid; ++n) {
      LocBox loc{n, n, n, n};
      BoundingBox b = from_loc(loc, w, w * 1.3);
      ASSERT_EQ(to_loc(b, w, w * 1.3), loc) << "token " << n << " width " << w;
    }
}

TEST(Geometry, TokenString) {
  EXPECT_EQ(loc_tokens({1, 22, 333, 499}), "<loc_1><loc_22><loc_333><loc_499>");
  EXPECT_EQ(loc_token_value(std::nan("")), 0);
}
