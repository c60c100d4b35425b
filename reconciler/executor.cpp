#include "reconciler/executor.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <queue>
#include <thread>

namespace farmctl::reconcile {
namespace {

// A device's open intents (DeviceStocks) never run short of this while it
// has ready work. With 32, a zero-latency device finished its stock within a
// millisecond and then idled through the rest of the journal's fsync.
constexpr int kMinStock = 512;
// Nor more than this, however fast it is: the most a crash leaves open.
constexpr int kMaxStock = 8192;

bool stopping(const ExecutorOptions& options) { return options.stop != nullptr && options.stop->load(); }

// Marks the outcome in the graph; returns the actions it skipped.
std::vector<std::size_t> mark(ActionGraph& graph, const Completion& c) {
  if (c.outcome.ok()) {
    graph.mark_done(c.index);
    return {};
  }
  graph.mark_failed(c.index);
  return graph.skipped_by(c.index);
}

// Tells the hooks what an outcome (marked already) did and skipped.
void report(ActionGraph& graph, StepHooks& hooks, const Completion& c, const std::vector<std::size_t>& skipped) {
  hooks.on_finish(graph.action(c.index), c);
  for (std::size_t s : skipped) hooks.on_skip(graph.action(s), graph.action(c.index).id);
}

// Marks the outcome in the graph and reports what it skipped.
void settle(ActionGraph& graph, StepHooks& hooks, const Completion& c) { report(graph, hooks, c, mark(graph, c)); }

// Ready actions not yet started, best first.
class ReadyQueue {
 public:
  explicit ReadyQueue(const ActionGraph& graph) : graph_(graph) {}
  void add(const std::vector<std::size_t>& indices) {
    if (indices.empty()) return;
    items_.insert(items_.end(), indices.begin(), indices.end());
    std::sort(items_.begin(), items_.end(), [&](std::size_t a, std::size_t b) { return graph_.runs_before(a, b); });
  }
  std::vector<std::size_t>& items() { return items_; }
  bool empty() const { return items_.empty(); }

 private:
  const ActionGraph& graph_;
  std::vector<std::size_t> items_;
};

// Ready actions not yet started, one heap per device, best first: a cycle
// takes what each device has room for without looking at the rest (a plan
// of 100,000 actions has most of them ready at the start).
class DeviceReadyQueues {
 public:
  explicit DeviceReadyQueues(const ActionGraph& graph) : graph_(graph) {}

  void add(const std::vector<std::size_t>& indices) {
    for (std::size_t i : indices) {
      auto it = heaps_.find(graph_.action(i).device);
      if (it == heaps_.end()) it = heaps_.emplace(graph_.action(i).device, Heap(Worse{&graph_})).first;
      it->second.push(i);
    }
  }

  // Up to room(device) actions from each device's heap.
  template <class Room>
  std::vector<std::size_t> take(Room room) {
    std::vector<std::size_t> out;
    for (auto& [device, heap] : heaps_) {
      if (heap.empty()) continue;
      for (int n = room(device); n > 0 && !heap.empty(); --n) {
        out.push_back(heap.top());
        heap.pop();
      }
    }
    return out;
  }

 private:
  struct Worse {
    const ActionGraph* graph;
    bool operator()(std::size_t a, std::size_t b) const { return graph->runs_before(b, a); }
  };
  using Heap = std::priority_queue<std::size_t, std::vector<std::size_t>, Worse>;
  const ActionGraph& graph_;
  std::map<std::string, Heap> heaps_;
};

// How many intents each device may have open — journalled, and not yet
// recorded as ended: queued, running, or ended since the last commit. It is
// what a crash leaves recovery to run again, and what keeps a fast device
// from running dry while the journal's commit waits on the disk (its
// workers go on with the stock; the next commit records all they did).
//
// The stock starts at a floor (twice the device's limit, and at least
// kMinStock). A device that ended half its stock or more between two
// stockings has it doubled, up to kMaxStock: the stock, not the journal,
// was setting how much one commit records, and fewer, larger commits write
// the pages their rows share once. A slow device keeps the floor.
class DeviceStocks {
 public:
  // How many more actions `device` may be given now; `floor` is its first stock.
  int room(const std::string& device, int floor) {
    auto [it, added] = stocks_.try_emplace(device);
    Stock& stock = it->second;
    if (added) stock.size = floor;
    if (stock.ended >= stock.size / 2) stock.size = std::max(stock.size, std::min(2 * stock.size, kMaxStock));
    stock.ended = 0;
    return std::max(stock.size - stock.open, 0);
  }
  void journalled(const std::string& device) { ++stocks_[device].open; }
  void ended(const std::string& device) {
    Stock& stock = stocks_[device];
    --stock.open;
    ++stock.ended;
  }

