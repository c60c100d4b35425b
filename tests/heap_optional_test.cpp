// HeapOptional: what Effect relies on from std::optional — empty by default,
// set from a value, deep copies, reset by nullopt.
#include "reconciler/heap_optional.h"

#include <catch2/catch.hpp>

#include <string>

namespace farmctl::reconcile {

TEST_CASE("HeapOptional behaves as std::optional for the Effect's rare parts", "[action]") {
  HeapOptional<std::string> empty;
  CHECK_FALSE(empty);
  CHECK_FALSE(empty.has_value());

  HeapOptional<std::string> a = std::string("slice");
  REQUIRE(a);
  CHECK(*a == "slice");
  CHECK(a->size() == 5);

  HeapOptional<std::string> copy = a;  // a copy of its own, not a shared value
  *copy = "other";
  CHECK(*a == "slice");
  CHECK(*copy == "other");

  copy = a;
  CHECK(*copy == "slice");
  copy = std::nullopt;
  CHECK_FALSE(copy);
  copy = empty;
  CHECK_FALSE(copy);

  HeapOptional<std::string> moved = std::move(a);
  CHECK(*moved == "slice");
  moved.reset();
  CHECK_FALSE(moved);
}

}  // namespace farmctl::reconcile
