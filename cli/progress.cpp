#include "cli/progress.h"

#include <chrono>
#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "compiler/json_writer.h"

namespace farmctl::cli {
namespace {

using Clock = std::chrono::steady_clock;

class Progress : public reconcile::ApplyEvents {
 public:
  Progress(ProgressStyle style, int total) : style_(style), total_(total), start_(Clock::now()) {}
  ~Progress() override {
    if (style_ == ProgressStyle::live && drawn_) std::fputs("\n", stdout);
  }

  void started(const reconcile::Action& a) override {
    ++running_;
    if (style_ == ProgressStyle::json) event("started", a, no_extra);
    if (style_ == ProgressStyle::live) draw();
  }

  void finished(const reconcile::Action& a, const runtime::ActionOutcome& outcome, int attempts) override {
    --running_;
    ++finished_;
    if (!outcome.ok()) ++failed_;
    std::string retries = attempts > 1 ? fmt::format(" after {} attempts", attempts) : "";
    switch (style_) {
      case ProgressStyle::json:
        event(outcome.ok() ? "done" : "failed", a, [&](json::Writer& w) {
          w.field("attempts", attempts);
          w.field("message", outcome.message);
        });
        break;
      case ProgressStyle::lines:
        if (outcome.ok())
          fmt::print("[{}/{}] {} {}: done{} ({} ms)\n", finished_, total_, runtime::to_string(a.op), a.detail, retries,
                     elapsed_ms());
        else
          fmt::print("[{}/{}] {} {}: FAILED{}: {}\n", finished_, total_, runtime::to_string(a.op), a.detail, retries,
                     outcome.message);
        break;
      case ProgressStyle::live:
        if (!outcome.ok()) {
          clear();
          fmt::print("FAILED {} {}{}: {}\n", runtime::to_string(a.op), a.detail, retries, outcome.message);
        }
        draw();
        break;
    }
  }

  // Lines and JSON events are flushed once per commit: one write for the lot
  // instead of one per action. The live line flushes as it draws.
  void reported() override {
    if (style_ != ProgressStyle::live) std::fflush(stdout);
  }

  void skipped(const reconcile::Action& a, int because_of) override {
    ++finished_;
    ++skipped_;
    if (style_ == ProgressStyle::json) event("skipped", a, [&](json::Writer& w) { w.field("because_of", because_of); });
    if (style_ == ProgressStyle::lines)
      fmt::print("[{}/{}] {} {}: skipped (depends on failed action {})\n", finished_, total_, runtime::to_string(a.op),
                 a.detail, because_of);
    if (style_ == ProgressStyle::live) draw();
  }

  void rolling_back(int compensations) override {
    total_ += compensations;
    if (style_ == ProgressStyle::json) {
      std::puts(nlohmann::json{{"event", "rollback"}, {"compensations", compensations}}.dump().c_str());
    } else {
      clear();
      fmt::print("rolling back the failed units: {} compensating actions\n", compensations);
    }
    std::fflush(stdout);
  }

 private:
  long long elapsed_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start_).count();
  }

  // One line of JSON per event, streamed (two events per action run); the
  // fields in the order they always had, `extra` adding the event's own.
  template <class Extra>
  void event(std::string_view kind, const reconcile::Action& a, const Extra& extra) {
    std::string& line = line_;  // one buffer for every line: no allocation per event
    line.clear();
    json::Writer w(line, json::Writer::Layout::compact);
    w.begin_object();
    w.field("event", kind);
    w.field("id", a.id);
    w.field("op", runtime::to_string(a.op));
    w.field("volume", a.volume);
    w.field("server", a.server);
    w.field("device", a.device);
    w.field("detail", a.detail);
    w.field("elapsed_ms", static_cast<std::int64_t>(elapsed_ms()));
    extra(w);
    w.end_object();
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stdout);
  }
  static void no_extra(json::Writer&) {}

  void clear() {
    if (style_ == ProgressStyle::live && drawn_) std::fputs("\r\033[2K", stdout);
  }

  void draw() {
    auto now = Clock::now();
    if (drawn_ && finished_ < total_ && now - last_draw_ < std::chrono::milliseconds(50)) return;
    last_draw_ = now;
    drawn_ = true;
    int width = 30;
    int filled = total_ > 0 ? finished_ * width / total_ : width;
    fmt::print("\r\033[2K[{}{}] {}/{} done, {} running, {} failed, {} skipped, {:.1f}s", std::string(filled, '#'),
               std::string(width - filled, '.'), finished_, total_, running_, failed_, skipped_, elapsed_ms() / 1000.0);
    std::fflush(stdout);
  }

  ProgressStyle style_;
  int total_;
  int running_ = 0, finished_ = 0, failed_ = 0, skipped_ = 0;
  Clock::time_point start_;
  Clock::time_point last_draw_{};
  bool drawn_ = false;
  std::string line_;  // the JSON event being written
};

}  // namespace

std::unique_ptr<reconcile::ApplyEvents> make_progress(ProgressStyle style, int total) {
  return std::make_unique<Progress>(style, total);
}

}  // namespace farmctl::cli
