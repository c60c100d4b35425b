#pragma once
// Frees an object on a background thread. A planner of a 10,000-server farm
// holds hundreds of thousands of small allocations (tables of what the
// devices showed and what the inventory holds) that take tens of
// milliseconds to free; the command can spend them printing its result.
// One thread frees, in the order given; what is still queued when the
// process exits is not freed at all (the system takes the memory back), so
// this is only for objects whose destructors touch nothing but memory they
// own: no files, database handles or locks, no references they read from.
#include <functional>
#include <memory>

namespace farmctl::runtime {

void dispose_on_background_thread(std::function<void()> free);

template <class T>
void dispose_later(std::unique_ptr<T> object) {
  if (!object) return;
  dispose_on_background_thread([held = std::shared_ptr<T>(std::move(object))]() mutable { held.reset(); });
}

}  // namespace farmctl::runtime
