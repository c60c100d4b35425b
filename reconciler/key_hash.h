#pragma once
// Hashing for the planner's lookup tables, whose keys are tuples of names
// (string_views into discovery and inventory rows that outlive the table)
// and row ids. A plan of a 10,000-server farm looks things up hundreds of
// thousands of times; ordered maps of string tuples made every lookup a
// chain of string compares and every key a heap copy. Tables the planner
// iterates to emit actions stay ordered: their order is the plan's order.
#include <cstddef>
#include <functional>
#include <tuple>
#include <utility>

namespace farmctl::reconcile {

struct KeyHash {
  template <class... T>
  std::size_t operator()(const std::tuple<T...>& key) const {
    return std::apply([](const auto&... part) { return combine(std::hash<std::decay_t<decltype(part)>>{}(part)...); },
                      key);
  }
  template <class A, class B>
  std::size_t operator()(const std::pair<A, B>& key) const {
    return combine(std::hash<A>{}(key.first), std::hash<B>{}(key.second));
  }

 private:
  template <class... H>
  static std::size_t combine(H... hashes) {
    std::size_t seed = 0;
    ((seed ^= hashes + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2)), ...);
    return seed;
  }
};

}  // namespace farmctl::reconcile
