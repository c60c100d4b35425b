// The sim driver: the Driver interface over a SimStore, with latency and
// fault injection. This file's external interface is make_sim_driver and the
// test tools of sim_driver.h; the SimDriver class is private.
//
// Threads: run() and discover() may be called from many threads at once. One
// mutex serializes the store (one SQLite connection); the simulated latency
// is slept outside it, so actions on different devices overlap in time.
// run(): actions that arrive while the store is busy are stored together,
// in one transaction (StoreGroupCommit), and a device acknowledges an action
// only once it is committed. run_unsynced(): the action goes into the
// store's open transaction and is acknowledged at once; sync() commits it
// (docs/design/driver-interface.md).
#include "runtime/sim_driver.h"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "runtime/sim_faults.h"
#include "runtime/sim_store.h"

namespace farmctl::runtime {
namespace {

constexpr int kDefaultConcurrency = 4;
constexpr int kCrashExitCode = 137;  // what a shell reports for a process killed by SIGKILL

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

std::string attribute(const DeviceConfig& device, const std::string& key) {
  auto it = device.attributes.find(key);
  return it == device.attributes.end() ? std::string() : it->second;
}

// Group commit for the store: a caller queues its action; whoever finds no
// batch under way takes every queued action and stores them in one
// transaction, while later callers queue up for the next batch. Each caller
// returns only when the batch holding its action has committed.
class StoreGroupCommit {
 public:
  StoreGroupCommit(SimStore& store, std::mutex& store_mutex) : store_(store), store_mutex_(store_mutex) {}

  ActionOutcome apply(const DeviceAction& action, const std::optional<ActionOutcome>& injected,
                      std::int64_t started_us) {
    SimStore::Request request{&action, &injected, started_us};
    std::unique_lock lock(mutex_);
    queued_.push_back(&request);
    const std::uint64_t mine = next_batch_;
    idle_.wait(lock, [&] { return committed_ >= mine || !storing_; });
    if (committed_ >= mine) return request.outcome;
    store_queued(lock);
    return request.outcome;
  }

 private:
  // Called with mutex_ held and no batch under way; stores the queue (which
  // holds the caller's own request) and wakes everyone it answered.
  void store_queued(std::unique_lock<std::mutex>& lock) {
    storing_ = true;
    std::vector<SimStore::Request*> batch;
    batch.swap(queued_);
    const std::uint64_t this_batch = next_batch_++;
    lock.unlock();
    {
      std::lock_guard store_lock(store_mutex_);
      store_.apply_batch(batch);
    }
    lock.lock();
    committed_ = this_batch;
    storing_ = false;
    idle_.notify_all();
  }

  SimStore& store_;
  std::mutex& store_mutex_;
  std::mutex mutex_;  // guards what follows
  std::condition_variable idle_;
  std::vector<SimStore::Request*> queued_;
  std::uint64_t next_batch_ = 1;  // the batch that queued_ will become
  std::uint64_t committed_ = 0;   // the last batch stored
  bool storing_ = false;
};

class SimDriver final : public Driver {
 public:
  explicit SimDriver(const DriverContext& context)
      : env_latency_(SimLatency::parse(env("FARMCTL_SIM_LATENCY"), "FARMCTL_SIM_LATENCY")),
        faults_(SimFaults::parse(env("FARMCTL_SIM_FAULTS"))),
        store_(sim_store_path(context.inventory_path)),
        group_commit_(store_, mutex_) {}

  std::string_view family() const override { return "sim"; }

  DeviceState discover(const DeviceConfig& device, const VolumeScope* only) override {
    std::this_thread::sleep_for(latency(device, "discover"));
    std::optional<DeviceState> state;
    {
      std::lock_guard lock(mutex_);
      state = store_.discover(device.name, only);
    }
    if (!state)
      throw DeviceError(fmt::format("sim device {} was never declared; run farmctl inventory import", device.name));
    if (device.kind == DeviceKind::array) state->system = {"FARMCTL", "SIM", device.name};  // translations/sim.ids
    return *std::move(state);
  }

  ActionOutcome run(const DeviceConfig& device, const DeviceAction& requested) override {
    return run_action(device, requested, Durability::on_return);
  }

  ActionOutcome run_unsynced(const DeviceConfig& device, const DeviceAction& requested) override {
    return run_action(device, requested, Durability::on_sync);
  }

  void sync() override {
    ++syncs_waiting_;
    std::unique_lock lock(mutex_);
    --syncs_waiting_;
    store_.sync();
    lock.unlock();
    sync_done_.notify_all();
  }

