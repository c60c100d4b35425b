#include "service/service.h"

#include <atomic>
#include <csignal>
#include <thread>

#include <fmt/format.h>
#include <pthread.h>
#include <unistd.h>

#include "runtime/inventory.h"
#include "runtime/inventory_lock.h"
#include "service/api.h"
#include "service/farm_reconciler.h"
#include "service/farm_source_cache.h"
#include "service/http_server.h"
#include "service/json_log.h"
#include "service/metrics.h"
#include "service/reconcile_loop.h"

namespace farmctl::service {
namespace {

// SIGTERM and SIGINT are blocked in every thread and taken by one waiting
// thread, so a signal never interrupts SQLite or a driver mid-call.
class SignalWatcher {
 public:
  template <class OnStop>
  explicit SignalWatcher(OnStop on_stop) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set_, &previous_);
    thread_ = std::thread([this, on_stop] {
      timespec tick{0, 200'000'000};
      while (!done_) {
        int sig = sigtimedwait(&set_, nullptr, &tick);
        if (sig == SIGTERM || sig == SIGINT) {
          on_stop(sig);
          // A second signal ends the process at once, as `farmctl apply` does.
          int again;
          while (!done_) {
            again = sigtimedwait(&set_, nullptr, &tick);
            if (again == SIGTERM || again == SIGINT) _exit(128 + again);
          }
        }
      }
    });
  }
  ~SignalWatcher() {
    done_ = true;
    thread_.join();
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }

 private:
  sigset_t set_{}, previous_{};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace

int run_service(const ServeConfig& config, std::ostream& log_stream) {
  JsonLog log(log_stream);
  // One service per inventory: two would both carry out work orders (safely,
  // but each would hold the other's applies up). Released when we die.
  std::optional<runtime::InventoryLock> service_lock;
  try {
    service_lock.emplace(config.db_path + ".serve", "farmctl serve", std::chrono::milliseconds(0));
  } catch (const runtime::LockBusy& busy) {
    throw std::runtime_error(fmt::format("another farmctl serve (pid {}) uses the inventory {}", busy.holder().pid,
                                         config.db_path));
  }
  runtime::Inventory inventory(config.db_path);
  auto [host, port] = parse_listen_address(config.listen);

  std::atomic<bool> stop{false};
  Metrics metrics;
  FarmSourceCache cache;
  InventoryReconciler reconciler(inventory, log, metrics, stop, ReconcilerOptions{std::chrono::milliseconds(2000),
                                                                                    config.parallelism});
  LoopOptions loop_options;
  loop_options.interval = config.interval;
  loop_options.poll = std::min(config.interval, std::chrono::milliseconds(250));
  loop_options.backoff = config.backoff;
  loop_options.order_attempts = config.order_attempts;
  loop_options.farms_dir = config.farms_dir;
  ReconcileLoop loop(inventory, reconciler, cache, log, metrics, loop_options, stop);
  std::unique_ptr<reconcile::Clock> clock = reconcile::clock_from_environment();
  InventoryBackups backups(inventory, log, metrics, *clock, stop, std::chrono::milliseconds(2000), config.parallelism);
  loop.set_backups(&backups);
  Api api(config.db_path, cache, metrics, log, [&loop] { loop.wake(); });
  HttpServer http(api, log, config.http_threads);

  SignalWatcher signals([&](int sig) {
    log.info("service.stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    stop = true;
    loop.wake();
  });
  int bound = http.bind(host, port);
  log.info("service.listening", {{"address", fmt::format("{}:{}", host, bound)},
                                 {"inventory", config.db_path},
                                 {"pid", static_cast<long>(getpid())}});
  std::thread http_thread([&http] { http.serve(); });
  loop.run();
  http.stop();
  http_thread.join();
  log.info("service.stopped");
  return 0;
}

}  // namespace farmctl::service
