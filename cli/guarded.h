#pragma once
// Runs a command, turning the errors every command may meet into one line
// ("farmctl: error: ...") and exit code 1. Shared by farmctl and
// farmctl-serve.
#include <exception>
#include <iostream>

namespace farmctl::cli {

template <class Fn>
void guarded(int& code, Fn&& fn) {
  try {
    code = fn();
  } catch (const std::exception& e) {
    std::cerr << "farmctl: error: " << e.what() << "\n";
    code = 1;
  }
}

}  // namespace farmctl::cli