 private:
  struct Stock {
    int size = 0;
    int open = 0;
    int ended = 0;  // since it was last stocked
  };
  std::map<std::string, Stock> stocks_;
};

std::vector<const Action*> actions_of(const ActionGraph& graph, const std::vector<Completion>& completions) {
  std::vector<const Action*> out;
  for (const Completion& c : completions) out.push_back(&graph.action(c.index));
  return out;
}

// Per device: journalled actions waiting for a slot, and how many run. The
// workers start the next action of a device the moment one of its slots
// frees; the scheduler only keeps the queues stocked.
class DeviceQueues {
 public:
  DeviceQueues(const ActionGraph& graph, StepHooks& hooks, int threads) : graph_(graph), hooks_(hooks) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
  }
  ~DeviceQueues() {
    {
      std::lock_guard lock(mutex_);
      closing_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  void set_limit(const std::string& device, int limit) {
    std::lock_guard lock(mutex_);
    auto it = devices_.find(device);
    if (it == devices_.end()) it = devices_.emplace(device, Device(graph_)).first;
    it->second.limit = limit;
  }

  struct Journalled {
    const Action* action;
    std::size_t index;
    std::int64_t entry;
  };

  // Hands the workers actions journalled by one commit, under one lock; wakes
  // a worker per action, but never more than are asleep (a wake-up is a
  // system call, and there are as many actions as the apply has).
  void enqueue(const std::vector<Journalled>& tasks) {
    if (tasks.empty()) return;
    int wake = 0, asleep = 0;
    {
      std::lock_guard lock(mutex_);
      for (const Journalled& t : tasks) {
        auto it = devices_.find(t.action->device);
        if (it == devices_.end()) it = devices_.emplace(t.action->device, Device(graph_)).first;
        it->second.queued.push({t.index, t.action, t.entry, t.action->device});
      }
      asleep = asleep_;
      wake = std::min(static_cast<int>(tasks.size()), asleep);
    }
    if (wake > 0 && wake == asleep) work_cv_.notify_all();
    else
      for (int i = 0; i < wake; ++i) work_cv_.notify_one();
  }

  // Every completion there is; waits for one when `wait` and none is there.
  std::vector<Completion> collect(bool wait) {
    std::unique_lock lock(mutex_);
    if (wait) done_cv_.wait(lock, [&] { return !done_.empty(); });
    std::vector<Completion> out(done_.begin(), done_.end());
    done_.clear();
    return out;
  }

  // Takes back what never started (stop requested).
  std::vector<Completion> withdraw_queued() {
    std::lock_guard lock(mutex_);
    std::vector<Completion> out;
    for (auto& [name, d] : devices_)
      for (; !d.queued.empty(); d.queued.pop()) out.push_back({d.queued.top().index, d.queued.top().entry, {}, 0});
    return out;
  }

 private:
  struct Task {
    std::size_t index;
    const Action* action;
    std::int64_t entry;
    std::string device;
  };
  // Journalled actions wait best first, so the bind a finished allocate made
  // ready overtakes allocates of later units stocked before it.
  struct TaskWorse {
    const ActionGraph* graph;
    bool operator()(const Task& a, const Task& b) const { return graph->runs_before(b.index, a.index); }
  };
  struct Device {
    explicit Device(const ActionGraph& graph) : queued(TaskWorse{&graph}) {}
    std::priority_queue<Task, std::vector<Task>, TaskWorse> queued;
    int running = 0;
    int limit = 1;
  };

  // A task whose device has a free slot, in the order devices were stocked.
  bool take(Task& task) {
    for (auto& [name, d] : devices_)
      if (!d.queued.empty() && d.running < d.limit) {
        task = d.queued.top();
        d.queued.pop();
        ++d.running;
        return true;
      }
    return false;
  }

  void work() {
    for (;;) {
      Task task{0, nullptr, 0, {}};
      {
        std::unique_lock lock(mutex_);
        ++asleep_;
        work_cv_.wait(lock, [&] { return closing_ || take(task); });
        --asleep_;
        if (closing_ && task.action == nullptr) return;
      }
      Completion c{task.index, task.entry, {}, 0};
      c.outcome = hooks_.call(*task.action, c.attempts);
      {
        std::lock_guard lock(mutex_);
        --devices_.at(task.device).running;
        done_.push_back(std::move(c));
      }
      // No other worker is woken: this one looks for the next task itself
      // (the slot it freed is the only new room).
      done_cv_.notify_one();
    }
  }

  const ActionGraph& graph_;
  StepHooks& hooks_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable work_cv_, done_cv_;
  std::map<std::string, Device> devices_;
  std::deque<Completion> done_;
  bool closing_ = false;
  int asleep_ = 0;  // workers waiting for a task
};

}  // namespace

void run_serial(ActionGraph& graph, StepHooks& hooks, const ExecutorOptions& options) {
  ReadyQueue queue(graph);
  queue.add(graph.take_ready());
  while (!queue.empty() && !stopping(options)) {
    std::size_t i = queue.items().front();
    queue.items().erase(queue.items().begin());
    const Action* a = &graph.action(i);
    hooks.on_start(*a);
    std::int64_t entry = hooks.commit({}, {}, {a}).front();
    Completion c{i, entry, {}, 0};
    c.outcome = hooks.call(*a, c.attempts);
    hooks.commit({a}, {c}, {});
    settle(graph, hooks, c);
    hooks.on_reported();
    queue.add(graph.take_ready());
  }
}

void run_parallel(ActionGraph& graph, StepHooks& hooks, const ExecutorOptions& options) {
  int parallelism = std::max(1, options.parallelism);
  DeviceQueues devices(graph, hooks, parallelism);
  DeviceReadyQueues queue(graph);
  std::map<std::string, int> limits;
  auto limit_of = [&](const std::string& device) {
    auto it = limits.find(device);
    if (it == limits.end()) {
      it = limits.emplace(device, std::max(1, std::min(parallelism, hooks.device_limit(device)))).first;
      devices.set_limit(device, it->second);
    }
    return it->second;
  };
  DeviceStocks stocks;
  auto room_of = [&](const std::string& device) {
    return stocks.room(device, std::max(2 * limit_of(device), kMinStock));
  };
  int in_flight = 0;  // journalled, not yet completed
  std::vector<Completion> arrived;
  for (;;) {
    // Outcomes are marked before the commit that records them, so the
    // actions they make ready are journalled in that same transaction: one
    // fsync per step along a unit's chain, not two. Nothing of it is
    // reported, or handed to a device, before the commit.
    std::vector<std::vector<std::size_t>> skipped;
    for (const Completion& c : arrived) {
      skipped.push_back(mark(graph, c));
      stocks.ended(graph.action(c.index).device);
    }
    queue.add(graph.take_ready());
    // Stock each device (DeviceStocks): a freed slot finds its next action
    // already journalled.
    std::vector<std::size_t> chosen;
    if (!stopping(options)) chosen = queue.take(room_of);
    for (std::size_t i : chosen) stocks.journalled(graph.action(i).device);
    if (chosen.empty() && in_flight == 0 && arrived.empty()) break;
    if (chosen.empty() && arrived.empty()) {
      arrived = devices.collect(true);
      continue;
    }
    std::vector<const Action*> starting;
    for (std::size_t i : chosen) starting.push_back(&graph.action(i));
    std::vector<std::int64_t> entries = hooks.commit(actions_of(graph, arrived), arrived, starting);
    for (std::size_t k = 0; k < arrived.size(); ++k) report(graph, hooks, arrived[k], skipped[k]);
    std::vector<DeviceQueues::Journalled> journalled;
    journalled.reserve(chosen.size());
    for (std::size_t k = 0; k < chosen.size(); ++k) {
      hooks.on_start(*starting[k]);
      journalled.push_back({starting[k], chosen[k], entries[k]});
    }
    devices.enqueue(journalled);
    hooks.on_reported();
    in_flight += static_cast<int>(chosen.size()) - static_cast<int>(arrived.size());
    arrived = devices.collect(false);
    if (stopping(options)) {
      std::vector<Completion> never = devices.withdraw_queued();
      if (!never.empty()) hooks.cancel(never);
      for (const Completion& c : never) stocks.ended(graph.action(c.index).device);
      in_flight -= static_cast<int>(never.size());
    }
  }
}

}  // namespace farmctl::reconcile
