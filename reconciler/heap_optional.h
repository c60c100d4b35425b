#pragma once
// HeapOptional<T>: std::optional's interface, with the value kept on the
// heap. For the parts of an Effect that few actions have (a new slice, a
// zone, backups, NPIV ports): inline, each of a large plan's 90,000 actions
// carried 800 bytes of them, and the plan's page faults and copies followed.
#include <memory>
#include <optional>
#include <utility>

namespace farmctl::reconcile {

template <class T>
class HeapOptional {
 public:
  HeapOptional() = default;
  HeapOptional(std::nullopt_t) {}  // NOLINT: as std::optional
  HeapOptional(const T& value) : value_(std::make_unique<T>(value)) {}  // NOLINT: as std::optional
  HeapOptional(T&& value) : value_(std::make_unique<T>(std::move(value))) {}  // NOLINT: as std::optional
  HeapOptional(const HeapOptional& other) : value_(other ? std::make_unique<T>(*other) : nullptr) {}
  HeapOptional(HeapOptional&&) noexcept = default;
  HeapOptional& operator=(const HeapOptional& other) {
    if (this != &other) value_ = other ? std::make_unique<T>(*other) : nullptr;
    return *this;
  }
  HeapOptional& operator=(HeapOptional&&) noexcept = default;
  HeapOptional& operator=(std::nullopt_t) {
    value_.reset();
    return *this;
  }
  HeapOptional& operator=(const T& value) {
    value_ = std::make_unique<T>(value);
    return *this;
  }
  HeapOptional& operator=(T&& value) {
    value_ = std::make_unique<T>(std::move(value));
    return *this;
  }

  bool has_value() const { return value_ != nullptr; }
  explicit operator bool() const { return has_value(); }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return value_.get(); }
  const T* operator->() const { return value_.get(); }
  void reset() { value_.reset(); }

 private:
  std::unique_ptr<T> value_;
};

}  // namespace farmctl::reconcile