  void declare(const DeviceConfig& device, const DeviceState& declared) override {
    std::lock_guard lock(mutex_);
    store_.declare(device.name, device.kind, declared);
  }

  void declare_all(const std::vector<DeviceConfig>& devices, const std::function<DeviceState(std::size_t)>& declared,
                   const std::function<bool()>& go_ahead) override {
    std::lock_guard lock(mutex_);
    store_.declare_all(devices, declared, go_ahead);
  }

  int concurrency_limit(const DeviceConfig& device) const override {
    auto text = attribute(device, "concurrency");
    if (text.empty()) return kDefaultConcurrency;
    int value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < 1)
      throw DeviceError(fmt::format("sim device {}: concurrency=\"{}\" is not a positive whole number", device.name,
                                    text));
    return value;
  }

 private:
  enum class Durability { on_return, on_sync };

  ActionOutcome run_action(const DeviceConfig& device, const DeviceAction& requested, Durability durability) {
    const auto started = now_us();
    DeviceAction action = requested;
    if (action.device.empty()) action.device = device.name;

    auto fault = faults_.next(action.op, action.device);
    if (fault.effect == SimFaultEffect::crash) _exit(kCrashExitCode);  // a kill before the device saw the action

    std::optional<ActionOutcome> injected;
    std::chrono::microseconds delay{0};
    try {
      delay = latency(device, to_string(action.op));
    } catch (const DeviceError& e) {
      injected = ActionOutcome::permanent(e.what());
    }
    if (fault.effect == SimFaultEffect::transient || fault.effect == SimFaultEffect::permanent) {
      auto message = fmt::format("injected {} fault: {} {} on {} (FARMCTL_SIM_FAULTS rule '{}')",
                                 fault.effect == SimFaultEffect::transient ? "transient" : "permanent",
                                 to_string(action.op), action.volume.empty() ? action.initiator : action.volume,
                                 action.device, fault.rule);
      injected = fault.effect == SimFaultEffect::transient ? ActionOutcome::transient(std::move(message))
                                                           : ActionOutcome::permanent(std::move(message));
    }
    std::this_thread::sleep_for(delay);

    ActionOutcome outcome = durability == Durability::on_return ? group_commit_.apply(action, injected, started)
                                                                 : store_unsynced(action, injected, started);
    if (fault.effect == SimFaultEffect::crash_after) {  // applied and logged, then killed
      if (durability == Durability::on_sync) sync();
      _exit(kCrashExitCode);
    }
    return outcome;
  }

  // Stored in the store's open transaction, which sync() commits (Driver::run_unsynced).
  ActionOutcome store_unsynced(const DeviceAction& action, const std::optional<ActionOutcome>& injected,
                               std::int64_t started_us) {
    SimStore::Request request{&action, &injected, started_us};
    std::unique_lock lock(mutex_);
    // A waiting sync goes first: the journal's thread, which the whole apply
    // waits on, waits on it, and the workers would otherwise keep taking the
    // store from under it.
    sync_done_.wait(lock, [&] { return syncs_waiting_ == 0; });
    store_.apply_unsynced(request);
    return request.outcome;
  }

  // FARMCTL_SIM_LATENCY wins over the device's `latency` attribute for every
  // op it says anything about.
  std::chrono::microseconds latency(const DeviceConfig& device, std::string_view op) const {
    if (auto from_env = env_latency_.lookup(op, device.name)) return *from_env;
    auto text = attribute(device, "latency");
    if (text.empty()) return std::chrono::microseconds(0);
    auto from_attribute = SimLatency::parse(text, "sim device " + device.name + " latency attribute");
    return from_attribute.lookup(op, device.name).value_or(std::chrono::microseconds(0));
  }

  const SimLatency env_latency_;
  const SimFaults faults_;
  std::mutex mutex_;  // guards store_
  std::atomic<int> syncs_waiting_{0};
  std::condition_variable sync_done_;
  SimStore store_;
  StoreGroupCommit group_commit_;
};

}  // namespace

std::unique_ptr<Driver> make_sim_driver(const DriverContext& context) {
  return std::make_unique<SimDriver>(context);
}

std::string sim_store_path(const std::string& inventory_path) {
  if (inventory_path.empty() || inventory_path == ":memory:") return ":memory:";
  return inventory_path + ".sim";
}

std::vector<SimLogEntry> read_sim_log(const std::string& inventory_path) {
  SimStore store(sim_store_path(inventory_path));
  return store.read_log();
}

void sim_tamper(const std::string& inventory_path, std::string_view sql) {
  SimStore store(sim_store_path(inventory_path));
  store.exec(sql);
}

}  // namespace farmctl::runtime
